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


def _not_a_workbook(head: bytes) -> Refused:
    """What a file that is not a workbook plainly is, from its leading bytes (never its name)."""
    for magic, variant, params in _OTHER_MAGICS:
        if head.startswith(magic):
            return refuse("not-a-workbook", variant=variant, **params)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<table")):
        return refuse("not-a-workbook", variant="html")
    if text.startswith(b"<?xml"):
        return refuse("not-a-workbook", variant="xml")
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
    parts |= {i.filename: i.filename for i in infos if _SHEET_FOLDER.search(i.filename)}
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
    if len(infos) > limits.max_members:
        raise refuse("zip-bomb", variant="parts", parts=len(infos))
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        twice = sorted({name for name in names if names.count(name) > 1})
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
    by_name = {info.filename: info for info in infos}
    if "[Content_Types].xml" not in by_name:
        raise refuse("not-a-workbook", variant="zip")
    kept: dict[str, bytes | None] = {}
    # The parts that say what the package is, read (and checked) first.
    for name in ("[Content_Types].xml", "_rels/.rels"):
        if name in by_name:
            kept[name] = scan_member(data, by_name[name], budget, None, None, repairs)
    types = _parse(kept.get("[Content_Types].xml"), "[Content_Types].xml")
    if types is None:
        raise refuse("truncated-file", variant="no-content-list")
    root_rels = _relationships(_parse(kept.get("_rels/.rels"), "_rels/.rels"), "")
    main = next((p for t, p in root_rels.values() if t.endswith(_OFFICE_DOCUMENT)), None)
    overrides = {
        (o.get("PartName") or "").lstrip("/"): o.get("ContentType", "")
        for o in types.iter(f"{_CT_NS}Override")
    }
    main_type = overrides.get(main or "", "")
    if main is None or main_type not in _SPREADSHEET_TYPES:
        code, variant = next(
            (found for key, found in _OTHER_OFFICE_TYPES.items() if key in main_type),
            ("not-a-workbook", None),
        )
        raise refuse(code, variant=variant)
    fmt, macro_enabled = _SPREADSHEET_TYPES[main_type]
    defaults = {d.get("ContentType", "") for d in types.iter(f"{_CT_NS}Default")}
    if _VBA_CONTENT_TYPE in set(overrides.values()) | defaults or any(
        info.filename.lower().endswith("vbaproject.bin") for info in infos
    ):
        macro_enabled = True
    for name in (main, _rels_name(main)):
        if name in by_name and name not in kept:
            kept[name] = scan_member(data, by_name[name], budget, None, None, repairs)
    workbook = _parse(kept.get(main), main)
    if workbook is None:
        raise refuse("truncated-file", variant="no-workbook-part")
    rels = _relationships(_parse(kept.get(_rels_name(main)), _rels_name(main)), main)
    sheet_parts = _sheet_parts(workbook, rels, infos)
    formulas: dict[str, list[str]] = {}
    for info in infos:
        if info.filename in kept:
            continue
        sheet_name = sheet_parts.get(info.filename)
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
    manifest = b""
    for info in infos:
        is_content = info.filename == "content.xml"
        kept = scan_member(data, info, budget, None, ods if is_content else None)
        if info.filename == "META-INF/manifest.xml" and kept:
            manifest = kept
    if b"encryption-data" in manifest:
        raise refuse("encrypted-workbook")
    if "content.xml" not in {info.filename for info in infos}:
        raise refuse("truncated-file", variant="no-sheets")
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


def _ole2_refusal(data: bytes) -> Refused | None:
    """An OLE2 container is an encrypted modern workbook, an old Excel 97-2003 workbook (.xls,
    read: None), or something else, which is not read. An .xls has no zip or XML to check:
    what bounds its reading is the worker's memory and time limits."""
    try:
        with olefile.OleFileIO(data) as ole:
            streams = {"/".join(p).lower() for p in ole.listdir(streams=True, storages=False)}
    except (OSError, ValueError, IndexError, EOFError):
        return refuse("truncated-file", variant="old-office")
    if {"encryptioninfo", "encryptedpackage"} <= streams:
        return refuse("encrypted-workbook")
    if "workbook" in streams or "book" in streams:
        return None  # an Excel 97-2003 workbook: read (in the bounded worker) like any other
    if "worddocument" in streams:
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
            raise _not_a_workbook(head)
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
