"""The guard, on every broken and hostile file of the corpus: each gets its own code and a plain
message, never a traceback or a hang, memory stays flat, and no original is ever changed."""

from __future__ import annotations

import json
import re
import struct
import subprocess
import sys
import zipfile
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import openpyxl
import openpyxl.xml
import pytest
from defusedxml import DefusedXmlException

from sheet_tools.definitions.frameworks import Framework, Registry
from sheet_tools.intake.guard import Limits, guard_bytes, guard_file
from sheet_tools.intake.validate import check_file
from sheet_tools.problems.codes import CODES, Severity

from .conftest import REPO
from .support import corpus, returns
from .support.helpers import codes, sha256

AREA = "2 Environment"


@pytest.fixture(scope="module")
def base(spr: Framework, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One valid return; every damaged file is a copy of it."""
    return returns.valid_return(spr, tmp_path_factory.mktemp("base"))


def test_a_valid_return_passes_and_is_hashed(base: Path) -> None:
    guarded = guard_file(base)
    assert guarded.issues == []
    assert guarded.format == "xlsx"
    assert not guarded.macro_enabled
    assert guarded.sha256 == sha256(base)
    assert guarded.data == base.read_bytes()
    assert guarded.formulas == {}


# Each factory makes one file in the folder; the guard must give exactly this code.
Factory = Callable[[Path, Path], Path]
HOSTILE: dict[str, tuple[Factory, str, str]] = {
    "empty": (lambda src, d: corpus.empty_file(d), "empty-file", "empty"),
    "truncated": (lambda src, d: corpus.truncated_copy(src, d), "truncated-file", "incomplete"),
    "csv named .xlsx": (lambda src, d: corpus.csv_named_xlsx(d), "not-a-workbook", "CSV"),
    "html named .xls": (lambda src, d: corpus.html_named_xls(d), "not-a-workbook", "web page"),
    "pdf named .xlsx": (lambda src, d: corpus.pdf_named_xlsx(d), "not-a-workbook", "PDF"),
    "docx named .xlsx": (lambda src, d: corpus.docx_named_xlsx(d), "not-a-workbook", "Word"),
    "encrypted": (lambda src, d: corpus.encrypted_copy(src, d), "encrypted-workbook", "password"),
    "billion laughs": (
        lambda src, d: corpus.billion_laughs_copy(src, d, AREA),
        "xml-attack",
        "DOCTYPE",
    ),
    "external entity": (
        lambda src, d: corpus.external_entity_copy(src, d, AREA),
        "xml-attack",
        "DOCTYPE",
    ),
    "zip bomb (3 GB)": (lambda src, d: corpus.zip_bomb(d), "zip-bomb", "3,072 MB"),
    "zip bomb with lying sizes": (
        lambda src, d: corpus.lying_zip_bomb(d),
        "zip-bomb",
        "more data than the file says",
    ),
    "thousands of parts": (lambda src, d: corpus.many_members_zip(d), "zip-bomb", "5,001 parts"),
    "a cell at XFD1048576": (
        lambda src, d: corpus.far_cell_copy(src, d, AREA),
        "too-many-rows",
        "The sheet reaches row 1,048,576",
    ),
    "a cell at column ZZ": (
        lambda src, d: corpus.far_cell_copy(src, d, AREA, "ZZ5"),
        "too-many-columns",
        "The sheet reaches column 702",
    ),
    "a million rows": (
        lambda src, d: corpus.million_row_copy(src, d, AREA),
        "too-many-rows",
        "The sheet reaches at least row",  # the scan stops at the first chunk over the limit
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_each_hostile_file_gets_its_own_code_and_is_left_alone(
    case: str, base: Path, registry: Registry, tmp_path: Path
) -> None:
    factory, code, words = HOSTILE[case]
    path = factory(base, tmp_path)
    before = sha256(path)
    report, valid = check_file(path, registry)
    assert valid is None
    assert report.status == "rejected"
    assert codes(report.errors) == [code]
    issue = report.errors[0]
    assert issue.severity is Severity.ERROR and CODES[code].severity is Severity.ERROR
    assert words in issue.message
    assert "Traceback" not in issue.message
    if code.startswith("too-many-"):  # the sheet is the issue's location, not in its message
        assert issue.sheet == AREA and AREA not in issue.message
    assert report.sha256 == before  # the report identifies the exact bytes refused
    assert sha256(path) == before  # the original is unchanged


def test_macro_enabled_workbook_is_read_with_a_warning(
    base: Path, registry: Registry, tmp_path: Path
) -> None:
    path = corpus.macro_enabled_copy(base, tmp_path)
    guarded = guard_file(path)
    assert guarded.macro_enabled
    assert codes(guarded.issues) == ["macro-enabled"]
    assert "never run" in guarded.issues[0].message
    report, valid = check_file(path, registry)
    assert report.status == "accepted"
    assert valid is not None and any(w.code == "macro-enabled" for w in valid.warnings)


@pytest.mark.realapp
def test_legacy_xls_saved_by_libreoffice_is_read(
    base: Path, registry: Registry, tmp_path: Path
) -> None:
    """Some schools still save as Excel 97-2003: python-calamine reads .xls too."""
    path = corpus.legacy_xls_copy(base, tmp_path)
    assert path.read_bytes()[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a real OLE2 file
    before = sha256(path)
    report, valid = check_file(path, registry)
    _, expected = check_file(base, registry)
    assert report.status == "accepted", report.errors
    assert valid is not None and expected is not None
    assert valid.judgements == expected.judgements and valid.cover == expected.cover
    assert sha256(path) == before


@pytest.mark.realapp
def test_an_xls_that_cannot_be_read_is_asked_for_as_xlsx(
    base: Path, registry: Registry, tmp_path: Path
) -> None:
    data = bytearray(corpus.legacy_xls_copy(base, tmp_path).read_bytes())
    data[2048:6144] = b"\xff" * 4096  # the workbook stream overwritten, the container intact
    path = tmp_path / "damaged.xls"
    path.write_bytes(bytes(data))
    report, _ = check_file(path, registry)
    assert codes(report.errors) == ["legacy-xls"]
    assert "(.xls)" in report.errors[0].message
    assert "Save As" in report.errors[0].advice and ".xlsx" in report.errors[0].advice


def test_encrypted_workbook_is_an_ole2_container_told_apart_from_xls(
    base: Path, tmp_path: Path
) -> None:
    path = corpus.encrypted_copy(base, tmp_path)
    assert path.read_bytes()[:4] == b"\xd0\xcf\x11\xe0"
    assert codes(guard_file(path).issues) == ["encrypted-workbook"]


def test_size_limit_is_checked_before_the_file_is_read(base: Path) -> None:
    limits = Limits(max_file_bytes=base.stat().st_size - 1)
    guarded = guard_file(base, limits)
    assert codes(guarded.issues) == ["too-large"]
    assert guarded.data is None  # never loaded
    assert guarded.sha256 == sha256(base)


def test_zip_limits_come_from_the_directory_and_the_stream(base: Path) -> None:
    data = base.read_bytes()
    with zipfile.ZipFile(base) as archive:
        total = sum(info.file_size for info in archive.infolist())
    assert guard_bytes(data, Limits(max_total_uncompressed=total)).issues == []
    too_small = guard_bytes(data, Limits(max_total_uncompressed=total - 1))
    assert codes(too_small.issues) == ["zip-bomb"]
    assert codes(guard_bytes(data, Limits(max_members=3)).issues) == ["zip-bomb"]


def test_duplicate_part_names_have_a_code_of_their_own(base: Path, tmp_path: Path) -> None:
    """Two parts of one name: zip readers disagree on which is meant, so none is read; the
    school is told what is wrong, not that the file is cut short or an attack."""
    target = corpus.duplicate_part_copy(base, tmp_path, AREA)
    issues = guard_file(target).issues
    assert [i.code for i in issues] == ["duplicate-part"]
    assert corpus.sheet_part(base, AREA) in issues[0].message
    assert "attack" not in issues[0].message and "ends before" not in issues[0].message


def _utf16(xml: bytes) -> bytes:
    return xml.decode("utf-8").encode("utf-16")


def test_a_utf16_sheet_is_read_as_utf8(base: Path, registry: Registry, tmp_path: Path) -> None:
    """python-calamine reads a UTF-16 sheet as empty; the guard hands it the sheet transcoded
    (after scanning that), so every answer is read. The original is not changed."""
    part = corpus.sheet_part(base, AREA)
    path = corpus.rewrite_zip(base, tmp_path / "utf16.xlsx", replace={part: _utf16})
    before = sha256(path)
    guarded = guard_file(path)
    assert guarded.issues == [] and guarded.sha256 == before
    with zipfile.ZipFile(BytesIO(guarded.data)) as readable:
        assert readable.read(part).startswith(b"<")
    _, valid_base = check_file(base, registry)
    report, valid = check_file(path, registry)
    assert report.status == "accepted", report.errors
    assert valid is not None and valid_base is not None
    assert valid.judgements == valid_base.judgements and valid.texts == valid_base.texts
    assert sha256(path) == before


def test_a_utf16_part_still_gets_every_check(base: Path, tmp_path: Path) -> None:
    """Transcoding happens before the scans: a DOCTYPE or a far cell is found inside it."""
    part = corpus.sheet_part(base, AREA)
    doctype = corpus.billion_laughs_copy(base, tmp_path, AREA)
    hidden = corpus.rewrite_zip(doctype, tmp_path / "utf16-doctype.xlsx", replace={part: _utf16})
    assert [i.code for i in guard_file(hidden).issues] == ["xml-attack"]
    far = corpus.far_cell_copy(base, tmp_path, AREA)
    far16 = corpus.rewrite_zip(far, tmp_path / "utf16-far.xlsx", replace={part: _utf16})
    assert [i.code for i in guard_file(far16).issues] == ["too-many-rows"]


def test_a_utf32_part_has_an_honest_code(base: Path, tmp_path: Path) -> None:
    part = corpus.sheet_part(base, AREA)
    path = corpus.rewrite_zip(
        base,
        tmp_path / "utf32.xlsx",
        replace={part: lambda xml: xml.decode("utf-8").encode("utf-32")},
    )
    issues = guard_file(path).issues
    assert [i.code for i in issues] == ["xml-encoding"]
    assert "attack" not in issues[0].message


def test_a_cell_in_row_zero_is_located_and_not_called_damage(
    base: Path, registry: Registry, tmp_path: Path
) -> None:
    path = corpus.row_zero_copy(base, tmp_path, AREA)
    report, _ = check_file(path, registry)
    assert [(i.code, i.sheet, i.cell) for i in report.errors] == [("row-zero", AREA, "A0")]
    assert "row 0" in report.errors[0].message


@pytest.mark.parametrize("ref", ["A0", "A1:D0", "A0:D15"])
def test_a_dimension_in_row_zero_is_ignored_and_the_cells_read(
    ref: str, base: Path, registry: Registry, tmp_path: Path
) -> None:
    """The dimension is only a hint, but python-calamine refuses the whole workbook over it:
    the reader gets the sheet without it."""
    part = corpus.sheet_part(base, AREA)

    def bad_dimension(xml: bytes) -> bytes:
        changed = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="%s"' % ref.encode(), xml)
        assert changed != xml
        return changed

    path = corpus.rewrite_zip(base, tmp_path / "dimension.xlsx", replace={part: bad_dimension})
    _, valid_base = check_file(base, registry)
    report, valid = check_file(path, registry)
    assert report.status == "accepted", report.errors
    assert valid is not None and valid_base is not None
    assert valid.judgements == valid_base.judgements


def test_formula_cells_are_found_without_evaluating_them(base: Path, tmp_path: Path) -> None:
    path = corpus.formula_cached_copy(base, tmp_path, AREA, "C5", '"Sec"&"ure"', "Secure")
    guarded = guard_file(path)
    assert guarded.issues == []
    assert guarded.formulas == {AREA: ["C5"]}


def test_missing_and_unreadable_files_are_issues(tmp_path: Path) -> None:
    assert [i.code for i in guard_file(tmp_path / "nope.xlsx").issues] == ["unreadable-file"]
    assert codes(guard_file(tmp_path).issues) == ["unreadable-file"]


# --- defusedxml and memory ---------------------------------------------------------------------
def test_defusedxml_is_in_force_for_openpyxl(base: Path, tmp_path: Path) -> None:
    """openpyxl parses through defusedxml, so even a program that skipped the guard and opened
    an entity bomb with openpyxl would get an exception, not an expansion."""
    assert openpyxl.xml.DEFUSEDXML is True
    for path in (
        corpus.billion_laughs_copy(base, tmp_path, AREA),
        corpus.external_entity_copy(base, tmp_path, AREA),
    ):
        with pytest.raises(ValueError) as raised:
            openpyxl.load_workbook(path)
        chain = []
        error: BaseException | None = raised.value
        while error is not None:
            chain.append(error)
            error = error.__cause__ or error.__context__
        assert any(isinstance(e, DefusedXmlException) for e in chain), chain


_MEASURE = """
import json, resource, sys
sys.path.insert(0, {repo!r})
from sheet_tools.definitions.frameworks import load_registry
from sheet_tools.intake.validate import check_file
registry = load_registry()
report, _ = check_file({path!r}, registry)
print(json.dumps({{"codes": [i.code for i in report.errors],
                   "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def _check_in_subprocess(path: Path, address_space_mb: int | None = None) -> dict[str, object]:
    """check_file in a fresh interpreter: its peak memory, and whether it survived at all."""
    code = _MEASURE.format(repo=str(REPO), path=str(path))
    if address_space_mb is not None:
        limit = address_space_mb * 1024 * 1024
        code = (
            f"import resource; resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))\n" + code
        )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_zip_bombs_are_refused_before_memory_grows(base: Path, tmp_path: Path) -> None:
    baseline = _check_in_subprocess(base)
    assert baseline["codes"] == []
    for bomb in (corpus.zip_bomb(tmp_path), corpus.lying_zip_bomb(tmp_path)):
        measured = _check_in_subprocess(bomb)
        assert measured["codes"] == ["zip-bomb"]
        # 3 GB (or 512 MB) of text inflated would show; the guard stays within noise.
        assert measured["maxrss_mb"] - baseline["maxrss_mb"] < 30, (measured, baseline)


@pytest.mark.slow
def test_hostile_files_never_kill_the_process_under_a_memory_cap(
    base: Path, tmp_path: Path
) -> None:
    """Under a 2 GB address-space cap, a reader that inflated the bomb or laid out the far cell
    as a dense grid would abort the interpreter; the process must instead finish and report."""
    for path, code in (
        (corpus.zip_bomb(tmp_path), "zip-bomb"),
        (corpus.far_cell_copy(base, tmp_path, AREA), "too-many-rows"),
    ):
        assert _check_in_subprocess(path, address_space_mb=2048)["codes"] == [code]


@pytest.mark.realapp
def test_ods_rows_are_counted_where_they_hold_something(base: Path, tmp_path: Path) -> None:
    """LibreOffice ends every table with about a million empty repeated rows, which must not
    count; a million repeated rows that hold a value must."""
    ods = corpus.ods_copy(base, tmp_path)
    assert guard_file(ods).issues == [] and guard_file(ods).format == "ods"
    filled_rows = (
        b'<table:table-row table:number-rows-repeated="1000000"><table:table-cell '
        b'office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row>'
    )
    hostile = corpus.rewrite_zip(
        ods,
        tmp_path / "repeated.ods",
        replace={
            "content.xml": lambda xml: xml.replace(
                b"</table:table>", filled_rows + b"</table:table>", 1
            )
        },
    )
    issues = guard_file(hostile).issues
    assert codes(issues) == ["too-many-rows"] and issues[0].sheet == "Cover"


def test_sheets_are_measured_in_strict_open_xml_too(base: Path, tmp_path: Path) -> None:
    """Strict Open XML uses other namespaces; the guard must still find and measure the sheets."""
    far = corpus.far_cell_copy(base, tmp_path, AREA)

    def strict(xml: bytes) -> bytes:
        return xml.replace(
            b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
            b"http://purl.oclc.org/ooxml/spreadsheetml/main",
        ).replace(
            b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
            b"http://purl.oclc.org/ooxml/officeDocument/relationships",
        )

    path = corpus.rewrite_zip(far, tmp_path / "strict.xlsx", replace={"xl/workbook.xml": strict})
    issues = guard_file(path).issues
    assert codes(issues) == ["too-many-rows"] and issues[0].sheet == AREA


@pytest.mark.parametrize("chunk", [7, 64, 1000, 4096])
def test_tags_split_across_chunks_are_still_seen(chunk: int, base: Path, tmp_path: Path) -> None:
    """The guard streams; a cell reference cut in two by a chunk boundary must not slip by."""
    limits = Limits(chunk_bytes=chunk)
    assert guard_bytes(base.read_bytes(), limits).issues == []
    far = corpus.far_cell_copy(base, tmp_path, AREA).read_bytes()
    assert codes(guard_bytes(far, limits).issues) == ["too-many-rows"]
    formula = corpus.formula_cached_copy(base, tmp_path, AREA, "C5", '"Sec"', "Sec")
    assert guard_bytes(formula.read_bytes(), limits).formulas == {AREA: ["C5"]}


def test_a_cell_reference_hidden_behind_a_huge_attribute_is_refused(
    base: Path, tmp_path: Path
) -> None:
    part = corpus.sheet_part(base, AREA)
    padding = b"x" * 100_000
    cell = b'<row r="1"><c pad="%s" r="XFD1048576"><v>1</v></c></row>' % padding

    def hide(xml: bytes) -> bytes:
        return xml.replace(b"</sheetData>", cell + b"</sheetData>", 1)

    path = corpus.rewrite_zip(base, tmp_path / "hidden.xlsx", replace={part: hide})
    data = path.read_bytes()
    assert codes(guard_bytes(data, Limits(chunk_bytes=4096)).issues) == ["xml-attack"]
    assert codes(guard_bytes(data).issues) in (["xml-attack"], ["too-many-rows"])


# --- DTDs are found wherever they stand -------------------------------------------------------
def _prolog_copy(base: Path, folder: Path, prolog: bytes) -> bytes:
    part = corpus.sheet_part(base, AREA)

    def prefix(xml: bytes) -> bytes:
        end_decl = xml.index(b"?>") + 2 if xml.startswith(b"<?xml") else 0
        return xml[:end_decl] + prolog + xml[end_decl:]

    return corpus.rewrite_zip(base, folder / "prolog.xlsx", replace={part: prefix}).read_bytes()


LONG_COMMENT = b"<!-- " + b"a long comment <worksheet> " * 12_000 + b"-->"  # about 320 KB


@pytest.mark.parametrize(
    "prolog",
    [
        LONG_COMMENT + corpus.BILLION_LAUGHS,
        b"<!-- <worksheet> -->" + corpus.BILLION_LAUGHS,
        b'<?pi <worksheet> ?>\n<!-- x -->\n<!DOCTYPE worksheet SYSTEM "file:///etc/passwd">',
        b"\n  <!doctype worksheet>",
    ],
    ids=["after a 320 KB comment", "after a comment", "after a processing instruction", "lower"],
)
@pytest.mark.parametrize("chunk", [7, 4096, 256 * 1024])
def test_a_doctype_anywhere_in_the_prolog_is_refused(
    prolog: bytes, chunk: int, base: Path, tmp_path: Path
) -> None:
    """Comments and processing instructions before the root element may hold anything, even
    what looks like a start tag; a DOCTYPE after them is still found, whatever the chunk size."""
    data = _prolog_copy(base, tmp_path, prolog)
    assert codes(guard_bytes(data, Limits(chunk_bytes=chunk)).issues) == ["xml-attack"]


def test_a_long_harmless_prolog_passes(base: Path, tmp_path: Path) -> None:
    data = _prolog_copy(base, tmp_path, b'<?xml-stylesheet href="x"?>' + LONG_COMMENT)
    assert guard_bytes(data).issues == []
    assert guard_bytes(data, Limits(chunk_bytes=4096)).issues == []


def test_entity_like_text_in_an_answer_is_just_text(
    base: Path, registry: Registry, tmp_path: Path
) -> None:
    """A school may type anything, even an XML declaration; in the file it is escaped text
    (&lt;!ENTITY ...), not markup, so the return is read and the text kept exactly."""
    text = '<!DOCTYPE x [<!ENTITY lol "lol">]> &lol; <!ENTITY y SYSTEM "file:///etc/passwd">'
    path = corpus.inline_text_copy(base, tmp_path, AREA, "D5", text)
    assert guard_file(path).issues == []
    report, valid = check_file(path, registry)
    assert report.status == "accepted" and valid is not None
    assert text in valid.texts.values()


def test_a_doctype_after_the_root_element_is_still_refused(base: Path, tmp_path: Path) -> None:
    """XML allows a DOCTYPE only in the prolog, so no conforming parser would act on one inside
    the root element; the guard still refuses it there rather than rely on every reader."""
    part = corpus.sheet_part(base, AREA)

    def add(xml: bytes) -> bytes:
        return xml.replace(b"</sheetData>", corpus.BILLION_LAUGHS + b"</sheetData>", 1)

    data = corpus.rewrite_zip(base, tmp_path / "late.xlsx", replace={part: add}).read_bytes()
    for chunk in (7, 4096, 256 * 1024):
        assert codes(guard_bytes(data, Limits(chunk_bytes=chunk)).issues) == ["xml-attack"]


# --- members are inflated from memory with zipfile's own checks ---------------------------------
def _member(data: bytes, name: str) -> tuple[int, int, int]:
    """(local header offset, compressed data offset, compressed size) of one member."""
    info = zipfile.ZipFile(BytesIO(data)).getinfo(name)
    start = info.header_offset
    name_length, extra_length = struct.unpack("<2H", data[start + 26 : start + 30])
    return start, start + 30 + name_length + extra_length, info.compress_size


# Not near the end: there, flipped bytes often inflate to more than the declared size, which the
# guard reports as a zip bomb (data hidden past the size), not as damage; whether it should is
# the guard's question, and which positions do depends on the workbook's bytes.
@pytest.mark.parametrize("where", [0.0, 0.3, 0.6, 0.8])
def test_damaged_member_data_is_a_damaged_file(where: float, base: Path) -> None:
    """Flipped bytes inside a sheet's compressed data: a zlib error, a checksum or a size that
    does not match; each is reported as a damaged file, never a traceback."""
    data = bytearray(base.read_bytes())
    _, begin, size = _member(bytes(data), corpus.sheet_part(base, AREA))
    at = begin + int(size * where)
    data[at : at + 4] = bytes(b ^ 0x5A for b in data[at : at + 4])
    assert codes(guard_bytes(bytes(data)).issues) == ["truncated-file"]


def test_a_local_header_naming_another_part_is_damage(base: Path) -> None:
    data = bytearray(base.read_bytes())
    start, _, _ = _member(bytes(data), "xl/styles.xml")
    name_at = start + 30
    assert data[name_at : name_at + 13] == b"xl/styles.xml"
    data[name_at : name_at + 13] = b"xl/stylez.xml"
    issues = guard_bytes(bytes(data)).issues
    assert codes(issues) == ["truncated-file"] and "xl/styles.xml" in issues[0].message


@pytest.mark.parametrize(
    ("ref", "code"),
    [("A" + "9" * 5000, "too-many-rows"), ("A0000000000012", None), ("C0009", None)],
    ids=["5,000 digits", "leading zeros", "short leading zeros"],
)
def test_row_numbers_of_any_length_are_measured(
    ref: str, code: str | None, base: Path, tmp_path: Path
) -> None:
    """A row number longer than Python converts by default is a far-away row, not a crash; a
    small number written with leading zeros is still small."""
    part = corpus.sheet_part(base, AREA)
    cell = b'<row r="60"><c r="%s"><v>1</v></c></row>' % ref.encode()

    def add(xml: bytes) -> bytes:
        return xml.replace(b"</sheetData>", cell + b"</sheetData>", 1)

    data = corpus.rewrite_zip(base, tmp_path / "rows.xlsx", replace={part: add}).read_bytes()
    assert codes(guard_bytes(data).issues) == ([code] if code else [])
