"""Every file a school sends gets the true reason: each case here was once told something untrue
(an encrypted .ods "damaged", an .xlsx typed by Default content types "not a workbook", an
8-column sheet "reaches column 468" ...). Real files for these cases are in
tests/data/other-apps (test_other_apps); these are made from a real return."""

from __future__ import annotations

import re
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
import xlsxwriter

from sheet_tools.definitions.frameworks import Framework, Registry
from sheet_tools.intake.guard import Limits, guard_bytes, guard_file
from sheet_tools.intake.read import read_return
from sheet_tools.intake.validate import check_file
from sheet_tools.problems.codes import CODES

from .support import corpus, returns
from .support.helpers import codes

AREA = "2 Environment"
_MAIN_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


@pytest.fixture(scope="module")
def base(spr: Framework, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return returns.valid_return(spr, tmp_path_factory.mktemp("base"))


def _types(path: Path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read("[Content_Types].xml")


def test_parts_typed_by_default_content_types_are_a_workbook(
    base: Path, registry: Registry, tmp_path: Path
) -> None:
    """The package format lets a Default (by extension) type a part: a return repackaged with
    no Override at all is the same workbook, read in full."""
    types = _types(base)
    overrides = re.findall(rb'<Override PartName="([^"]+)" ContentType="([^"]+)"\s*/>', types)
    main = next(name for name, kind in overrides if kind == _MAIN_TYPE.encode())
    assert main.endswith(b".xml")
    # Every .xml part typed as the workbook by default, the rest as plain XML by override.
    rewritten = re.sub(rb"<Override [^>]*/>", b"", types)
    rewritten = re.sub(rb'<Default Extension="xml" ContentType="[^"]+"\s*/>', b"", rewritten)
    others = b"".join(
        b'<Override PartName="%s" ContentType="%s"/>' % (name, kind)
        for name, kind in overrides
        if name != main
    )
    rewritten = rewritten.replace(
        b"</Types>",
        b'<Default Extension="XML" ContentType="%s"/>%s</Types>' % (_MAIN_TYPE.encode(), others),
    )
    path = corpus.rewrite_zip(
        base, tmp_path / "defaults.xlsx", replace={"[Content_Types].xml": rewritten}
    )
    assert b'Override PartName="%s"' % main not in _types(path)
    report, valid = check_file(path, registry)
    _, expected = check_file(base, registry)
    assert report.status == "accepted", report.errors
    assert valid is not None and expected is not None
    assert valid.judgements == expected.judgements


def test_an_override_wins_over_a_default_and_names_compare_without_case(
    base: Path, tmp_path: Path
) -> None:
    types = _types(base)
    word = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    # The workbook part's Override, its name in other case, says it is a Word document; the
    # Default for .xml says workbook. The Override is what a conforming reader goes by.
    as_word = re.sub(
        rb'<Override PartName="/xl/workbook.xml" ContentType="[^"]+"\s*/>',
        b'<Override PartName="/XL/Workbook.XML" ContentType="%s"/>' % word,
        types,
    )
    as_word = re.sub(
        rb'<Default Extension="xml" ContentType="[^"]+"\s*/>',
        b'<Default Extension="xml" ContentType="%s"/>' % _MAIN_TYPE.encode(),
        as_word,
    )
    assert as_word != types
    path = corpus.rewrite_zip(
        base, tmp_path / "word.xlsx", replace={"[Content_Types].xml": as_word}
    )
    issues = guard_file(path).issues
    assert codes(issues) == ["not-a-workbook"] and "Word" in issues[0].message


def test_part_names_differing_only_in_case_are_duplicates(base: Path, tmp_path: Path) -> None:
    part = corpus.sheet_part(base, AREA)
    with zipfile.ZipFile(base) as archive:
        sheet = archive.read(part)
    twin = part.rsplit("/", 1)[0] + "/" + part.rsplit("/", 1)[1].capitalize()
    assert twin != part and twin.lower() == part.lower()
    path = corpus.rewrite_zip(base, tmp_path / "twins.xlsx", add={twin: sheet})
    issues = guard_file(path).issues
    assert codes(issues) == ["duplicate-part"]
    assert part in issues[0].message and twin in issues[0].message


def _without_refs(xml: bytes) -> bytes:
    return re.sub(rb'(<c)\s+r="[A-Z]+\d+"', rb"\1", xml)


def test_cells_without_references_are_placed_in_their_row(
    base: Path, registry: Registry, tmp_path: Path
) -> None:
    """The r attribute is optional: a cell without one follows the previous cell of its row, so
    a sheet's width is its widest row, not its count of cells."""
    part = corpus.sheet_part(base, AREA)
    with zipfile.ZipFile(base) as archive:
        xml = archive.read(part)
    # Answers typed further down, four to a row (the sheet's own width).
    extra = b"".join(
        b'<row r="%d">' % row + b"<c><v>1</v></c>" * 4 + b"</row>" for row in range(100, 160)
    )
    xml = xml.replace(b"</sheetData>", extra + b"</sheetData>", 1)
    widest = max(len(re.findall(rb"<c[\s>/]", row)) for row in re.findall(rb"<row.*?</row>", xml))
    total = len(re.findall(rb"<c[\s>/]", xml))
    assert total > 200 >= widest  # counted across the sheet, it would be "too wide"
    stripped = _without_refs(xml)
    assert b'<c r="' not in stripped
    path = corpus.rewrite_zip(base, tmp_path / "no-refs.xlsx", replace={part: stripped})
    for chunk in (256 * 1024, 97):  # one chunk, and a row's cells spread over many
        assert guard_bytes(path.read_bytes(), Limits(chunk_bytes=chunk)).issues == []
    # A row that is truly too wide is still refused, with its real width.
    wide = b"<row>" + b"<c><v>1</v></c>" * 201 + b"</row>"
    too_wide = corpus.rewrite_zip(
        base,
        tmp_path / "wide.xlsx",
        replace={part: stripped.replace(b"</sheetData>", wide + b"</sheetData>", 1)},
    )
    issues = guard_file(too_wide).issues
    assert codes(issues) == ["too-many-columns"]
    assert "reaches column 201;" in issues[0].message


def test_a_scan_stopped_early_says_at_least(base: Path, tmp_path: Path) -> None:
    """The guard stops at the first chunk over the limit: it then says how far it got, "at
    least"; when it has seen the whole sheet, it says exactly."""
    path = corpus.million_row_copy(base, tmp_path, AREA, rows=50_000)
    early = guard_file(path).issues
    assert codes(early) == ["too-many-rows"]
    shown = int(re.search(r"row ([\d,]+)", early[0].message).group(1).replace(",", ""))
    assert "at least row" in early[0].message and 5_000 < shown < 50_000
    whole = guard_bytes(path.read_bytes(), Limits(chunk_bytes=64 * 1024 * 1024)).issues
    assert codes(whole) == ["too-many-rows"]
    assert "reaches row 50,000;" in whole[0].message and "at least" not in whole[0].message


def test_a_workbook_of_1024_sheets_is_refused_for_its_sheet_count(tmp_path: Path) -> None:
    path = tmp_path / "sheets.xlsx"
    book = xlsxwriter.Workbook(str(path))
    for number in range(1024):
        book.add_worksheet(f"S{number}").write(0, 0, number)
    book.close()
    issues = guard_file(path).issues
    assert codes(issues) == ["too-many-sheets"]
    assert "1,024 sheets" in issues[0].message
    assert "unsafe" not in CODES["too-many-sheets"].title and "expand" not in issues[0].message


def test_an_encrypted_ods_is_called_encrypted_not_damaged(base: Path, tmp_path: Path) -> None:
    """As LibreOffice writes one: the manifest declares encryption-data for content.xml, whose
    bytes are ciphertext (not XML). The manifest is read before content.xml is parsed."""
    ods = corpus.ods_copy(base, tmp_path)
    with zipfile.ZipFile(ods) as archive:
        manifest = archive.read("META-INF/manifest.xml")
    entry = re.search(rb'<manifest:file-entry manifest:full-path="content.xml"[^>]*?/>', manifest)
    assert entry is not None
    encrypted_entry = entry.group()[:-2] + (
        b'><manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="x">'
        b'<manifest:algorithm manifest:algorithm-name="Blowfish CFB"/>'
        b"</manifest:encryption-data></manifest:file-entry>"
    )
    path = corpus.rewrite_zip(
        ods,
        tmp_path / "encrypted.ods",
        replace={
            "META-INF/manifest.xml": manifest.replace(entry.group(), encrypted_entry),
            "content.xml": bytes(range(256)) * 40,
        },
    )
    issues = guard_file(path).issues
    assert codes(issues) == ["encrypted-workbook"] and "password" in issues[0].message


@pytest.mark.parametrize("version", [b"\x00", b"\x02", b"\x04"])
def test_excel_2_to_4_files_are_old_excel(version: bytes) -> None:
    """BIFF2-4: a bare record stream opening with a BOF record (type 0x0009, 0x0209, 0x0409),
    then EOF."""
    bof = b"\x09" + version + b"\x06\x00" + b"\x00\x00\x10\x00\x00\x00"
    data = bof + b"\x0a\x00\x00\x00"
    issues = guard_bytes(data).issues
    assert codes(issues) == ["unsupported-file"]
    assert "Excel" in issues[0].message and "old format" in issues[0].message
    assert "Save As" in issues[0].advice or ".xlsx" in issues[0].advice


def test_an_xlsb_is_named_and_asked_for_as_xlsx() -> None:
    problem = CODES["unsupported-file"]
    assert "Excel Binary Workbook" in problem.template_for("xlsb")
    assert "Save As" in problem.advice_for("xlsb") and ".xlsx" in problem.advice_for("xlsb")


def test_numbers_documents_are_called_numbers(tmp_path: Path) -> None:
    """A Numbers document (2013 on) is a zip of .iwa parts under Index/, with no content list."""
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("Index/Document.iwa", b"\x00\x1b\x00\x00" + bytes(27))
        archive.writestr("Index/Metadata.iwa", b"\x00\x05\x00\x00" + bytes(5))
        archive.writestr("Metadata/DocumentIdentifier", b"0C1E1B2A-1111-2222-3333-444455556666")
        archive.writestr("preview.jpg", b"\xff\xd8\xff\xe0")
    issues = guard_bytes(out.getvalue()).issues
    assert codes(issues) == ["not-a-workbook"] and "Numbers" in issues[0].message


@pytest.mark.realapp
@pytest.mark.parametrize(
    ("convert_to", "suffix", "words"),
    [("fods", ".fods", "flat OpenDocument"), ("slk", ".slk", "SYLK"), ("dif", ".dif", "DIF")],
)
def test_other_spreadsheet_formats_are_called_what_they_are(
    convert_to: str, suffix: str, words: str, base: Path, tmp_path: Path
) -> None:
    path = corpus.libreoffice_copy(base, tmp_path, "return" + suffix, convert_to)
    issues = guard_file(path).issues
    assert codes(issues) == ["not-a-workbook"]
    assert words in issues[0].message and "CSV" not in issues[0].message


def test_a_reader_failure_on_a_whole_file_is_not_called_damage(
    base: Path, registry: Registry, tmp_path: Path
) -> None:
    """Well-formed parts the reader still cannot read (here a cell type it does not know): the
    school is told it could not be read and why, never that the file is damaged."""
    part = corpus.sheet_part(base, AREA)
    odd = b'<row r="90"><c r="B90" t="bogus"><v>1</v></c></row>'
    path = corpus.rewrite_zip(
        base,
        tmp_path / "odd-type.xlsx",
        replace={part: lambda xml: xml.replace(b"</sheetData>", odd + b"</sheetData>", 1)},
    )
    assert guard_file(path).issues == []
    raw, issues = read_return(path, registry)
    assert raw is None and codes(issues) == ["reader-error"]
    assert "could not be read" in issues[0].message and "bogus" in issues[0].message
    assert "damaged" not in issues[0].message
