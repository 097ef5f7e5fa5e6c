"""Factories for the test corpus: every valid, broken and hostile return, made as real files.

Each function writes one file (into the folder it is given, normally ``tmp_path``) and returns its
path. Valid returns are built by ``tests.support.returns``; damaged ones are edited copies of a
valid return, changed either with openpyxl (as a person would in Excel) or at the zip/XML level
(as an attacker would). The hostile files are built without ever inflating them: the zip bomb is
written as raw deflate blocks repeated, so a 3 GB sheet costs a few MB of disk and about a second.
"""

from __future__ import annotations

import re
import shutil
import struct
import warnings
import zipfile
import zlib
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from msoffcrypto.format.ooxml import OOXMLFile
from openpyxl import Workbook, load_workbook

from sheet_tools.definitions import cell_layout
from sheet_tools.definitions.frameworks import Framework

from .realapp import _convert, require_libreoffice

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def find_row(ws, item_id: str) -> int:
    """The row holding ``item_id`` in column A (where the reader looks for it)."""
    for row in range(1, ws.max_row + 1):
        if ws.cell(row=row, column=cell_layout.ID_COL).value == item_id:
            return row
    raise KeyError(item_id)


# --- valid returns ------------------------------------------------------------------------------


def edited_copy(source: Path, target: Path, edit: Callable[[Workbook], None]) -> Path:
    """Open ``source`` with openpyxl, apply ``edit`` and save to ``target`` (a person's edit)."""
    book = load_workbook(source)
    edit(book)
    target.parent.mkdir(parents=True, exist_ok=True)
    book.save(target)
    return target


def _statement_rows(ws, ids: list[str]) -> list[int]:
    return [find_row(ws, sid) for sid in ids]


def sorted_rows_copy(source: Path, folder: Path, framework: Framework, sheet_id: str) -> Path:
    """The statement rows of one sheet in reverse order (as "Sort Z to A" would leave them)."""
    sheet = next(s for s in framework.sheets if s.id == sheet_id)

    def reverse(book: Workbook) -> None:
        ws = book[sheet.sheet_name]
        rows = _statement_rows(ws, [st.id for st in sheet.statements])
        width = cell_layout.first_text_column(sheet.judged) + len(sheet.columns)
        values = [[ws.cell(r, c).value for c in range(1, width)] for r in rows]
        for row, row_values in zip(rows, reversed(values), strict=True):
            for column, value in enumerate(row_values, start=1):
                ws.cell(row, column).value = value

    return edited_copy(source, folder / "sorted.xlsx", reverse)


def inserted_rows_copy(
    source: Path, folder: Path, framework: Framework, sheet_id: str, *, count: int = 3
) -> Path:
    """Blank rows inserted in the middle of one sheet's statements, moving the rest down."""
    sheet = next(s for s in framework.sheets if s.id == sheet_id)

    def insert(book: Workbook) -> None:
        ws = book[sheet.sheet_name]
        middle = find_row(ws, sheet.statements[len(sheet.statements) // 2].id)
        ws.insert_rows(middle, amount=count)
        ws.cell(middle, 2).value = "A note the school added between the statements"

    return edited_copy(source, folder / "inserted.xlsx", insert)


def renamed_sheet_copy(source: Path, folder: Path, old: str, new: str) -> Path:
    """One sheet renamed (the About sheet still names the old one)."""

    def rename(book: Workbook) -> None:
        book[old].title = new

    return edited_copy(source, folder / "renamed-sheet.xlsx", rename)


def deleted_sheet_copy(source: Path, folder: Path, name: str) -> Path:
    def delete(book: Workbook) -> None:
        del book[name]

    return edited_copy(source, folder / "deleted-sheet.xlsx", delete)


def set_cells_copy(
    source: Path, folder: Path, cells: dict[tuple[str, str], object], name: str = "edited.xlsx"
) -> Path:
    """Cells overwritten by (sheet name, A1 ref) -> value, e.g. an id changed in column A or a
    formula typed into a judgement cell."""

    def write(book: Workbook) -> None:
        for (sheet, ref), value in cells.items():
            book[sheet][ref].value = value

    return edited_copy(source, folder / name, write)


def about_copy(
    source: Path, folder: Path, *, template_id: str | None = None, version: str | None = None
) -> Path:
    """The About sheet's identity rows changed (another form, or a version nobody knows)."""

    def edit(book: Workbook) -> None:
        ws = book[cell_layout.ABOUT_SHEET]
        for row in range(1, ws.max_row + 1):
            key = ws.cell(row, 1).value
            if key == cell_layout.KEY_TEMPLATE and template_id is not None:
                ws.cell(row, 2).value = template_id
            if key == cell_layout.KEY_VERSION and version is not None:
                ws.cell(row, 2).value = version

    return edited_copy(source, folder / "about-edited.xlsx", edit)


def foreign_workbook(folder: Path) -> Path:
    """A perfectly good workbook that sheet-tools did not generate."""
    book = Workbook()
    ws = book.active
    ws.title = "Budget"
    ws.append(["Item", "Cost"])
    ws.append(["Laptops", 4000])
    target = folder / "budget.xlsx"
    book.save(target)
    return target


# --- zip-level surgery ----------------------------------------------------------------------------
def sheet_part(path: Path, sheet_name: str) -> str:
    """The zip member holding a sheet, found through workbook.xml and its relationships."""
    with zipfile.ZipFile(path) as archive:
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels.iter(f"{_REL}Relationship")}
    for sheet in workbook.iter(f"{_MAIN}sheet"):
        if sheet.get("name") == sheet_name:
            target = targets[sheet.get(_R_ID)]
            return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    raise KeyError(sheet_name)


def rewrite_zip(
    source: Path,
    target: Path,
    *,
    replace: dict[str, bytes | Callable[[bytes], bytes]] | None = None,
    add: dict[str, bytes] | None = None,
) -> Path:
    """Copy a zip member by member, replacing some (bytes, or a function of the old bytes) and
    adding others."""
    replace = replace or {}
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info)
            change = replace.get(info.filename)
            if callable(change):
                data = change(data)
            elif change is not None:
                data = change
            new.writestr(info.filename, data)
        for name, data in (add or {}).items():
            new.writestr(name, data)
    return target


def _with_doctype(xml: bytes, doctype: bytes, entity_ref: bytes) -> bytes:
    """The sheet XML with a DOCTYPE after its declaration and an entity used in a new cell."""
    end_decl = xml.index(b"?>") + 2 if xml.startswith(b"<?xml") else 0
    body = xml[:end_decl] + doctype + xml[end_decl:]
    cell = b'<row r="60"><c r="A60" t="inlineStr"><is><t>' + entity_ref + b"</t></is></c></row>"
    return body.replace(b"</sheetData>", cell + b"</sheetData>", 1)


BILLION_LAUGHS = (
    b'<!DOCTYPE worksheet [<!ENTITY lol0 "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, b"".join(b"&lol%d;" % (i - 1) for _ in range(10)))
        for i in range(1, 10)
    )
    + b"]>"
)


def billion_laughs_copy(source: Path, folder: Path, sheet_name: str) -> Path:
    """A sheet whose XML declares nine levels of nested entities (10^9 'lol's if expanded)."""
    part = sheet_part(source, sheet_name)
    return rewrite_zip(
        source,
        folder / "billion-laughs.xlsx",
        replace={part: lambda xml: _with_doctype(xml, BILLION_LAUGHS, b"&lol9;")},
    )


def external_entity_copy(source: Path, folder: Path, sheet_name: str) -> Path:
    """A sheet whose XML pulls in a file from the machine reading it (XXE)."""
    part = sheet_part(source, sheet_name)
    doctype = b'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    return rewrite_zip(
        source,
        folder / "external-entity.xlsx",
        replace={part: lambda xml: _with_doctype(xml, doctype, b"&xxe;")},
    )


def macro_enabled_copy(source: Path, folder: Path) -> Path:
    """The return saved as .xlsm with a VBA project part (never run by anything here)."""
    macro_main = b"application/vnd.ms-excel.sheet.macroEnabled.main+xml"
    plain_main = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"

    def content_types(xml: bytes) -> bytes:
        vba = b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
        return xml.replace(plain_main, macro_main).replace(b"<Default ", vba + b"<Default ", 1)

    def workbook_rels(xml: bytes) -> bytes:
        rel = (
            b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/'
            b'relationships/vbaProject" Target="vbaProject.bin"/>'
        )
        return xml.replace(b"</Relationships>", rel + b"</Relationships>")

    return rewrite_zip(
        source,
        folder / "macro-enabled.xlsm",
        replace={"[Content_Types].xml": content_types, "xl/_rels/workbook.xml.rels": workbook_rels},
        add={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 a VBA project would be here; never run"},
    )


def _replace_cell(xml: bytes, ref: str, cell: bytes) -> bytes:
    start = xml.index(b'<c r="%s"' % ref.encode())
    end_tag = xml.index(b">", start)
    end = end_tag + 1 if xml[end_tag - 1 : end_tag] == b"/" else xml.index(b"</c>", start) + 4
    return xml[:start] + cell + xml[end:]


def formula_cached_copy(
    source: Path, folder: Path, sheet_name: str, ref: str, formula: str, cached: str | None
) -> Path:
    """One cell replaced by a formula cell, with a saved (cached) text result or none."""
    part = sheet_part(source, sheet_name)
    value = b"" if cached is None else b"<v>%s</v>" % escape(cached).encode()
    cell = b'<c r="%s" t="str"><f>%s</f>%s</c>' % (ref.encode(), escape(formula).encode(), value)
    return rewrite_zip(
        source, folder / "formula.xlsx", replace={part: lambda xml: _replace_cell(xml, ref, cell)}
    )


def inline_text_copy(source: Path, folder: Path, sheet_name: str, ref: str, text: str) -> Path:
    """One cell set to ``text`` at the XML level, bypassing openpyxl (which cuts text at Excel's
    32,767-character limit; other applications and scripts do not)."""
    part = sheet_part(source, sheet_name)
    cell = b'<c r="%s" t="inlineStr"><is><t>%s</t></is></c>' % (
        ref.encode(),
        escape(text).encode(),
    )
    return rewrite_zip(
        source,
        folder / "inline-text.xlsx",
        replace={part: lambda xml: _replace_cell(xml, ref, cell)},
    )


def far_cell_copy(source: Path, folder: Path, sheet_name: str, ref: str = "XFD1048576") -> Path:
    """A tiny file with one extra cell far away: a reader laying sheets out as a dense grid would
    need rows x columns cells (for XFD1048576, 17 billion: python-calamine aborts the process)."""
    part = sheet_part(source, sheet_name)
    row = "".join(ch for ch in ref if ch.isdigit())
    cell = b'<row r="%s"><c r="%s"><v>1</v></c></row>' % (row.encode(), ref.encode())
    return rewrite_zip(
        source,
        folder / f"far-cell-{ref}.xlsx",
        replace={part: lambda xml: xml.replace(b"</sheetData>", cell + b"</sheetData>", 1)},
    )


def million_row_copy(source: Path, folder: Path, sheet_name: str, *, rows: int = 1_048_576) -> Path:
    """One sheet with numbered rows down to ``rows`` (as a fill-down to the bottom leaves it),
    written to the zip as a stream, never held whole in memory."""
    part = sheet_part(source, sheet_name)
    target = folder / "million-rows.xlsx"
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename != part:
                new.writestr(info.filename, data)
                continue
            head, tail = data.split(b"</sheetData>", 1)
            with new.open(info.filename, "w", force_zip64=True) as out:
                out.write(head)
                first = max(int(n) for n in re.findall(rb'<row r="(\d+)"', head)) + 1
                batch: list[bytes] = []
                for number in range(first, rows + 1):
                    batch.append(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % ((number,) * 3))
                    if len(batch) == 10_000:
                        out.write(b"".join(batch))
                        batch.clear()
                out.write(b"".join(batch) + b"</sheetData>" + tail)
    return target


# --- files that are not what their name says ----------------------------------------------------
def empty_file(folder: Path, name: str = "empty.xlsx") -> Path:
    target = folder / name
    target.write_bytes(b"")
    return target


def truncated_copy(source: Path, folder: Path, fraction: float = 0.6) -> Path:
    """The first part of a real return, as an interrupted copy or download leaves it."""
    data = source.read_bytes()
    target = folder / "truncated.xlsx"
    target.write_bytes(data[: int(len(data) * fraction)])
    return target


def csv_named_xlsx(folder: Path) -> Path:
    target = folder / "export.xlsx"
    target.write_text("school,urn,judgement\nOakfield Primary,123456,Secure\n", encoding="utf-8")
    return target


def html_named_xls(folder: Path) -> Path:
    """What web systems' "export to Excel" buttons often produce."""
    target = folder / "report.xls"
    target.write_text("<html><body><table><tr><td>Secure</td></tr></table></body></html>")
    return target


def pdf_named_xlsx(folder: Path) -> Path:
    target = folder / "scan.xlsx"
    target.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
    return target


def docx_named_xlsx(folder: Path) -> Path:
    """A minimal Word document (a real OOXML package) given a spreadsheet's name."""
    target = folder / "letter.xlsx"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats'
            '-package.relationships+xml"/><Override PartName="/word/document.xml" ContentType="'
            'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
            "</Types>",
        )
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
            "</Relationships>",
        )
        archive.writestr(
            "word/document.xml",
            '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
            'wordprocessingml/2006/main"><w:body><w:p/></w:body></w:document>',
        )
    return target


def encrypted_copy(source: Path, folder: Path, password: str = "Secret123") -> Path:
    """The return encrypted with a password (ECMA-376 agile encryption, as Excel's "Encrypt with
    Password" writes it: an OLE2 container holding EncryptionInfo and EncryptedPackage)."""
    out = BytesIO()
    with source.open("rb") as handle:
        OOXMLFile(handle).encrypt(password, out)
    target = folder / "encrypted.xlsx"
    target.write_bytes(out.getvalue())
    return target


# --- zip bombs ----------------------------------------------------------------------------------
_BOMB_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    b'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
    b'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="'
    b'application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.'
    b'openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/'
    b'worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    b'spreadsheetml.worksheet+xml"/></Types>'
)
_BOMB_ROOT_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.'
    b'org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
    b'openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/'
    b'workbook.xml"/></Relationships>'
)
_BOMB_WORKBOOK = (
    b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
    b'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_BOMB_WORKBOOK_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.'
    b'org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
    b'openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/'
    b'sheet1.xml"/></Relationships>'
)
_SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
    b'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'
)
_SHEET_TAIL = b"</t></is></c></row></sheetData></worksheet>"


class _RawMember:
    """A zip member given as already-deflated blocks, with its real CRC and sizes."""

    def __init__(self, name: str, data: bytes | None = None) -> None:
        self.name = name.encode()
        self.blocks: list[tuple[bytes, int]] = []  # (deflated bytes, times repeated)
        self.crc = 0
        self.size = 0
        self.compressed = 0
        if data is not None:
            self.add_plain(data)

    def add_plain(self, data: bytes) -> None:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        self.add_block(compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH), data, 1)

    def add_block(self, deflated: bytes, plain: bytes, times: int) -> None:
        """``deflated`` must decode to ``plain`` on its own (ends in a full flush)."""
        self.blocks.append((deflated, times))
        for _ in range(times):
            self.crc = zlib.crc32(plain, self.crc)
        self.size += len(plain) * times
        self.compressed += len(deflated) * times

    def finish(self) -> None:
        self.blocks.append((b"\x03\x00", 1))  # an empty final block ends the deflate stream
        self.compressed += 2


def _write_raw_zip(
    target: Path, members: list[_RawMember], declared: dict[str, tuple[int, int]] | None = None
) -> Path:
    """Write members whose data is already deflated: the zip structure by hand, because no
    library writes pre-compressed data. ``declared`` overrides (size, crc) in the headers, to lie.
    Sizes must stay below 4 GiB (no zip64)."""
    declared = declared or {}
    central = b""
    with target.open("wb") as out:
        for member in members:
            size, crc = declared.get(member.name.decode(), (member.size, member.crc))
            offset = out.tell()
            fields = (20, 0, 8, 0, 0x21, crc, member.compressed, size, len(member.name))
            out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields, 0) + member.name)
            for deflated, times in member.blocks:
                for _ in range(times):
                    out.write(deflated)
            central += (
                struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, *fields, 0, 0, 0, 0, 0, offset)
                + member.name
            )
        start = out.tell()
        out.write(central)
        out.write(
            struct.pack(
                "<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), start, 0
            )
        )
    return target


def _bomb_members(sheet: _RawMember) -> list[_RawMember]:
    return [
        _RawMember("[Content_Types].xml", _BOMB_TYPES),
        _RawMember("_rels/.rels", _BOMB_ROOT_RELS),
        _RawMember("xl/workbook.xml", _BOMB_WORKBOOK),
        _RawMember("xl/_rels/workbook.xml.rels", _BOMB_WORKBOOK_RELS),
        sheet,
    ]


def _bomb_sheet(megabytes: int) -> _RawMember:
    sheet = _RawMember("xl/worksheets/sheet1.xml")
    sheet.add_plain(_SHEET_HEAD)
    plain = b"a" * (1024 * 1024)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(plain) + compressor.flush(zlib.Z_FULL_FLUSH)
    sheet.add_block(block, plain, megabytes)
    sheet.add_plain(_SHEET_TAIL)
    sheet.finish()
    return sheet


def zip_bomb(folder: Path, *, megabytes: int = 3 * 1024) -> Path:
    """A well-formed .xlsx (right sizes, right CRC) whose one cell holds ``megabytes`` MB of
    text: 3 GB by default, in a file of about 3 MB. Built in about a second; never inflated."""
    return _write_raw_zip(folder / "zip-bomb.xlsx", _bomb_members(_bomb_sheet(megabytes)))


def lying_zip_bomb(folder: Path, *, megabytes: int = 512) -> Path:
    """A bomb whose headers claim the sheet is 8 KB (with the CRC of those first 8 KB, so a
    reader that stops at the declared size finds nothing wrong): only a guard that counts what
    really comes out of the inflater notices."""
    sheet = _bomb_sheet(megabytes)
    claimed = 8192
    prefix = (_SHEET_HEAD + b"a" * claimed)[:claimed]
    return _write_raw_zip(
        folder / "lying-zip-bomb.xlsx",
        _bomb_members(sheet),
        declared={"xl/worksheets/sheet1.xml": (claimed, zlib.crc32(prefix))},
    )


def many_members_zip(folder: Path, members: int = 5000) -> Path:
    target = folder / "many-parts.xlsx"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _BOMB_TYPES)
        for number in range(members):
            archive.writestr(f"xl/media/image{number}.png", b"")
    return target


# --- real applications ----------------------------------------------------------------------------
def legacy_xls_copy(source: Path, folder: Path) -> Path:
    """The return saved by LibreOffice as Excel 97-2003 (.xls, an OLE2 compound file)."""
    require_libreoffice()
    return _convert(source.resolve(), folder / "legacy.xls", "xls:MS Excel 97", 180)


def ods_copy(source: Path, folder: Path) -> Path:
    """The return saved by LibreOffice as OpenDocument (.ods)."""
    require_libreoffice()
    return _convert(source.resolve(), folder / "return.ods", "ods", 180)


def libreoffice_copy(source: Path, folder: Path, name: str, convert_to: str) -> Path:
    """The return saved by LibreOffice in another format (``convert_to``: fods, slk, dif ...)."""
    require_libreoffice()
    return _convert(source.resolve(), folder / name, convert_to, 180)


def copy_to(source: Path, folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copyfile(source, folder / name))


# --- shapes that stop a reader (run in the bounded worker) ----------------------------------------
_SST_TYPE = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_SST_REL = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def shared_strings_copy(
    source: Path, folder: Path, attributes: str, name: str = "shared-strings.xlsx"
) -> Path:
    """A real return with a small ``xl/sharedStrings.xml`` added (three strings, none used)
    whose ``<sst>`` start tag carries ``attributes``, e.g. ``count="4294967295"``. python-calamine
    0.9 sizes its string table from the declared count before reading a string, so a huge count
    makes it ask for count x 24 bytes (103 GB for 4294967295) and abort the process."""
    strings = b"".join(b"<si><t>string %d</t></si>" % i for i in range(3))
    sst = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        + attributes.encode()
        + b">"
        + strings
        + b"</sst>"
    )
    override = b'<Override PartName="/xl/sharedStrings.xml" ContentType="%s"/></Types>' % _SST_TYPE
    relation = b'<Relationship Id="rIdSst" Type="%s" Target="sharedStrings.xml"/>' % _SST_REL
    return rewrite_zip(
        source,
        folder / name,
        replace={
            "[Content_Types].xml": lambda xml: xml.replace(b"</Types>", override),
            "xl/_rels/workbook.xml.rels": lambda xml: xml.replace(
                b"</Relationships>", relation + b"</Relationships>"
            ),
        },
        add={"xl/sharedStrings.xml": sst},
    )


def duplicate_part_copy(source: Path, folder: Path, sheet_name: str) -> Path:
    """A zip holding a sheet part twice under one name, the second with other contents: zip
    readers disagree on which one is the part (Python's zipfile takes the last, others the
    first), so what one reader checked is not what another reads."""
    part = sheet_part(source, sheet_name)
    target = folder / "duplicate-part.xlsx"
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            new.writestr(info.filename, old.read(info))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": the point here
            new.writestr(part, old.read(part) + b"<!-- the second copy -->")
    return target


def row_zero_copy(source: Path, folder: Path, sheet_name: str) -> Path:
    """One extra cell addressed in row 0 (``A0``), which no spreadsheet has."""
    part = sheet_part(source, sheet_name)
    cell = b'<row r="0"><c r="A0"><v>1</v></c></row>'
    return rewrite_zip(
        source,
        folder / "row-zero.xlsx",
        replace={part: lambda xml: xml.replace(b"<sheetData>", b"<sheetData>" + cell, 1)},
    )
