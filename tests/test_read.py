"""Reading returns: identity from the workbook's own cells, answers by id (never by row), cached
values only, older versions, and files re-saved by LibreOffice and Gnumeric."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from openpyxl.chart import BarChart, Reference

from sheet_tools.definitions import cell_layout
from sheet_tools.definitions.frameworks import Framework, Registry, bundled_templates, load_registry
from sheet_tools.generate.workbook import generate_workbook
from sheet_tools.intake.guard import guard_file
from sheet_tools.intake.read import RawReturn, read_guarded, read_return
from sheet_tools.intake.validate import check_file

from .support import corpus, realapp, returns
from .support.helpers import codes, sha256

ENV = "2 Environment"


def judgement_values(raw: RawReturn) -> dict[str, object]:
    return {sid: cell.value for sid, cell in raw.judgements.items()}


@pytest.fixture(scope="module")
def written(spr: Framework) -> dict[str, str]:
    """The judgements every return in this module is filled with (all four levels, cycled)."""
    return returns.all_judgements(spr)


@pytest.fixture(scope="module")
def base(spr: Framework, written: dict[str, str], tmp_path_factory) -> Path:
    texts = {
        "EN.next_steps": "Plan the sensory room.",
        "LM01.evidence": "Minutes of governors, May.",
    }
    return returns.valid_return(
        spr, tmp_path_factory.mktemp("read"), judgements=written, texts=texts
    )


def test_reads_every_answer_by_id(
    spr: Framework, registry: Registry, base: Path, written: dict[str, str]
) -> None:
    raw, issues = read_return(base, registry)
    assert issues == []
    assert raw is not None
    assert (raw.template_id, raw.template_version) == (spr.id, spr.version)
    assert judgement_values(raw) == written
    assert raw.texts["EN.next_steps"].value == "Plan the sensory room."
    assert raw.texts["LM01.evidence"].value == "Minutes of governors, May."
    assert raw.cover["school"].value == returns.OAKFIELD.name
    assert raw.cover["review_date"].value == date(2026, 10, 3)
    # every cell is located as the generator laid it out: judgement in column C, by row
    sheet = spr.sheets[1]
    for index, statement in enumerate(sheet.statements):
        cell = raw.judgements[statement.id]
        assert (cell.sheet, cell.cell) == (sheet.sheet_name, f"C{cell_layout.FIRST_ROW + index}")


def test_sorted_rows_still_read_by_id(
    spr: Framework, registry: Registry, base: Path, written: dict[str, str], tmp_path: Path
) -> None:
    path = corpus.sorted_rows_copy(base, tmp_path, spr, "en")
    raw, issues = read_return(path, registry)
    assert issues == [] and raw is not None
    assert judgement_values(raw) == written
    first_en = spr.sheets[1].statements[0].id
    last_row = cell_layout.FIRST_ROW + len(spr.sheets[1].statements) - 1
    assert raw.judgements[first_en].cell == f"C{last_row}"  # it moved; its answer came with it


def test_inserted_rows_still_read_by_id(
    spr: Framework, registry: Registry, base: Path, written: dict[str, str], tmp_path: Path
) -> None:
    path = corpus.inserted_rows_copy(base, tmp_path, spr, "en", count=3)
    raw, issues = read_return(path, registry)
    assert issues == [] and raw is not None
    assert judgement_values(raw) == written
    assert raw.texts["EN.next_steps"].value == "Plan the sensory room."


def test_renamed_sheet_is_found_by_its_id_in_a1(
    spr: Framework, registry: Registry, base: Path, written: dict[str, str], tmp_path: Path
) -> None:
    path = corpus.renamed_sheet_copy(base, tmp_path, ENV, "Our environment")
    raw, issues = read_return(path, registry)
    assert issues == [] and raw is not None
    assert judgement_values(raw) == written
    assert raw.judgements["EN01"].sheet == "Our environment"


def test_renamed_about_sheet_is_found_by_its_marker(
    registry: Registry, base: Path, written: dict[str, str], tmp_path: Path
) -> None:
    path = corpus.renamed_sheet_copy(base, tmp_path, cell_layout.ABOUT_SHEET, "Info")
    raw, issues = read_return(path, registry)
    assert issues == [] and raw is not None
    assert judgement_values(raw) == written


def test_deleted_sheet_is_reported_and_the_rest_still_read(
    spr: Framework, registry: Registry, base: Path, written: dict[str, str], tmp_path: Path
) -> None:
    path = corpus.deleted_sheet_copy(base, tmp_path, ENV)
    raw, issues = read_return(path, registry)
    assert codes(issues) == ["missing-sheet"]
    assert issues[0].sheet == ENV and "deleted" in issues[0].message
    assert raw is not None
    en = {st.id for st in spr.sheets[1].statements}
    assert judgement_values(raw) == {k: v for k, v in written.items() if k not in en}


def test_missing_duplicate_and_unknown_ids(registry: Registry, base: Path, tmp_path: Path) -> None:
    book_rows = {f"EN0{n}": cell_layout.FIRST_ROW + n - 1 for n in (1, 2, 3)}
    path = corpus.set_cells_copy(
        base,
        tmp_path,
        {
            (ENV, f"A{book_rows['EN02']}"): "EN01",  # EN01 now twice, EN02 gone
            (ENV, f"A{book_rows['EN03']}"): "ZZ99",  # an id the form does not have
        },
    )
    raw, issues = read_return(path, registry)
    found = {(i.code, i.statement or i.value) for i in issues}
    assert found == {
        ("duplicate-statement", "EN01"),
        ("missing-statement", "EN02"),
        ("missing-statement", "EN03"),
        ("unknown-statement", "ZZ99"),
    }
    duplicate = next(i for i in issues if i.code == "duplicate-statement")
    assert f"A{book_rows['EN01']} and A{book_rows['EN02']}" in duplicate.message
    assert raw is not None and "EN02" not in raw.judgements


def test_a_workbook_sheet_tools_did_not_make(registry: Registry, tmp_path: Path) -> None:
    raw, issues = read_return(corpus.foreign_workbook(tmp_path), registry)
    assert raw is None and codes(issues) == ["unknown-template"]
    assert "not made by sheet-tools" in issues[0].message


def test_unknown_template_id_and_unknown_version(
    registry: Registry, base: Path, tmp_path: Path
) -> None:
    raw, issues = read_return(corpus.about_copy(base, tmp_path, template_id="no-such"), registry)
    assert raw is None and codes(issues) == ["unknown-template"]
    assert "'no-such'" in issues[0].message
    raw, issues = read_return(corpus.about_copy(base, tmp_path, version="0.1"), registry)
    assert raw is None and codes(issues) == ["unknown-version"]
    message = issues[0].message
    assert "'0.1'" in message and "1.0" in message and "fresh copy" in issues[0].advice


def test_returns_made_from_an_older_version_still_read(spr: Framework, tmp_path: Path) -> None:
    """The registry keeps old versions: a workbook generated from 0.9 (which had no LM04) reads
    against 0.9 even though 1.0 is current."""
    templates = tmp_path / "templates"
    (templates / "versions").mkdir(parents=True)
    source = (bundled_templates() / f"{spr.id}.toml").read_text(encoding="utf-8")
    (templates / f"{spr.id}.toml").write_text(source, encoding="utf-8")
    old = source.replace('version = "1.0"', 'version = "0.9"', 1)
    old = re.sub(r'\[\[sheets\.statements\]\]\nid = "LM04"\ntext = "[^"]*"\n', "", old)
    (templates / "versions" / f"{spr.id}-0.9.toml").write_text(old, encoding="utf-8")
    registry = load_registry(templates)
    assert registry.versions(spr.id) == ["0.9", "1.0"]
    old_framework = registry.get(spr.id, "0.9")
    assert old_framework is not None
    judgements = returns.all_judgements(old_framework)
    path = returns.valid_return(old_framework, tmp_path, judgements=judgements)
    raw, issues = read_return(path, registry)
    assert issues == [] and raw is not None
    assert raw.template_version == "0.9"
    assert judgement_values(raw) == judgements and "LM04" not in raw.judgements
    report, valid = check_file(path, registry)
    assert report.status == "accepted" and report.template_version == "0.9"
    assert valid is not None and valid.template_version == "0.9"


def test_formulas_give_their_cached_value_never_a_recalculation(
    registry: Registry, base: Path, tmp_path: Path
) -> None:
    cached = corpus.formula_cached_copy(base, tmp_path, ENV, "C5", '"Emb"&"edded"', "Secure")
    raw, _ = read_return(cached, registry)
    assert raw is not None
    cell = raw.judgements["EN02"]
    assert (cell.value, cell.formula) == ("Secure", True)  # the saved result, not "Embedded"
    (tmp_path / "none").mkdir()
    uncached = corpus.formula_cached_copy(base, tmp_path / "none", ENV, "C5", '"Sec"', None)
    raw, _ = read_return(uncached, registry)
    assert raw is not None and raw.judgements["EN02"].value is None


def test_sheet_xml_the_reader_cannot_parse_is_damage(
    registry: Registry, base: Path, tmp_path: Path
) -> None:
    part = corpus.sheet_part(base, ENV)
    broken = corpus.rewrite_zip(
        base, tmp_path / "broken.xlsx", replace={part: b"<worksheet><sheetData><row>"}
    )
    assert guard_file(broken).issues == []  # nothing unsafe about it
    raw, issues = read_return(broken, registry)
    assert raw is None and codes(issues) == ["truncated-file"]
    assert "damaged" in issues[0].message


def test_an_added_chart_sheet_is_ignored(
    registry: Registry, base: Path, written: dict[str, str], tmp_path: Path
) -> None:
    def add_chart(book) -> None:
        chart = BarChart()
        chart.add_data(Reference(book[ENV], min_col=1, min_row=1, max_row=3))
        book.create_chartsheet("Chart", 0).add_chart(chart)
        book[cell_layout.ABOUT_SHEET].title = "Info"  # so the reader searches every sheet

    path = corpus.edited_copy(base, tmp_path / "chart.xlsx", add_chart)
    raw, issues = read_return(path, registry)
    assert issues == [] and raw is not None
    assert judgement_values(raw) == written


def test_read_never_opens_a_file_the_guard_refused(registry: Registry, tmp_path: Path) -> None:
    bomb = corpus.zip_bomb(tmp_path, megabytes=200)
    guarded = guard_file(bomb)
    assert codes(guarded.issues) == ["zip-bomb"] and guarded.data is None
    assert read_guarded(guarded, registry) == (None, [])
    raw, issues = read_return(bomb, registry)
    assert raw is None and codes(issues) == ["zip-bomb"]


# --- real applications -------------------------------------------------------------------------
@pytest.mark.realapp
def test_returns_resaved_by_libreoffice_and_gnumeric_read_in_full(
    registry: Registry, base: Path, written: dict[str, str], tmp_path: Path
) -> None:
    realapp.require_libreoffice()
    realapp.require_gnumeric()
    before = sha256(base)
    resaved = [
        realapp.libreoffice_resave(base, tmp_path / "libreoffice.xlsx"),
        realapp.gnumeric_resave(base, tmp_path / "gnumeric.xlsx"),
        corpus.ods_copy(base, tmp_path),
    ]
    for path in resaved:
        raw, issues = read_return(path, registry)
        assert issues == [], path.name
        assert raw is not None and judgement_values(raw) == written, path.name
        assert raw.texts["EN.next_steps"].value == "Plan the sensory room."
        report, _ = check_file(path, registry)
        assert report.status == "accepted", (path.name, report.errors)
        assert (report.school, report.urn, report.review_date) == (
            returns.OAKFIELD.name,
            returns.OAKFIELD.urn,
            "2026-10-03",
        )
    assert sha256(base) == before


@pytest.mark.realapp
def test_a_return_filled_in_libreoffice_reads(
    spr: Framework, registry: Registry, tmp_path: Path
) -> None:
    realapp.require_libreoffice(uno=True)
    blank = generate_workbook(spr, returns.OAKFIELD, tmp_path / "blank")
    edits: list[tuple[str, str, object]] = []
    expected: dict[str, str] = {}
    labels = [level.label for level in spr.scale]
    for sheet in spr.sheets:
        for index, statement in enumerate(sheet.statements):
            label = labels[(index + len(expected)) % len(labels)]
            edits.append((sheet.sheet_name, f"C{cell_layout.FIRST_ROW + index}", label))
            expected[statement.id] = label
    cover_rows = {f.id: cell_layout.FIRST_ROW + i for i, f in enumerate(spr.cover)}
    edits.append((cell_layout.COVER_SHEET, f"C{cover_rows['review_date']}", "03/10/2026"))
    edits.append((cell_layout.COVER_SHEET, f"C{cover_rows['judge']}", "External reviewer"))
    filled = tmp_path / "filled.xlsx"
    realapp.libreoffice_fill(blank, edits, filled)
    raw, issues = read_return(filled, registry)
    assert issues == [] and raw is not None
    assert judgement_values(raw) == expected
    report, valid = check_file(filled, registry)
    assert report.status == "accepted", report.errors
    assert valid is not None and valid.review_date == date(2026, 10, 3)
    assert valid.judge == "external-review"
