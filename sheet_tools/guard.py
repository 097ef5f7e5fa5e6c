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

import codecs
import hashlib
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from io import BytesIO
from itertools import chain, compress
from pathlib import Path
from typing import Literal
from xml.sax import SAXException
from xml.sax.handler import ContentHandler, feature_namespaces
from xml.sax.xmlreader import AttributesNSImpl

import olefile
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from defusedxml.sax import make_parser
from openpyxl.utils.cell import column_index_from_string, get_column_letter
from pydantic import BaseModel, ConfigDict, Field

from .report import Issue

Format = Literal["xlsx", "xlsm", "ods", "xls"]


class Limits(BaseModel):
    """What a returned form may amount to. A real return is about 25 KB, inflates to about 100 KB
    and has a few dozen rows per sheet, so these leave room for pasted pictures and long text while
    keeping every reader far from an out-of-memory abort."""

    model_config = ConfigDict(frozen=True)

    max_file_bytes: int = 20 * 1024 * 1024
    max_members: int = 1000
    max_total_uncompressed: int = 100 * 1024 * 1024
    # Inflation ratio above which a member counts as a bomb; small members are exempt because tiny
    # repetitive parts legitimately compress very well (Apache POI uses the same grace idea).
    max_ratio: float = 100.0
    ratio_grace_bytes: int = 1024 * 1024
    max_rows: int = 5000
    max_columns: int = 200
    chunk_bytes: int = 256 * 1024


DEFAULT_LIMITS = Limits()


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


class _Refused(Exception):
    """Stops guarding at the first fatal problem, carrying the issue to report."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.message)
        self.issue = issue


def _refuse(code: str, message: str, **location: str | None) -> _Refused:
    return _Refused(Issue.of(code, message, **location))


SEND_AGAIN = (
    "Please send the workbook you were sent, filled in and saved as an Excel workbook (.xlsx)."
)

# --- magic bytes --------------------------------------------------------------------------------
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_OTHER_MAGICS: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG picture"),
    (b"\xff\xd8\xff", "a JPEG picture"),
    (b"GIF8", "a GIF picture"),
    (b"{\\rtf", "a Rich Text document"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"\x1f\x8b", "a gzip archive"),
)


def _describe_unknown(head: bytes) -> str:
    """What a file that is not a workbook most likely is, in words an administrator knows."""
    for magic, what in _OTHER_MAGICS:
        if head.startswith(magic):
            return what
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<table")):
        return "a web page (HTML) saved with a spreadsheet name"
    if text.startswith(b"<?xml"):
        return "an XML file (perhaps 'XML Spreadsheet 2003')"
    try:
        sample = head.decode("utf-8")
    except UnicodeDecodeError:
        sample = head.decode("latin-1")
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in sample)
    if sample and printable / len(sample) > 0.95:
        if any(sep in sample for sep in (",", ";", "\t")):
            return "a text (CSV) file"
        return "a text file"
    return "not a spreadsheet"


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
_OTHER_OFFICE_TYPES = {
    "wordprocessingml": "a Word document",
    "presentationml": "a PowerPoint presentation",
    "ms-excel.sheet.binary": "an Excel binary workbook (.xlsb)",
}
_ODS_MIMETYPES = {
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.spreadsheet-template",
}
_VBA_CONTENT_TYPE = "application/vnd.ms-office.vbaProject"


# --- streaming scans ----------------------------------------------------------------------------
_DTD = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_PREFIX = rb"(?:[A-Za-z_][\w.-]*+:)?+"  # possessive: no backtracking per tag
# In one pass, in document order: row, cell and formula start tags (with any namespace prefix),
# each with its r="..." reference when it has one. A formula belongs to the cell opened last
# (possibly in an earlier chunk).
_MARK = re.compile(
    rb"<" + _PREFIX + rb"(row|c|f)(?=[\s/>])(?:\s[^<]*?\br\s*=\s*[\"']([A-Za-z]*+)(\d++))?+"
)
_CARRY_LIMIT = 64 * 1024
_SHORT_TAIL = 4096
# A whole start or end tag: '>' inside quoted attribute values does not end it.
_COMPLETE_TAG = re.compile(rb"<(?:[^>\"']|\"[^\"]*+\"|'[^']*+')*+>")
# Row numbers with more digits are far beyond any limit: they are not converted with int().
_MAX_DIGITS = 9


class _SheetExtent:
    """Rows and columns a sheet part would make a reader lay out, counted without parsing."""

    def __init__(self, sheet: str, limits: Limits) -> None:
        self.sheet = sheet
        self.limits = limits
        self.row_tags = 0
        self.max_row = 0
        self.cells_without_ref = 0
        self.max_column = 0
        self.formulas: list[str] = []
        self.open_cell: bytes | None = None  # the last cell started, whose formula may follow

    def scan(self, text: bytes) -> None:
        found = _MARK.findall(text)
        if not found:
            return
        names, letters, numbers = zip(*found, strict=True)
        self.row_tags += names.count(b"row")
        refs = [n for n in numbers if n]
        if refs and min(refs)[:1] == b"0" and any(not n.strip(b"0") for n in refs):
            self._row_zero(found)
        if refs:
            if max(map(len, refs)) <= _MAX_DIGITS:
                top = max(map(int, refs))
            else:  # rare: leading zeros, or a number beyond any sheet (and int()'s own limit)
                top = max(
                    int(n) if len(n.lstrip(b"0")) <= _MAX_DIGITS else 10**_MAX_DIGITS for n in refs
                )
            self.max_row = max(self.max_row, top)
        columns = set(letters)
        columns.discard(b"")
        if columns:
            widest = max(columns, key=lambda col: (len(col), col.upper()))
            column = (
                column_index_from_string(widest.decode("ascii").upper())
                if len(widest) <= 3
                else 10**6
            )
            self.max_column = max(self.max_column, column)
        # A cell without letters in a reference of its own takes a column of its own.
        referenced = list(compress(names, letters)).count(b"c")
        self.cells_without_ref += names.count(b"c") - referenced
        cell = self.open_cell
        if b"f" in names:
            for name, col, row in found:
                if name == b"f":
                    if cell is not None:
                        self.formulas.append(cell.decode("ascii").upper())
                        cell = None
                elif col and name == b"c":
                    cell = col + row
        elif referenced:
            cell = next(col + row for name, col, row in reversed(found) if col and name == b"c")
        self.open_cell = cell
        # Refuse as soon as a sheet is too big, rather than streaming the rest of it.
        _too_big(self.sheet, self.rows, self.columns, self.limits)

    def _row_zero(self, found: list[tuple[bytes, bytes, bytes]]) -> None:
        zero = [f for f in found if f[2] and not f[2].strip(b"0")]
        cell = next((letters + number for name, letters, number in zero if name == b"c"), None)
        what = f"cell {cell.decode('ascii')} is" if cell else "a row is"
        raise _refuse(
            "row-zero",
            f"Sheet '{self.sheet}': {what} numbered as row 0, which no spreadsheet has (rows "
            "start at 1), so its cells cannot be placed. The file was written by a program other "
            "than a spreadsheet application, or damaged. " + SEND_AGAIN,
            sheet=self.sheet,
            cell=cell.decode("ascii") if cell else None,
        )

    @property
    def rows(self) -> int:
        return max(self.row_tags, self.max_row)

    @property
    def columns(self) -> int:
        return self.max_column + self.cells_without_ref


class _OdsExtent(ContentHandler):
    """Per-table extent of an ODS content.xml, counting repeated rows and cells only where they
    hold something (LibreOffice writes a million empty repeated rows after every table)."""

    _TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
    _OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, tuple[int, int]] = {}
        self.formulas: dict[str, list[str]] = {}
        self._name = ""
        self._row = 0
        self._row_repeat = 1
        self._row_has_content = False
        self._col = 0
        self._max_row = 0
        self._max_col = 0

    def _repeat(self, attrs: AttributesNSImpl, local: str) -> int:
        value = attrs.get((self._TABLE, local))
        return int(value) if value and value.isdigit() else 1

    def startElementNS(self, name: tuple[str | None, str], qname: str | None, attrs) -> None:
        uri, local = name
        if uri != self._TABLE:
            return
        if local == "table":
            self._name = attrs.get((self._TABLE, "name"), "")
            self._row = self._max_row = self._max_col = 0
        elif local == "table-row":
            self._row_repeat = self._repeat(attrs, "number-rows-repeated")
            self._row_has_content = False
            self._col = 0
        elif local in ("table-cell", "covered-table-cell"):
            repeat = self._repeat(attrs, "number-columns-repeated")
            has_value = (self._OFFICE, "value-type") in attrs or (self._TABLE, "formula") in attrs
            if has_value:
                self._row_has_content = True
                self._max_col = max(self._max_col, self._col + repeat)
            if (self._TABLE, "formula") in attrs and repeat == 1 and self._row_repeat == 1:
                ref = f"{get_column_letter(min(self._col + 1, 16384))}{self._row + 1}"
                self.formulas.setdefault(self._name, []).append(ref)
            self._col += repeat

    def endElementNS(self, name: tuple[str | None, str], qname: str | None) -> None:
        uri, local = name
        if uri != self._TABLE:
            return
        if local == "table-row":
            if self._row_has_content:
                self._max_row = self._row + self._row_repeat
            self._row += self._row_repeat
        elif local == "table":
            self.tables[self._name] = (self._max_row, self._max_col)


class _Budget:
    """Bytes inflated so far across the whole archive, enforced as they come out."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.total = 0

    def take(self, count: int) -> None:
        self.total += count
        if self.total > self.limits.max_total_uncompressed:
            raise _refuse(
                "zip-bomb",
                "The file expands to more than "
                f"{self.limits.max_total_uncompressed // (1024 * 1024)} MB when opened, far more "
                "than any form. It was not opened, to keep the system safe. " + SEND_AGAIN,
            )


_LOCAL_HEADER = struct.Struct(zipfile.structFileHeader)
_UTF8_NAME = 0x800
_UNSUPPORTED_FLAGS = 0x20 | 0x40  # patched data, strong encryption: zipfile refuses them too


def _damaged(name: str, why: str) -> _Refused:
    return _refuse(
        "truncated-file",
        f"The file is damaged: a part of it ({name}) cannot be read ({why}). "
        "It may not have finished copying or downloading. " + SEND_AGAIN,
    )


def _member_data(data: bytes, info: zipfile.ZipInfo) -> memoryview:
    """A member's compressed bytes, found through its local header after the same checks as
    ``ZipFile.open`` (signature, name agreeing with the directory, no unsupported flags)."""
    start = info.header_offset
    header = data[start : start + _LOCAL_HEADER.size]
    if len(header) != _LOCAL_HEADER.size:
        raise _damaged(info.filename, "truncated file header")
    magic, _, _, flags, _, _, _, _, _, _, name_length, extra_length = _LOCAL_HEADER.unpack(header)
    if magic != zipfile.stringFileHeader:
        raise _damaged(info.filename, "bad magic number for file header")
    if info.flag_bits & _UNSUPPORTED_FLAGS:
        raise _refuse(
            "unsupported-file",
            f"The file was saved in a way spreadsheet applications do not use ({info.filename}). "
            + SEND_AGAIN,
        )
    name_start = start + _LOCAL_HEADER.size
    raw_name = data[name_start : name_start + name_length]
    if raw_name.decode("utf-8" if flags & _UTF8_NAME else "cp437", "replace") != (
        info.orig_filename
    ):
        raise _damaged(info.filename, "file name in directory and header differ")
    begin = name_start + name_length + extra_length
    compressed = memoryview(data)[begin : begin + info.compress_size]
    if len(compressed) != info.compress_size:
        raise _damaged(info.filename, "the file ends inside it")
    return compressed


def _stream(data: bytes, info: zipfile.ZipInfo, budget: _Budget) -> Iterator[bytes]:
    """A member's real contents in chunks, inflated straight from the bytes in memory, refusing as
    soon as more comes out than the directory declared (a lying header) or than the budget
    allows. The CRC is checked at the end."""
    limits = budget.limits
    size = limits.chunk_bytes
    pending = _member_data(data, info)
    inflater = zlib.decompressobj(-zlib.MAX_WBITS) if info.compress_type else None
    produced = 0
    crc = 0
    while True:
        if inflater is None:
            chunk, pending = bytes(pending[:size]), pending[size:]
        else:
            try:
                # Never more than one chunk out at a time, however much the input would make.
                chunk = inflater.decompress(pending, size)
            except zlib.error as exc:
                raise _damaged(info.filename, str(exc)) from None
            pending = inflater.unconsumed_tail
        if not chunk:
            break
        produced += len(chunk)
        if produced > info.file_size:
            raise _refuse(
                "zip-bomb",
                f"A part of the file ({info.filename}) holds more data than the file "
                "says it does, which is how 'zip bombs' hide. It was not opened. " + SEND_AGAIN,
            )
        budget.take(len(chunk))
        crc = zlib.crc32(chunk, crc)
        yield chunk
    if produced != info.file_size:
        raise _refuse(
            "truncated-file",
            f"The file is damaged: a part of it ({info.filename}) is shorter than the file says. "
            + SEND_AGAIN,
        )
    if crc != info.CRC:
        raise _damaged(info.filename, "its checksum does not match")


def _utf8(first: bytes) -> bool:
    """False for UTF-16/32 text, which would hide a DOCTYPE or a far-away cell from a byte scan:
    such a part is transcoded to UTF-8 first (``_transcoded``), or refused."""
    return not (
        first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in first[:4]
    )


_ENCODING_DECLARATION = re.compile(r"""^(\s*<\?xml[^>]*?encoding\s*=\s*)["'][^"']*["']""")


def _refuse_encoding(name: str, why: str) -> _Refused:
    return _refuse(
        "xml-encoding",
        f"A part of the file ({name}) is written in a text encoding spreadsheet applications "
        f"never use ({why}), so it could not be read safely. The file was probably written by "
        "another program. " + SEND_AGAIN,
    )


def _transcoded(name: str, raw: bytes) -> bytes:
    """A UTF-16 XML part as UTF-8 (the declaration changed to match), for the scans and the
    reader alike: python-calamine reads a UTF-16 sheet as empty."""
    if raw[:4] in (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE):
        raise _refuse_encoding(name, "UTF-32")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif raw[:4] in (b"<\x00?\x00", b"<\x00s\x00") or raw[:2] == b"<\x00":
        encoding = "utf-16-le"
    elif raw[:2] == b"\x00<":
        encoding = "utf-16-be"
    else:
        raise _refuse_encoding(name, "UTF-32 or unknown")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        raise _refuse_encoding(name, "UTF-16 that does not decode") from None
    return _ENCODING_DECLARATION.sub(r'\1"UTF-8"', text, count=1).encode("utf-8")


_DIMENSION = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?dimension\s[^>]*?>")
_DIMENSION_ROW = re.compile(rb"""\bref\s*=\s*["'][^"']*?(?<![0-9])0+(?![0-9])""")


def _bad_dimension(first: bytes) -> bool:
    """A sheet's ``<dimension>`` (a hint placed before its cells) naming row 0: python-calamine
    then refuses the whole workbook, though the cells themselves are fine."""
    found = _DIMENSION.search(first, 0, 8192)
    return found is not None and _DIMENSION_ROW.search(found.group()) is not None


def _is_media(name: str) -> bool:
    """Pictures no reader opens (an SVG may legitimately carry a DOCTYPE)."""
    return "/media/" in f"/{name}" or name.startswith(("Pictures/", "Thumbnails/"))


def _scan_member(
    data: bytes,
    info: zipfile.ZipInfo,
    budget: _Budget,
    extent: _SheetExtent | None,
    ods: _OdsExtent | None = None,
    repairs: dict[str, bytes] | None = None,
) -> bytes | None:
    """Stream one member: refuse DTDs, measure sheets, and return the bytes of small XML parts
    the guard itself needs (content types, relationships, workbook). With ``repairs``, a UTF-16
    part is scanned as UTF-8 and its UTF-8 text recorded there for the reader, and a sheet
    whose dimension names row 0 is recorded without it."""
    name = info.filename
    keep = info.file_size <= 1024 * 1024 and (
        name.endswith((".rels", ".xml")) or name == "mimetype"
    )
    must_be_xml = extent is not None or ods is not None or name.endswith((".xml", ".rels", ".vml"))
    kept: list[bytes] = []
    carry = b""
    first = True
    is_xml = False
    parser = None
    if ods is not None:
        parser = make_parser()
        parser.setFeature(feature_namespaces, True)
        parser.setContentHandler(ods)
    chunks: Iterator[bytes] = _stream(data, info, budget)
    opening = next(chunks, None)
    if opening is not None and must_be_xml and not _utf8(opening):
        if repairs is None:
            raise _refuse_encoding(name, "UTF-16 or UTF-32")
        text = _transcoded(name, opening + b"".join(chunks))
        repairs[name] = text
        size = budget.limits.chunk_bytes
        opening, chunks = (
            text[:size],
            iter([text[i : i + size] for i in range(size, len(text), size)]),
        )
    if opening is not None:
        chunks = chain([opening], chunks)
        if extent is not None and repairs is not None and _bad_dimension(opening):
            repairs.setdefault(name, b"")  # b"": the member as it is, less its dimension
    for chunk in chunks:
        if first:
            first = False
            head = chunk[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
            is_xml = (must_be_xml or head.startswith(b"<")) and not _is_media(name)
        if keep:
            kept.append(chunk)
        if not is_xml:
            continue
        body, carry = _split_at_open_tag(carry + chunk, name, extent is not None)
        _refuse_dtd(body, name)
        if extent is not None:
            extent.scan(body)
        if parser is not None:
            try:
                parser.feed(chunk)
            except (SAXException, DefusedXmlException, ValueError) as exc:
                raise _refuse(
                    "truncated-file",
                    f"The file is damaged: its sheet data cannot be read ({exc}). " + SEND_AGAIN,
                ) from None
    if carry:
        _refuse_dtd(carry, name)
        if extent is not None:
            extent.scan(carry)
    if parser is not None:
        try:
            parser.close()
        except (SAXException, DefusedXmlException, ValueError) as exc:
            raise _refuse(
                "truncated-file",
                f"The file is damaged: its sheet data cannot be read ({exc}). " + SEND_AGAIN,
            ) from None
    return b"".join(kept) if keep else None


def _split_at_open_tag(text: bytes, name: str, is_sheet: bool) -> tuple[bytes, bytes]:
    """(what can be scanned now, what must wait for the next chunk): the markup from the last
    '<' waits, so no tag is ever seen in two halves. A tag still open after 64 KB is refused in a
    sheet (no application writes one; it could hide a far-away cell reference across chunks)."""
    cut = text.rfind(b"<")
    if cut < 0:
        return text, b""
    tail = text[cut:]
    if len(tail) <= _SHORT_TAIL:
        return text[:cut], tail
    if _COMPLETE_TAG.match(tail):  # a finished tag followed by long text content
        return text, b""
    if is_sheet and len(tail) > _CARRY_LIMIT:
        raise _refuse(
            "xml-attack",
            f"A part of the file ({name}) holds a single XML tag longer than 64 KB, which "
            "spreadsheet applications never write. It was not opened, to keep the system safe. "
            + SEND_AGAIN,
        )
    return (text, b"") if len(tail) > _CARRY_LIMIT else (text[:cut], tail)


def _refuse_dtd(text: bytes, name: str) -> None:
    """Refuse a DOCTYPE or ENTITY declaration anywhere in ``text``. '!' is rare in a part (unlike
    '<'), so looking for it first makes the check nearly free."""
    if b"!" in text and _DTD.search(text):
        raise _refuse(
            "xml-attack",
            f"A part of the file ({name}) declares XML entities (a DOCTYPE), which spreadsheet "
            "applications never write and which can be used to attack the computer opening it "
            "('billion laughs', external entities). It was not opened. " + SEND_AGAIN,
        )


def _parse(xml: bytes | None, part: str) -> SafeET.Element | None:
    if xml is None:
        return None
    try:
        return SafeET.fromstring(xml)
    except (SafeET.ParseError, DefusedXmlException):
        raise _refuse(
            "truncated-file",
            f"The file is damaged: a part of it ({part}) is not well-formed. " + SEND_AGAIN,
        ) from None


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
        raise _refuse(
            "zip-bomb",
            f"The file is made of {len(infos):,} parts; a form has a few dozen. It was not "
            "opened, to keep the system safe. " + SEND_AGAIN,
        )
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        twice = sorted({name for name in names if names.count(name) > 1})
        raise _refuse(
            "duplicate-part",
            f"The file holds two parts with the same name ({', '.join(twice[:3])}), which "
            "spreadsheet applications never write: different programs would read different "
            "contents from it, so it was not read. It may have been damaged or put together by "
            "another program. " + SEND_AGAIN,
        )
    if any(info.flag_bits & 0x1 for info in infos):
        raise _refuse(
            "encrypted-workbook",
            "The file is protected with a password, so it cannot be read. Please remove the "
            "password (File > Info > Protect Workbook > Encrypt with Password, then clear it), "
            "save, and send it again.",
        )
    for info in infos:
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _refuse(
                "unsupported-file",
                f"The file was compressed in a way spreadsheet applications do not use "
                f"(method {info.compress_type} in {info.filename}). " + SEND_AGAIN,
            )
    total = sum(info.file_size for info in infos)
    if total > limits.max_total_uncompressed:
        raise _refuse(
            "zip-bomb",
            f"The file would expand to {total / (1024 * 1024):,.0f} MB when opened, far more than "
            "any form. It was not opened, to keep the system safe. " + SEND_AGAIN,
        )
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limits.ratio_grace_bytes and ratio > limits.max_ratio:
            raise _refuse(
                "zip-bomb",
                f"A part of the file ({info.filename}) expands {ratio:,.0f} times when opened, "
                "which is how 'zip bombs' are built. It was not opened, to keep the system "
                "safe. " + SEND_AGAIN,
            )
    return infos


def _too_big(sheet: str, rows: int, columns: int, limits: Limits) -> None:
    if rows > limits.max_rows:
        raise _refuse(
            "too-many-rows",
            f"Sheet '{sheet}' reaches row {rows:,}; the form has a few dozen rows. Something "
            "was pasted or filled far down the sheet. Please delete the extra rows (or copy "
            "your answers into a fresh copy of the form) and send it again.",
            sheet=sheet,
        )
    if columns > limits.max_columns:
        raise _refuse(
            "too-many-columns",
            f"Sheet '{sheet}' reaches column {columns:,}; the form has a handful of columns. "
            "Please delete the extra columns (or copy your answers into a fresh copy of the "
            "form) and send it again.",
            sheet=sheet,
        )


def _guard_ooxml(
    data: bytes, infos: list[zipfile.ZipInfo], limits: Limits
) -> tuple[Format, bool, dict[str, list[str]], bytes]:
    budget = _Budget(limits)
    repairs: dict[str, bytes] = {}
    by_name = {info.filename: info for info in infos}
    if "[Content_Types].xml" not in by_name:
        raise _refuse(
            "not-a-workbook",
            "This file is a zip archive, not an Excel workbook. " + SEND_AGAIN,
        )
    kept: dict[str, bytes | None] = {}
    # The parts that say what the package is, read (and checked) first.
    for name in ("[Content_Types].xml", "_rels/.rels"):
        if name in by_name:
            kept[name] = _scan_member(data, by_name[name], budget, None, None, repairs)
    types = _parse(kept.get("[Content_Types].xml"), "[Content_Types].xml")
    if types is None:
        raise _refuse(
            "truncated-file", "The file is damaged: it has no content list. " + SEND_AGAIN
        )
    root_rels = _relationships(_parse(kept.get("_rels/.rels"), "_rels/.rels"), "")
    main = next((p for t, p in root_rels.values() if t.endswith(_OFFICE_DOCUMENT)), None)
    overrides = {
        (o.get("PartName") or "").lstrip("/"): o.get("ContentType", "")
        for o in types.iter(f"{_CT_NS}Override")
    }
    main_type = overrides.get(main or "", "")
    if main is None or main_type not in _SPREADSHEET_TYPES:
        what = next((w for key, w in _OTHER_OFFICE_TYPES.items() if key in main_type), None)
        if what and "xlsb" in what:
            raise _refuse("unsupported-file", f"This file is {what}. " + SEND_AGAIN)
        if what:
            raise _refuse(
                "not-a-workbook", f"This file is {what}, not an Excel workbook. " + SEND_AGAIN
            )
        raise _refuse("not-a-workbook", "This file is not an Excel workbook. " + SEND_AGAIN)
    fmt, macro_enabled = _SPREADSHEET_TYPES[main_type]
    defaults = {d.get("ContentType", "") for d in types.iter(f"{_CT_NS}Default")}
    if _VBA_CONTENT_TYPE in set(overrides.values()) | defaults or any(
        info.filename.lower().endswith("vbaproject.bin") for info in infos
    ):
        macro_enabled = True
    for name in (main, _rels_name(main)):
        if name in by_name and name not in kept:
            kept[name] = _scan_member(data, by_name[name], budget, None, None, repairs)
    workbook = _parse(kept.get(main), main)
    if workbook is None:
        raise _refuse(
            "truncated-file", "The file is damaged: its workbook part is missing. " + SEND_AGAIN
        )
    rels = _relationships(_parse(kept.get(_rels_name(main)), _rels_name(main)), main)
    sheet_parts = _sheet_parts(workbook, rels, infos)
    formulas: dict[str, list[str]] = {}
    for info in infos:
        if info.filename in kept:
            continue
        sheet_name = sheet_parts.get(info.filename)
        extent = _SheetExtent(sheet_name, limits) if sheet_name is not None else None
        _scan_member(data, info, budget, extent, None, repairs)
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
            if _bad_dimension(part):
                part = _DIMENSION.sub(b"", part, count=1)
            new.writestr(info.filename, part)
    return out.getvalue()


def _guard_ods(
    data: bytes, infos: list[zipfile.ZipInfo], limits: Limits
) -> tuple[Format, bool, dict[str, list[str]], bytes]:
    budget = _Budget(limits)
    ods = _OdsExtent()
    manifest = b""
    for info in infos:
        is_content = info.filename == "content.xml"
        kept = _scan_member(data, info, budget, None, ods if is_content else None)
        if info.filename == "META-INF/manifest.xml" and kept:
            manifest = kept
    if b"encryption-data" in manifest:
        raise _refuse(
            "encrypted-workbook",
            "The spreadsheet is protected with a password, so it cannot be read. Please save it "
            "without a password and send it again.",
        )
    if "content.xml" not in {info.filename for info in infos}:
        raise _refuse("truncated-file", "The file is damaged: it has no sheets. " + SEND_AGAIN)
    for name, (rows, columns) in ods.tables.items():
        _too_big(name, rows, columns, limits)
    macros = any(info.filename.startswith(("Basic/", "Scripts/")) for info in infos)
    return "ods", macros, ods.formulas, data


def _guard_zip(data: bytes, limits: Limits) -> tuple[Format, bool, dict[str, list[str]], bytes]:
    try:
        archive = zipfile.ZipFile(BytesIO(data))
    except zipfile.BadZipFile:
        raise _refuse(
            "truncated-file",
            "The file is incomplete or damaged: it ends before the workbook does. It may not have "
            "finished copying, downloading or saving. Please save it again and resend it.",
        ) from None
    except (zipfile.LargeZipFile, NotImplementedError, ValueError, OSError) as exc:
        raise _refuse(
            "truncated-file", f"The file is damaged and cannot be opened ({exc}). " + SEND_AGAIN
        ) from None
    with archive:
        infos = _check_directory(archive, limits)
    # From here on members are inflated straight from ``data``: the directory is all zipfile
    # was needed for.
    mimetype = next((i for i in infos if i.filename == "mimetype"), None)
    if mimetype is not None and mimetype.file_size < 200:
        declared = b"".join(_stream(data, mimetype, _Budget(limits))).strip()
        if declared.decode("ascii", "replace") in _ODS_MIMETYPES:
            return _guard_ods(data, infos, limits)
        raise _refuse(
            "not-a-workbook",
            "This file is an OpenDocument file but not a spreadsheet. " + SEND_AGAIN,
        )
    return _guard_ooxml(data, infos, limits)


def _ole2_refusal(data: bytes) -> _Refused | None:
    """An OLE2 container is an encrypted modern workbook, an old Excel 97-2003 workbook (.xls,
    read: None), or something else, which is not read. An .xls has no zip or XML to check:
    what bounds its reading is the worker's memory and time limits."""
    try:
        with olefile.OleFileIO(data) as ole:
            streams = {"/".join(p).lower() for p in ole.listdir(streams=True, storages=False)}
    except (OSError, ValueError, IndexError, EOFError):
        return _refuse(
            "truncated-file",
            "The file is an old-style Office file, and it is damaged or incomplete. " + SEND_AGAIN,
        )
    if {"encryptioninfo", "encryptedpackage"} <= streams:
        return _refuse(
            "encrypted-workbook",
            "The workbook is protected with a password, so it cannot be read. Please open it, "
            "remove the password (File > Info > Protect Workbook > Encrypt with Password, then "
            "clear the password box), save it and send it again.",
        )
    if "workbook" in streams or "book" in streams:
        return None  # an Excel 97-2003 workbook: read (in the bounded worker) like any other
    if "worddocument" in streams:
        return _refuse("not-a-workbook", "This file is a Word document. " + SEND_AGAIN)
    return _refuse("not-a-workbook", "This file is not an Excel workbook. " + SEND_AGAIN)


def guard_bytes(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Guarded:
    """Check a file's bytes; see ``guard_file``."""
    sha256 = hashlib.sha256(data).hexdigest()
    base = {"sha256": sha256, "size": len(data)}
    try:
        if not data:
            raise _refuse(
                "empty-file",
                "The file is empty (0 bytes). It may not have finished saving or copying. "
                "Please save the workbook again and resend it.",
            )
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
                raise _refuse("truncated-file", "The file is incomplete or damaged. " + SEND_AGAIN)
            raise _refuse(
                "not-a-workbook",
                f"This file is {_describe_unknown(head)}, not an Excel workbook, even though its "
                "name says it is one. " + SEND_AGAIN,
            )
        fmt, macro_enabled, formulas, readable = _guard_zip(data, limits)
    except _Refused as refused:
        return Guarded(issues=[refused.issue], **base)
    issues = []
    if macro_enabled:
        issues.append(
            Issue.of(
                "macro-enabled",
                "The workbook contains macros. sheet-tools read its answers and ignored the "
                "macros (they were never run). Next time, please save it as an ordinary Excel "
                "Workbook (.xlsx).",
            )
        )
    return Guarded(
        issues=issues,
        format=fmt,
        macro_enabled=macro_enabled,
        formulas=formulas,
        data=readable,
        **base,
    )


def _too_large(size: int, limits: Limits) -> _Refused:
    return _refuse(
        "too-large",
        f"The file is {size / (1024 * 1024):,.1f} MB; returns are limited to "
        f"{limits.max_file_bytes // (1024 * 1024)} MB (a filled-in form is usually well under "
        "1 MB). Large pictures pasted into the workbook are the usual cause: please remove them "
        "and send it again.",
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
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
                return Guarded(issues=[_too_large(size, limits).issue], sha256=digest, size=size)
            data = handle.read(limits.max_file_bytes + 1)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return Guarded(
            issues=[
                Issue.of(
                    "unreadable-file",
                    f"The file could not be opened ({reason}). Check that it exists and is not "
                    "open in another program, then try again.",
                )
            ]
        )
    return guard_bytes(data, limits)
