"""The guard's limits and its streaming scans: each zip member inflated through its own inflater
within a byte budget (never trusting the sizes headers declare), transcoded to UTF-8 when it is
UTF-16, and scanned as it streams for DOCTYPE/ENTITY declarations and each sheet's real extent.
A refusal carries the issue to report (``Refused``); ``guard`` decides what to check and when.
"""

from __future__ import annotations

import codecs
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from itertools import chain, compress
from xml.sax import SAXException
from xml.sax.handler import ContentHandler, feature_namespaces
from xml.sax.xmlreader import AttributesNSImpl

from defusedxml import DefusedXmlException
from defusedxml.sax import make_parser
from pydantic import BaseModel, ConfigDict

from ..base.columns import column_index_from_string, get_column_letter
from ..problems.report import Issue


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
    # A form has a handful of sheets; Excel allows as many as memory does.
    max_sheets: int = 250
    chunk_bytes: int = 256 * 1024


DEFAULT_LIMITS = Limits()


class Refused(Exception):
    """Stops guarding at the first fatal problem, carrying the issue to report."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.message)
        self.issue = issue


def refuse(code: str, **values: str | int | float | None) -> Refused:
    """A refusal with the issue of ``code`` made from ``values`` (its location, variant and the
    parameters its template names)."""
    return Refused(Issue.of(code, **values))  # type: ignore[arg-type]


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


def _column_number(letters: bytes) -> int:
    """A column's number from its letters; more than three letters is beyond any sheet."""
    return column_index_from_string(letters.decode("ascii").upper()) if len(letters) <= 3 else 10**6


class SheetExtent:
    """Rows and columns a sheet part would make a reader lay out, counted without parsing.

    A cell without an ``r`` reference (the attribute is optional) takes the column after the
    previous cell in its row, as a conforming reader places it; a row without one, the row after
    the rows seen so far."""

    def __init__(self, sheet: str, limits: Limits) -> None:
        self.sheet = sheet
        self.limits = limits
        self.row_tags = 0
        self.max_row = 0
        self.max_column = 0
        self.column = 0  # the column of the last cell seen in the current row
        self.formulas: list[str] = []
        self.open_cell: bytes | None = None  # the last cell started, whose formula may follow

    def scan(self, text: bytes, final: bool = False) -> None:
        """Count the tags in ``text``; ``final``: nothing of the sheet follows, so a refusal
        can give its exact extent rather than the extent reached so far."""
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
        referenced = list(compress(names, letters)).count(b"c")
        if referenced == names.count(b"c"):
            self._referenced_columns(found, letters)
        else:
            self._placed_columns(found)
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
        too_big(self.sheet, self.rows, self.columns, self.limits, at_least=not final)

    def _referenced_columns(
        self, found: list[tuple[bytes, bytes, bytes]], letters: tuple[bytes, ...]
    ) -> None:
        """Every cell has its reference: the widest is found without a loop over the cells."""
        columns = set(letters)
        columns.discard(b"")
        if columns:
            widest = max(columns, key=lambda col: (len(col), col.upper()))
            self.max_column = max(self.max_column, _column_number(widest))
        last = next((item for item in reversed(found) if item[0] != b"f"), None)
        if last is not None:
            self.column = _column_number(last[1]) if last[0] == b"c" else 0

    def _placed_columns(self, found: list[tuple[bytes, bytes, bytes]]) -> None:
        """Some cells lack a reference: each is placed after the previous cell of its row."""
        column = self.column
        widest = self.max_column
        for name, letters, _ in found:
            if name == b"row":
                column = 0
            elif name == b"c":
                column = _column_number(letters) if letters else column + 1
                widest = max(widest, column)
        self.column = column
        self.max_column = widest

    def _row_zero(self, found: list[tuple[bytes, bytes, bytes]]) -> None:
        zero = [f for f in found if f[2] and not f[2].strip(b"0")]
        cell = next((letters + number for name, letters, number in zero if name == b"c"), None)
        raise refuse(
            "row-zero",
            variant=None if cell else "row",
            sheet=self.sheet,
            cell=cell.decode("ascii") if cell else None,
        )

    @property
    def rows(self) -> int:
        return max(self.row_tags, self.max_row)

    @property
    def columns(self) -> int:
        return self.max_column


class OdsExtent(ContentHandler):
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


class Budget:
    """Bytes inflated so far across the whole archive, enforced as they come out."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.total = 0

    def take(self, count: int) -> None:
        self.total += count
        if self.total > self.limits.max_total_uncompressed:
            raise refuse(
                "zip-bomb",
                variant="budget",
                megabytes=self.limits.max_total_uncompressed // (1024 * 1024),
            )


_LOCAL_HEADER = struct.Struct(zipfile.structFileHeader)
_UTF8_NAME = 0x800
_UNSUPPORTED_FLAGS = 0x20 | 0x40  # patched data, strong encryption: zipfile refuses them too


def _damaged(name: str) -> Refused:
    return refuse("truncated-file", variant="damaged-part", part=name)


def _member_data(data: bytes, info: zipfile.ZipInfo) -> memoryview:
    """A member's compressed bytes, found through its local header after the same checks as
    ``ZipFile.open`` (signature, name agreeing with the directory, no unsupported flags)."""
    start = info.header_offset
    header = data[start : start + _LOCAL_HEADER.size]
    if len(header) != _LOCAL_HEADER.size:
        raise _damaged(info.filename)
    magic, _, _, flags, _, _, _, _, _, _, name_length, extra_length = _LOCAL_HEADER.unpack(header)
    if magic != zipfile.stringFileHeader:
        raise _damaged(info.filename)
    if info.flag_bits & _UNSUPPORTED_FLAGS:
        raise refuse("unsupported-file", variant="zip-flags", part=info.filename)
    name_start = start + _LOCAL_HEADER.size
    raw_name = data[name_start : name_start + name_length]
    if raw_name.decode("utf-8" if flags & _UTF8_NAME else "cp437", "replace") != (
        info.orig_filename
    ):
        raise _damaged(info.filename)
    begin = name_start + name_length + extra_length
    compressed = memoryview(data)[begin : begin + info.compress_size]
    if len(compressed) != info.compress_size:
        raise _damaged(info.filename)
    return compressed


def inflate(data: bytes, info: zipfile.ZipInfo, budget: Budget) -> Iterator[bytes]:
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
            except zlib.error:
                raise _damaged(info.filename) from None
            pending = inflater.unconsumed_tail
        if not chunk:
            break
        produced += len(chunk)
        if produced > info.file_size:
            raise refuse("zip-bomb", variant="hidden-data", part=info.filename)
        budget.take(len(chunk))
        crc = zlib.crc32(chunk, crc)
        yield chunk
    if produced != info.file_size:
        raise refuse("truncated-file", variant="short-part", part=info.filename)
    if crc != info.CRC:
        raise _damaged(info.filename)


def _utf8(first: bytes) -> bool:
    """False for UTF-16/32 text, which would hide a DOCTYPE or a far-away cell from a byte scan:
    such a part is transcoded to UTF-8 first (``_transcoded``), or refused."""
    return not (
        first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in first[:4]
    )


_ENCODING_DECLARATION = re.compile(r"""^(\s*<\?xml[^>]*?encoding\s*=\s*)["'][^"']*["']""")


def _refuse_encoding(name: str, encoding: str) -> Refused:
    return refuse("xml-encoding", part=name, encoding=encoding)


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


DIMENSION_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?dimension\s[^>]*?>")
_DIMENSION_ROW = re.compile(rb"""\bref\s*=\s*["'][^"']*?(?<![0-9])0+(?![0-9])""")


def dimension_names_row_zero(first: bytes) -> bool:
    """A sheet's ``<dimension>`` (a hint placed before its cells) naming row 0: python-calamine
    then refuses the whole workbook, though the cells themselves are fine."""
    found = DIMENSION_TAG.search(first, 0, 8192)
    return found is not None and _DIMENSION_ROW.search(found.group()) is not None


def _is_media(name: str) -> bool:
    """Pictures no reader opens (an SVG may legitimately carry a DOCTYPE)."""
    return "/media/" in f"/{name}" or name.startswith(("Pictures/", "Thumbnails/"))


def scan_member(
    data: bytes,
    info: zipfile.ZipInfo,
    budget: Budget,
    extent: SheetExtent | None,
    ods: OdsExtent | None = None,
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
    chunks: Iterator[bytes] = inflate(data, info, budget)
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
        if extent is not None and repairs is not None and dimension_names_row_zero(opening):
            repairs.setdefault(name, b"")  # b"": the member as it is, less its dimension
    for chunk, last in _with_last(chunks):
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
            extent.scan(body, final=last)
        if parser is not None:
            try:
                parser.feed(chunk)
            except (SAXException, DefusedXmlException, ValueError) as exc:
                raise refuse("truncated-file", variant="sheet-data", detail=str(exc)) from None
    if carry:
        _refuse_dtd(carry, name)
        if extent is not None:
            extent.scan(carry, final=True)
    if parser is not None:
        try:
            parser.close()
        except (SAXException, DefusedXmlException, ValueError) as exc:
            raise refuse("truncated-file", variant="sheet-data", detail=str(exc)) from None
    return b"".join(kept) if keep else None


def _with_last(chunks: Iterator[bytes]) -> Iterator[tuple[bytes, bool]]:
    """Each chunk, and whether it is the member's last."""
    previous = next(chunks, None)
    for chunk in chunks:
        yield previous, False  # type: ignore[misc]
        previous = chunk
    if previous is not None:
        yield previous, True


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
        raise refuse("xml-attack", variant="long-tag", part=name)
    return (text, b"") if len(tail) > _CARRY_LIMIT else (text[:cut], tail)


def _refuse_dtd(text: bytes, name: str) -> None:
    """Refuse a DOCTYPE or ENTITY declaration anywhere in ``text``. '!' is rare in a part (unlike
    '<'), so looking for it first makes the check nearly free."""
    if b"!" in text and _DTD.search(text):
        raise refuse("xml-attack", variant="doctype", part=name)


def too_big(sheet: str, rows: int, columns: int, limits: Limits, *, at_least: bool = False) -> None:
    """Refuse a sheet beyond the limits; ``at_least``: the scan stopped before the sheet's end,
    so the extent given is where it got to, not where the sheet ends."""
    variant = "at-least" if at_least else None
    if rows > limits.max_rows:
        raise refuse("too-many-rows", variant=variant, sheet=sheet, rows=rows)
    if columns > limits.max_columns:
        raise refuse("too-many-columns", variant=variant, sheet=sheet, columns=columns)
