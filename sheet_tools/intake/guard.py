"""Checks a returned file before any reader touches it: type, size, zip limits, unsafe XML.

Why first and always: a 3 MB workbook whose sheet inflates to 3 GB makes python-calamine abort
the whole Python process (a Rust out-of-memory abort nobody can catch), and a 2 KB workbook with one
cell at A1 and one at XFD1048576 does the same, because calamine lays every sheet out as a dense
grid. So the guard reads the file's bytes once, sniffs the type by magic bytes, checks the zip
directory, then streams every member through its own inflater, counting the bytes that really come
out (never trusting the sizes the headers declare) while it looks for DOCTYPE/ENTITY declarations
and measures each sheet's extent. The reader then works on the very bytes that were checked.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import struct
import zipfile
from io import BytesIO
from pathlib import Path
from typing import Literal

import olefile
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from pydantic import BaseModel, ConfigDict, Field

from ..base.files import sha256_file
from ..problems.report import Issue
from .scan import (
    DEFAULT_LIMITS,
    DIMENSION_TAG,
    Budget,
    Limits,
    OdsExtent,
    Refused,
    SheetExtent,
    dimension_names_row_zero,
    inflate,
    refuse,
    scan_member,
    too_big,
)

Format = Literal["xlsx", "xlsm", "ods", "xls"]


class Guarded(BaseModel):
    """The outcome of guarding one file, and the checked bytes for the reader to use."""

    model_config = ConfigDict(frozen=True)

    issues: list[Issue] = Field(default_factory=list)
    format: Format | None = None
    macro_enabled: bool = False
    sha256: str | None = None
    size: int = 0
    # sheet name -> cells (A1 references) holding a formula; readers see only cached values
    formulas: dict[str, list[str]] = Field(default_factory=dict)
    data: bytes | None = Field(default=None, repr=False, exclude=True)


# --- magic bytes --------------------------------------------------------------------------------
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
# leading bytes -> (not-a-workbook variant, its format parameter)
_OTHER_MAGICS: tuple[tuple[bytes, str, dict[str, str]], ...] = (
    (b"%PDF", "pdf", {}),
    (b"\x89PNG", "image", {"format": "PNG"}),
    (b"\xff\xd8\xff", "image", {"format": "JPEG"}),
    (b"GIF8", "image", {"format": "GIF"}),
    (b"{\\rtf", "rich-text", {}),
    (b"Rar!", "archive", {"format": "RAR"}),
    (b"7z\xbc\xaf", "archive", {"format": "7-Zip"}),
    (b"\x1f\x8b", "archive", {"format": "gzip"}),
)


# BIFF2 to BIFF4 (Excel 2.x to 4.0) files are a bare record stream, not an OLE2 container: a
# BOF record (type 0x0009, 0x0209 or 0x0409) with its length first.
_OLD_BIFF_BOF = (b"\x09\x00", b"\x09\x02", b"\x09\x04")
_OLD_BIFF_VERSIONS = {b"\x09\x00": "2.x", b"\x09\x02": "3.0", b"\x09\x04": "4.0"}
_OPENDOCUMENT_SPREADSHEET = b"application/vnd.oasis.opendocument.spreadsheet"
_XML_SPREADSHEET_2003 = (b"urn:schemas-microsoft-com:office:spreadsheet", b'progid="excel.sheet"')


def _old_excel(head: bytes) -> Refused | None:
    """An Excel 2.x to 4.0 worksheet or workbook, from its first BOF record."""
    if head[:2] not in _OLD_BIFF_BOF or len(head) < 8:
        return None
    (length,) = struct.unpack_from("<H", head, 2)
    if length not in (4, 6, 8, 16):
        return None
    return refuse("unsupported-file", variant="old-excel", version=_OLD_BIFF_VERSIONS[head[:2]])


def _xml_kind(text: bytes) -> Refused:
    """An XML file: a flat OpenDocument spreadsheet, an Excel 2003 XML spreadsheet, or other."""
    if b"office:document" in text and _OPENDOCUMENT_SPREADSHEET in text:
        return refuse("not-a-workbook", variant="fods")
    if any(mark in text for mark in _XML_SPREADSHEET_2003):
        return refuse("not-a-workbook", variant="xml-2003")
    return refuse("not-a-workbook", variant="xml")


def _not_a_workbook(head: bytes) -> Refused:
    """What a file that is not a workbook plainly is, from its leading bytes (never its name)."""
    for magic, variant, params in _OTHER_MAGICS:
        if head.startswith(magic):
            return refuse("not-a-workbook", variant=variant, **params)
    old = _old_excel(head)
    if old is not None:
        return old
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<table")):
        return refuse("not-a-workbook", variant="html")
    if text.startswith(b"<?xml") or text.startswith(b"<office:document"):
        return _xml_kind(text)
    if text.startswith(b"id;p"):
        return refuse("not-a-workbook", variant="sylk")
    if text.startswith(b"table\r\n0,1") or text.startswith(b"table\n0,1"):
        return refuse("not-a-workbook", variant="dif")
    try:
        sample = head.decode("utf-8")
    except UnicodeDecodeError:
        sample = head.decode("latin-1")
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in sample)
    if sample and printable / len(sample) > 0.95:
        csv = any(sep in sample for sep in (",", ";", "\t"))
        return refuse("not-a-workbook", variant="csv" if csv else "text")
    return refuse("not-a-workbook")


# --- OOXML / ODS content types ------------------------------------------------------------------
_CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_SHEET_RELATIONSHIPS = ("/worksheet", "/chartsheet", "/dialogsheet", "/macrosheet", "/xlMacrosheet")
_SHEET_FOLDER = re.compile(r"(^|/)(worksheets|macrosheets|dialogsheets)/")
_OFFICE_DOCUMENT = "/officeDocument"

_SPREADSHEET_TYPES: dict[str, tuple[Format, bool]] = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": ("xlsx", False),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml": (
        "xlsx",
        False,
    ),
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml": ("xlsm", True),
    "application/vnd.ms-excel.template.macroEnabled.main+xml": ("xlsm", True),
    "application/vnd.ms-excel.addin.macroEnabled.main+xml": ("xlsm", True),
}
# main part content type fragment -> (code, variant)
_OTHER_OFFICE_TYPES = {
    "wordprocessingml": ("not-a-workbook", "word"),
    "presentationml": ("not-a-workbook", "powerpoint"),
    "ms-excel.sheet.binary": ("unsupported-file", "xlsb"),
}
_ODS_MIMETYPES = {
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.spreadsheet-template",
}
_VBA_CONTENT_TYPE = "application/vnd.ms-office.vbaProject"
_MACRO_SHEET = re.compile(r"(^|/)macrosheets/[^/]+\.xml$")


def _content_type(types: SafeET.Element, part: str) -> str:
    """A part's content type as a conforming package reader finds it (ECMA-376 Part 2, 10.1.2):
    the Override naming the part, else the Default for its extension; part names and
    extensions compared case-insensitively."""
    wanted = part.lstrip("/").lower()
    for override in types.iter(f"{_CT_NS}Override"):
        if (override.get("PartName") or "").lstrip("/").lower() == wanted:
            return override.get("ContentType", "")
    extension = posixpath.splitext(wanted)[1].lstrip(".")
    for default in types.iter(f"{_CT_NS}Default"):
        if (default.get("Extension") or "").lower() == extension:
            return default.get("ContentType", "")
    return ""


def _numbers_package(infos: list[zipfile.ZipInfo]) -> bool:
    """An Apple Numbers document: a zip of .iwa (protobuf) parts under Index/."""
    return any(
        (info.filename.startswith("Index/") and info.filename.endswith(".iwa"))
        or info.filename == "Index.zip"
        for info in infos
    )


def _parse(xml: bytes | None, part: str) -> SafeET.Element | None:
    if xml is None:
        return None
    try:
        return SafeET.fromstring(xml)
    except (SafeET.ParseError, DefusedXmlException):
        raise refuse("truncated-file", variant="bad-xml", part=part) from None


def _relationships(root: SafeET.Element | None, source: str) -> dict[str, tuple[str, str]]:
    """rId -> (type, resolved part name) for one .rels part."""
    found: dict[str, tuple[str, str]] = {}
    if root is None:
        return found
    base = posixpath.dirname(source)
    for rel in root.iter(f"{_REL_NS}Relationship"):
        if rel.get("TargetMode") == "External":
            continue
        target = rel.get("Target", "")
        part = target.lstrip("/") if target.startswith("/") else posixpath.join(base, target)
        found[rel.get("Id", "")] = (rel.get("Type", ""), posixpath.normpath(part))
    return found


def _rels_name(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _sheet_parts(
    workbook: SafeET.Element, rels: dict[str, tuple[str, str]], infos: list[zipfile.ZipInfo]
) -> dict[str, str]:
    """Zip member -> sheet name, for every part a reader could lay out as a sheet.

    Matched by local names, so that Strict Open XML (other namespaces) is covered too; every
    sheet-type relationship and every member in a sheets folder counts, named or not."""
    parts = {part: part for kind, part in rels.values() if kind.endswith(_SHEET_RELATIONSHIPS)}
    parts |= {i.filename: i.filename for i in infos if _SHEET_FOLDER.search(i.filename.lower())}
    for element in workbook.iter():
        if _local(element.tag) != "sheet":
            continue
        rid = next((v for k, v in element.attrib.items() if _local(k) == "id" and k != "id"), "")
        target = rels.get(rid)
        if target is not None:
            parts[target[1]] = element.get("name") or target[1]
    return parts


def _check_directory(archive: zipfile.ZipFile, limits: Limits) -> list[zipfile.ZipInfo]:
    infos = archive.infolist()
    sheets = sum(
        bool(_SHEET_FOLDER.search(info.filename.lower())) and info.filename.endswith(".xml")
        for info in infos
    )
    if sheets > limits.max_sheets:
        raise refuse("too-many-sheets", sheets=sheets)
    if len(infos) > limits.max_members:
        raise refuse("zip-bomb", variant="parts", parts=len(infos))
    # Part names are case-insensitive (ECMA-376 Part 2, 9.1.1.1): readers differ on which of
    # two names differing only in case they would read.
    names = [info.filename.lower() for info in infos]
    if len(set(names)) != len(names):
        twice = sorted({i.filename for i in infos if names.count(i.filename.lower()) > 1})
        raise refuse("duplicate-part", parts=", ".join(twice[:3]))
    if any(info.flag_bits & 0x1 for info in infos):
        raise refuse("encrypted-workbook")
    for info in infos:
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise refuse(
                "unsupported-file",
                variant="compression",
                method=info.compress_type,
                part=info.filename,
            )
    total = sum(info.file_size for info in infos)
    if total > limits.max_total_uncompressed:
        raise refuse("zip-bomb", variant="size", megabytes=total / (1024 * 1024))
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limits.ratio_grace_bytes and ratio > limits.max_ratio:
            raise refuse("zip-bomb", variant="ratio", part=info.filename, ratio=ratio)
    return infos


def _guard_ooxml(
    data: bytes, infos: list[zipfile.ZipInfo], limits: Limits
) -> tuple[Format, bool, dict[str, list[str]], bytes]:
    budget = Budget(limits)
    repairs: dict[str, bytes] = {}
    # Keyed by the lower-case name: part names are case-insensitive, and the directory check
    # has made them unique.
    by_name = {info.filename.lower(): info for info in infos}
    if "[content_types].xml" not in by_name:
        if _numbers_package(infos):
            raise refuse("not-a-workbook", variant="numbers")
        raise refuse("not-a-workbook", variant="zip")
    kept: dict[str, bytes | None] = {}
    # The parts that say what the package is, read (and checked) first.
    for name in ("[content_types].xml", "_rels/.rels"):
        if name in by_name:
            kept[name] = scan_member(data, by_name[name], budget, None, None, repairs)
    types = _parse(kept.get("[content_types].xml"), "[Content_Types].xml")
    if types is None:
        raise refuse("truncated-file", variant="no-content-list")
    root_rels = _relationships(_parse(kept.get("_rels/.rels"), "_rels/.rels"), "")
    main = next((p for t, p in root_rels.values() if t.endswith(_OFFICE_DOCUMENT)), None)
    main_type = _content_type(types, main) if main is not None else ""
    if main is None or main_type not in _SPREADSHEET_TYPES:
        code, variant = next(
            (found for key, found in _OTHER_OFFICE_TYPES.items() if key in main_type),
            ("not-a-workbook", None),
        )
        raise refuse(code, variant=variant)
    fmt, macro_enabled = _SPREADSHEET_TYPES[main_type]
    declared = {t.get("ContentType", "") for t in types.iter() if t.get("ContentType")}
    if _VBA_CONTENT_TYPE in declared or any(
        info.filename.lower().endswith("vbaproject.bin") for info in infos
    ):
        macro_enabled = True
    macro_sheet = next((i.filename for i in infos if _MACRO_SHEET.search(i.filename.lower())), None)
    if macro_sheet is not None:
        raise refuse("unsupported-file", variant="macro-sheet", part=macro_sheet)
    rels_name = _rels_name(main)
    for name in (main, rels_name):
        if name.lower() in by_name and name.lower() not in kept:
            kept[name.lower()] = scan_member(
                data, by_name[name.lower()], budget, None, None, repairs
            )
    workbook = _parse(kept.get(main.lower()), main)
    if workbook is None:
        raise refuse("truncated-file", variant="no-workbook-part")
    rels = _relationships(_parse(kept.get(rels_name.lower()), rels_name), main)
    sheet_parts = {part.lower(): name for part, name in _sheet_parts(workbook, rels, infos).items()}
    formulas: dict[str, list[str]] = {}
    for info in infos:
        if info.filename.lower() in kept:
            continue
        sheet_name = sheet_parts.get(info.filename.lower())
        extent = SheetExtent(sheet_name, limits) if sheet_name is not None else None
        scan_member(data, info, budget, extent, None, repairs)
        if extent is not None and extent.formulas:
            formulas[extent.sheet] = extent.formulas
    return fmt, macro_enabled, formulas, _rebuilt(data, infos, repairs) if repairs else data


def _rebuilt(data: bytes, infos: list[zipfile.ZipInfo], repairs: dict[str, bytes]) -> bytes:
    """The package with its repaired parts (every part already checked), for the reader only:
    the original stays as it came."""
    out = BytesIO()
    with (
        zipfile.ZipFile(BytesIO(data)) as old,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new,
    ):
        for info in infos:
            part = repairs.get(info.filename)
            if part is None:
                new.writestr(info.filename, old.read(info))
                continue
            part = part or old.read(info)
            if dimension_names_row_zero(part):
                part = DIMENSION_TAG.sub(b"", part, count=1)
            new.writestr(info.filename, part)
    return out.getvalue()


def _guard_ods(
    data: bytes, infos: list[zipfile.ZipInfo], limits: Limits
) -> tuple[Format, bool, dict[str, list[str]], bytes]:
    budget = Budget(limits)
    ods = OdsExtent()
    # The manifest first: it says whether the other parts are encrypted (and so not XML).
    manifest = next((i for i in infos if i.filename == "META-INF/manifest.xml"), None)
    if manifest is not None and b"encryption-data" in (
        scan_member(data, manifest, budget, None) or b""
    ):
        raise refuse("encrypted-workbook")
    for info in infos:
        if info is not manifest:
            is_content = info.filename == "content.xml"
            scan_member(data, info, budget, None, ods if is_content else None)
    if "content.xml" not in {info.filename for info in infos}:
        raise refuse("truncated-file", variant="no-sheets")
    if len(ods.tables) > limits.max_sheets:
        raise refuse("too-many-sheets", sheets=len(ods.tables))
    for name, (rows, columns) in ods.tables.items():
        too_big(name, rows, columns, limits)
    macros = any(info.filename.startswith(("Basic/", "Scripts/")) for info in infos)
    return "ods", macros, ods.formulas, data


def _guard_zip(data: bytes, limits: Limits) -> tuple[Format, bool, dict[str, list[str]], bytes]:
    try:
        archive = zipfile.ZipFile(BytesIO(data))
    except zipfile.BadZipFile:
        raise refuse("truncated-file", variant="ends-early") from None
    except (zipfile.LargeZipFile, NotImplementedError, ValueError, OSError) as exc:
        raise refuse("truncated-file", variant="unopenable", detail=str(exc)) from None
    with archive:
        infos = _check_directory(archive, limits)
    # From here on members are inflated straight from ``data``: the directory is all zipfile
    # was needed for.
    mimetype = next((i for i in infos if i.filename == "mimetype"), None)
    if mimetype is not None and mimetype.file_size < 200:
        declared = b"".join(inflate(data, mimetype, Budget(limits))).strip()
        if declared.decode("ascii", "replace") in _ODS_MIMETYPES:
            return _guard_ods(data, infos, limits)
        raise refuse("not-a-workbook", variant="opendocument")
    return _guard_ooxml(data, infos, limits)


_GLOBALS_HEAD = 64 * 1024
_FILEPASS = 0x002F
_GLOBALS_END = (0x000A, 0x0085)  # EOF, BoundSheet8: past where a FILEPASS may stand


def _declares_encryption(stream: bytes) -> bool:
    """Whether an .xls workbook stream is encrypted (XOR, RC4 or CryptoAPI alike): a FILEPASS
    record in its globals, which follows the first BOF (MS-XLS 2.4.117)."""
    offset = 0
    while offset + 4 <= len(stream):
        kind, length = struct.unpack_from("<HH", stream, offset)
        if kind == _FILEPASS:
            return True
        if kind in _GLOBALS_END:
            return False
        offset += 4 + length
    return False


def _ole2_refusal(data: bytes) -> Refused | None:
    """An OLE2 container is an encrypted modern workbook, an old Excel 97-2003 workbook (.xls,
    read: None), or something else, which is not read. An .xls has no zip or XML to check:
    what bounds its reading is the worker's memory and time limits."""
    try:
        with olefile.OleFileIO(data) as ole:
            paths = {"/".join(p).lower(): p for p in ole.listdir(streams=True, storages=False)}
            book = paths.get("workbook") or paths.get("book")
            start = ole.openstream(book).read(_GLOBALS_HEAD) if book is not None else b""
    except (OSError, ValueError, IndexError, EOFError):
        return refuse("truncated-file", variant="old-office")
    if {"encryptioninfo", "encryptedpackage"} <= set(paths):
        return refuse("encrypted-workbook")
    if book is not None:
        if _declares_encryption(start):
            return refuse("encrypted-workbook")
        return None  # an Excel 95-2003 workbook: read (in the bounded worker) like any other
    if "worddocument" in paths:
        return refuse("not-a-workbook", variant="word")
    return refuse("not-a-workbook")


def guard_bytes(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Guarded:
    """Check a file's bytes; see ``guard_file``. The digest is of the very bytes checked
    and read, already in memory (a file too large to hold is hashed from disk instead)."""
    sha256 = hashlib.sha256(data).hexdigest()
    base = {"sha256": sha256, "size": len(data)}
    try:
        if not data:
            raise refuse("empty-file")
        if len(data) > limits.max_file_bytes:
            raise _too_large(len(data), limits)
        head = data[:512]
        if head.startswith(OLE2_MAGIC):
            refusal = _ole2_refusal(data)
            if refusal is not None:
                raise refusal
            return Guarded(format="xls", data=data, **base)
        if not head.startswith(ZIP_MAGICS):
            if head.startswith(OLE2_MAGIC[:4]) or (len(data) < 4 and b"PK".startswith(data[:2])):
                raise refuse("truncated-file")
            raise _not_a_workbook(data[:8192])
        fmt, macro_enabled, formulas, readable = _guard_zip(data, limits)
    except Refused as refused:
        return Guarded(issues=[refused.issue], **base)
    issues = []
    if macro_enabled:
        issues.append(Issue.of("macro-enabled"))
    return Guarded(
        issues=issues,
        format=fmt,
        macro_enabled=macro_enabled,
        formulas=formulas,
        data=readable,
        **base,
    )


def _too_large(size: int, limits: Limits) -> Refused:
    return refuse(
        "too-large",
        size_mb=size / (1024 * 1024),
        limit_mb=limits.max_file_bytes // (1024 * 1024),
    )


def guard_file(path: Path | str, limits: Limits = DEFAULT_LIMITS) -> Guarded:
    """Check a file before any reader touches it, reading its bytes exactly once.

    Returns the issues found (errors mean: do not read it), whether it is macro-enabled, its
    SHA-256, the cells holding formulas, and the checked bytes for the reader."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(0)
            if size > limits.max_file_bytes:
                digest = sha256_file(path)
                return Guarded(issues=[_too_large(size, limits).issue], sha256=digest, size=size)
            data = handle.read(limits.max_file_bytes + 1)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return Guarded(issues=[Issue.of("unreadable-file", reason=reason)])
    return guard_bytes(data, limits)
