"""Generated workbooks in real applications: filled and saved by LibreOffice, re-saved by Gnumeric.

A school may open its workbook in anything. These tests prove that what we put in the file (the
drop-downs on the judgement cells, sheet protection with only the input cells unlocked, and the
identity in cells: About sheet rows and ids in column A) survives the applications a Linux machine
can run, and that the answers typed in come back where the reader expects them.

What the applications change, observed with LibreOffice 7.4 and Gnumeric 1.12.55 (asserted below
where it matters to us):

- LibreOffice keeps drop-downs, protection, identity cells, hidden sheets ("very hidden" ones
  become merely hidden) and custom document properties. It drops the workbook's structure lock
  (``lockStructure``) and, in these headless runs, the frozen header rows; neither is needed to
  read a return.
- Gnumeric keeps drop-downs, protection and identity cells of a workbook saved by Excel or
  openpyxl, but makes hidden (even "very hidden") sheets visible, so identity cannot live in a
  hidden sheet. Landscape fit-to-width printing survives, but the header row no longer repeats
  on each printed page: Gnumeric writes the print titles as an ordinary name.
  The issue also reported that Gnumeric drops custom document properties; 1.12.55 keeps string
  properties, but identity does not rely on them either way.
- A workbook saved by LibreOffice and then re-saved by Gnumeric loses its drop-downs: LibreOffice
  writes a ``<formula2>`` on list validations, Gnumeric rejects the whole validation ("Extra
  formula for validation") and keeps only the input message. The answers, protection and identity
  survive, so such a return is still read correctly; it just no longer offers the list.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import MergedCell
from openpyxl.packaging.custom import StringProperty
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from sheet_tools.definitions import cell_layout
from sheet_tools.definitions.frameworks import Framework, Registry
from sheet_tools.definitions.roster import School
from sheet_tools.generate.workbook import generate_workbook

from .support.helpers import cells_of
from .support.realapp import (
    RealAppError,
    gnumeric_resave,
    libreoffice_fill,
    libreoffice_resave,
    libreoffice_to_pdf,
    pdf_page_texts,
    pdf_summary,
    require_gnumeric,
    require_libreoffice,
    require_pdftotext,
)
from .support.returns import fill_workbook

pytestmark = [
    pytest.mark.realapp,
    # Gnumeric writes no default cell style; openpyxl warns and supplies its own.
    pytest.mark.filterwarnings("ignore:Workbook contains no default style"),
]

# The main framework and one SEND Diagnostic Review template (template 2 has an unjudged
# Context sheet made only of a box, as well as judged areas).
FRAMEWORKS = ["specialist-provision-review", "send-review-specialist"]
OAKFIELD = School(name="Oakfield Primary", urn="123456", trust="North Star Trust")
REVIEW_DATE = date(2026, 10, 3)
# What a person's typing of 03/10/2026 stores: days since Excel's (and LibreOffice's) epoch.
REVIEW_DATE_SERIAL = (REVIEW_DATE - date(1899, 12, 30)).days


# --- reading a saved workbook independently of sheet_tools.read -----------------------------------
def id_rows(ws: Worksheet) -> dict[str, int]:
    """Row of every id in column A."""
    return {
        str(cell.value): cell.row
        for cell in ws["A"]
        if isinstance(cell.value, str) and cell.value != cell_layout.ID_HEADER
    }


def expected_column_a(framework: Framework, sheet_id: str) -> list[str]:
    sheet = next(s for s in framework.sheets if s.id == sheet_id)
    return [sheet.id, *(s.id for s in sheet.statements), *(b.id for b in sheet.boxes)]


def judgement_cells(framework: Framework, book: Workbook) -> dict[str, set[str]]:
    """Sheet name -> the judgement cell of every statement, found by the ids in column A."""
    column = get_column_letter(cell_layout.JUDGEMENT_COL)
    found = {}
    for sheet in framework.sheets:
        if sheet.judged:
            rows = id_rows(book[sheet.sheet_name])
            found[sheet.sheet_name] = {f"{column}{rows[s.id]}" for s in sheet.statements}
    return found


def input_cells(framework: Framework, book: Workbook) -> dict[str, set[str]]:
    """Sheet name -> every cell a person should be able to edit."""
    cover_rows = id_rows(book[cell_layout.COVER_SHEET])
    value_column = get_column_letter(cell_layout.COVER_VALUE_COL)
    found = {
        cell_layout.COVER_SHEET: {f"{value_column}{cover_rows[f.id]}" for f in framework.cover}
    }
    for sheet in framework.sheets:
        rows = id_rows(book[sheet.sheet_name])
        first_text = cell_layout.first_text_column(sheet.judged)
        columns = [first_text + i for i in range(len(sheet.columns))]
        if sheet.judged:
            columns.append(cell_layout.JUDGEMENT_COL)
        cells = {f"{get_column_letter(c)}{rows[s.id]}" for s in sheet.statements for c in columns}
        box_column = get_column_letter(cell_layout.BOX_VALUE_COL)
        cells |= {f"{box_column}{rows[b.id]}" for b in sheet.boxes}
        found[sheet.sheet_name] = cells
    return found


def unlocked_cells(ws: Worksheet) -> set[str]:
    return {
        cell.coordinate
        for row in ws.iter_rows()
        for cell in row
        if not isinstance(cell, MergedCell) and not cell.protection.locked
    }


def list_validations(ws: Worksheet) -> list:
    return [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]


def assert_identity(framework: Framework, book: Workbook) -> None:
    about = {row[0]: row[1] for row in book[cell_layout.ABOUT_SHEET].iter_rows(values_only=True)}
    assert cell_layout.MARKER in about
    assert about[cell_layout.KEY_TEMPLATE] == framework.id
    assert str(about[cell_layout.KEY_VERSION]) == framework.version
    assert about["school"] == OAKFIELD.name
    for sheet in framework.sheets:
        assert about[cell_layout.SHEET_KEY_PREFIX + sheet.id] == sheet.sheet_name
        assert list(id_rows(book[sheet.sheet_name])) == expected_column_a(framework, sheet.id)
    assert list(id_rows(book[cell_layout.COVER_SHEET])) == [f.id for f in framework.cover]


def assert_protection(framework: Framework, book: Workbook) -> None:
    expected = input_cells(framework, book)
    for name in [cell_layout.COVER_SHEET, *(s.sheet_name for s in framework.sheets)]:
        ws = book[name]
        assert ws.protection.sheet, f"{name} is not protected"
        assert not ws.protection.password, f"{name} gained a password"
        assert unlocked_cells(ws) == expected[name], f"unlocked cells of {name}"
    assert book[cell_layout.ABOUT_SHEET].protection.sheet
    assert not unlocked_cells(book[cell_layout.ABOUT_SHEET])


def assert_dropdowns(framework: Framework, book: Workbook) -> None:
    # the Specialist Provision Review also offers Not applicable, after the levels
    extra = ["Not applicable"] if framework.id == "specialist-provision-review" else []
    labels = ",".join([level.label for level in framework.scale] + extra)
    for name, cells in judgement_cells(framework, book).items():
        lists = list_validations(book[name])
        assert len(lists) == 1, f"{name} should have one judgement list"
        assert cells_of(lists[0].sqref) == cells
        assert lists[0].formula1 == f'"{labels}"'
        assert lists[0].showDropDown in (None, False)  # False shows the in-cell arrow
    for sheet in framework.sheets:
        if not sheet.judged:
            assert not list_validations(book[sheet.sheet_name])


# --- answers: planned by id, written by a real application, read back by id --------------------
@dataclass(frozen=True)
class Answers:
    judgements: dict[str, str]
    texts: dict[str, str]  # box id, or "<statement id>.<column id>"
    cover: dict[str, object]


def plan_answers(framework: Framework, seed: int) -> Answers:
    rng = random.Random(seed)
    labels = [level.label for level in framework.scale]
    judgements = {st.id: rng.choice(labels) for _, st in framework.judged_statements()}
    texts = {
        box.id: f"{box.label} – agreed with the SENCO’s team, point {rng.randint(1, 99)}."
        for sheet in framework.sheets
        for box in sheet.boxes
    }
    for index, (sheet, statement) in enumerate(framework.statements()):
        if sheet.columns and index % 3 == 0:
            texts[f"{statement.id}.{sheet.columns[0].id}"] = f"Evidence for {statement.id}: “seen”"
    cover = {"personnel": "SENCO; deputy head", "judge": "Self-evaluation"}
    return Answers(judgements, texts, cover)


def locate(framework: Framework, book: Workbook, answers: Answers) -> dict[tuple[str, str], object]:
    """(sheet name, cell) -> value for every planned answer, with the review date as a serial."""
    owner = {st.id: sh for sh, st in framework.statements()}
    box_owner = {b.id: sh for sh in framework.sheets for b in sh.boxes}
    cells: dict[tuple[str, str], object] = {}
    for statement_id, label in answers.judgements.items():
        sheet = owner[statement_id]
        row = id_rows(book[sheet.sheet_name])[statement_id]
        cells[(sheet.sheet_name, f"{get_column_letter(cell_layout.JUDGEMENT_COL)}{row}")] = label
    for key, text in answers.texts.items():
        if key in box_owner:
            sheet = box_owner[key]
            column = cell_layout.BOX_VALUE_COL
            row = id_rows(book[sheet.sheet_name])[key]
        else:
            statement_id, column_id = key.rsplit(".", 1)
            sheet = owner[statement_id]
            offset = [c.id for c in sheet.columns].index(column_id)
            column = cell_layout.first_text_column(sheet.judged) + offset
            row = id_rows(book[sheet.sheet_name])[statement_id]
        cells[(sheet.sheet_name, f"{get_column_letter(column)}{row}")] = text
    cover_rows = id_rows(book[cell_layout.COVER_SHEET])
    value_column = get_column_letter(cell_layout.COVER_VALUE_COL)
    for field_id, value in answers.cover.items():
        cells[(cell_layout.COVER_SHEET, f"{value_column}{cover_rows[field_id]}")] = value
    cells[(cell_layout.COVER_SHEET, f"{value_column}{cover_rows['review_date']}")] = (
        REVIEW_DATE_SERIAL
    )
    return cells


def assert_answers(framework: Framework, book: Workbook, answers: Answers) -> None:
    """Every planned answer is in the saved file, found again through the ids in column A."""
    owner = {st.id: sh for sh, st in framework.statements()}
    for statement_id, label in answers.judgements.items():
        ws = book[owner[statement_id].sheet_name]
        assert ws.cell(id_rows(ws)[statement_id], cell_layout.JUDGEMENT_COL).value == label
    box_owner = {b.id: sh for sh in framework.sheets for b in sh.boxes}
    for key, text in answers.texts.items():
        if key in box_owner:
            ws = book[box_owner[key].sheet_name]
            assert ws.cell(id_rows(ws)[key], cell_layout.BOX_VALUE_COL).value == text
        else:
            statement_id, column_id = key.rsplit(".", 1)
            sheet = owner[statement_id]
            ws = book[sheet.sheet_name]
            column = cell_layout.first_text_column(sheet.judged)
            column += [c.id for c in sheet.columns].index(column_id)
            assert ws.cell(id_rows(ws)[statement_id], column).value == text
    cover = book[cell_layout.COVER_SHEET]
    rows = id_rows(cover)
    for field_id, value in answers.cover.items():
        assert cover.cell(rows[field_id], cell_layout.COVER_VALUE_COL).value == value
    assert cover.cell(rows["review_date"], cell_layout.COVER_VALUE_COL).value == datetime(
        2026, 10, 3
    )
    assert cover.cell(rows["school"], cell_layout.COVER_VALUE_COL).value == OAKFIELD.name
    assert str(cover.cell(rows["urn"], cell_layout.COVER_VALUE_COL).value) == OAKFIELD.urn


# --- fixtures: one LibreOffice fill per framework, shared by the tests that inspect it ------------
@dataclass(frozen=True)
class Filled:
    framework: Framework
    generated: Path
    saved: Path
    answers: Answers
    edits: dict[tuple[str, str], object]
    reports: list


@pytest.fixture(scope="module", params=FRAMEWORKS)
def filled(request, registry: Registry, tmp_path_factory) -> Filled:
    require_libreoffice(uno=True)
    framework = registry.latest(request.param)
    folder = tmp_path_factory.mktemp(f"lo-{framework.id}")
    generated = generate_workbook(framework, OAKFIELD, folder)
    answers = plan_answers(framework, seed=7)
    edits = locate(framework, load_workbook(generated), answers)
    saved = folder / "saved by LibreOffice.xlsx"
    reports = libreoffice_fill(
        generated, [(sheet, cell, value) for (sheet, cell), value in edits.items()], saved
    )
    return Filled(framework, generated, saved, answers, edits, reports)


def test_libreoffice_sees_protected_sheets_and_unlocked_inputs(filled: Filled) -> None:
    """LibreOffice itself reads our protection as meant: every cell we fill is an unlocked input
    cell of a protected sheet, and the judgement cells offer the list."""
    book = load_workbook(filled.generated)
    judgement = judgement_cells(filled.framework, book)
    cover_rows = id_rows(book[cell_layout.COVER_SHEET])
    column = get_column_letter(cell_layout.COVER_VALUE_COL)
    cover_kinds = {
        f"{column}{cover_rows['judge']}": "LIST",
        f"{column}{cover_rows['review_date']}": "DATE",
    }
    assert len(filled.reports) == len(filled.edits)
    for report in filled.reports:
        assert report.sheet_protected, report
        assert not report.locked, report
        if report.sheet == cell_layout.COVER_SHEET:
            assert report.validation == cover_kinds.get(report.cell, "ANY"), report
        elif report.cell in judgement.get(report.sheet, set()):
            assert report.validation == "LIST" and report.show_list, report
        else:
            assert report.validation == "ANY", report
        expected = filled.edits[(report.sheet, report.cell)]
        if isinstance(expected, str):
            assert report.text == expected


def test_libreoffice_save_keeps_dropdowns_protection_identity_and_answers(filled: Filled) -> None:
    book = load_workbook(filled.saved)
    assert_dropdowns(filled.framework, book)
    assert_protection(filled.framework, book)
    assert_identity(filled.framework, book)
    assert_answers(filled.framework, book, filled.answers)


def test_libreoffice_then_gnumeric_keeps_answers_but_not_dropdowns(
    filled: Filled, tmp_path: Path
) -> None:
    """A return saved by LibreOffice and re-saved by Gnumeric: still readable and protected, but
    Gnumeric refuses LibreOffice's list validations (see the module docstring)."""
    require_gnumeric()
    book = load_workbook(gnumeric_resave(filled.saved, tmp_path / "then gnumeric.xlsx"))
    assert_protection(filled.framework, book)
    assert_identity(filled.framework, book)
    assert_answers(filled.framework, book, filled.answers)
    for name, cells in judgement_cells(filled.framework, book).items():
        assert not list_validations(book[name]), "Gnumeric now keeps these: update the docstring"
        # what is left is the input message alone, on the same cells
        (rest,) = book[name].data_validations.dataValidation
        assert cells_of(rest.sqref) == cells and rest.type is None and rest.prompt


@pytest.mark.parametrize("framework_id", FRAMEWORKS)
@pytest.mark.parametrize("application", ["gnumeric", "libreoffice"])
def test_resave_of_a_return_keeps_dropdowns_protection_identity_and_answers(
    framework_id: str, application: str, registry: Registry, tmp_path: Path
) -> None:
    """A return filled as Excel would save it, re-saved by Gnumeric (``ssconvert``) or LibreOffice
    (``--convert-to``)."""
    resave = {"gnumeric": gnumeric_resave, "libreoffice": libreoffice_resave}[application]
    (require_gnumeric if application == "gnumeric" else require_libreoffice)()
    framework = registry.latest(framework_id)
    answers = plan_answers(framework, seed=11)
    generated = generate_workbook(framework, OAKFIELD, tmp_path)
    returned = fill_workbook(
        generated,
        framework,
        judgements=dict(answers.judgements),
        texts=dict(answers.texts),
        cover={**answers.cover, "review_date": REVIEW_DATE},
    )
    book = load_workbook(resave(returned, tmp_path / f"resaved by {application}.xlsx"))
    assert_dropdowns(framework, book)
    assert_protection(framework, book)
    assert_identity(framework, book)
    assert_answers(framework, book, answers)


def test_gnumeric_unhides_sheets_so_identity_lives_in_visible_cells(
    spr: Framework, tmp_path: Path
) -> None:
    """Why the identity is in plain cells: Gnumeric makes hidden sheets visible; LibreOffice keeps
    them hidden and keeps custom document properties. Our workbooks hide nothing."""
    require_gnumeric()
    require_libreoffice()
    generated = generate_workbook(spr, OAKFIELD, tmp_path)
    assert all(ws.sheet_state == "visible" for ws in load_workbook(generated).worksheets)

    probe = load_workbook(generated)
    probe.create_sheet("Hidden").sheet_state = "hidden"
    probe.create_sheet("VeryHidden").sheet_state = "veryHidden"
    probe.custom_doc_props.append(StringProperty(name="probe", value="kept"))
    probe.save(tmp_path / "probe.xlsx")

    by_gnumeric = load_workbook(gnumeric_resave(tmp_path / "probe.xlsx", tmp_path / "gn.xlsx"))
    assert by_gnumeric["Hidden"].sheet_state == "visible"
    assert by_gnumeric["VeryHidden"].sheet_state == "visible"
    assert_identity(spr, by_gnumeric)

    by_libreoffice = load_workbook(
        libreoffice_resave(tmp_path / "probe.xlsx", tmp_path / "lo.xlsx")
    )
    assert by_libreoffice["Hidden"].sheet_state == "hidden"
    assert by_libreoffice["VeryHidden"].sheet_state == "hidden"  # no "very hidden" in LibreOffice
    properties = {p.name: p.value for p in by_libreoffice.custom_doc_props.props}
    assert properties["probe"] == "kept"
    assert properties[cell_layout.KEY_TEMPLATE] == spr.id
    assert_identity(spr, by_libreoffice)


# Template 3 (reporting) adds a wide free-text form: three text columns beside each focus row.
@pytest.mark.parametrize("framework_id", [*FRAMEWORKS, "send-review-report"])
def test_libreoffice_prints_to_landscape_pages_fitted_to_width(
    framework_id: str, registry: Registry, tmp_path: Path
) -> None:
    """Headless PDF export: landscape pages, every column of an area on one page width, and the
    header row repeated on each page an area runs on to."""
    require_libreoffice()
    framework = registry.latest(framework_id)
    pdf = libreoffice_to_pdf(generate_workbook(framework, OAKFIELD, tmp_path), tmp_path / "pdf")
    assert pdf.read_bytes().startswith(b"%PDF-")
    summary = pdf_summary(pdf)
    # cover, one or more pages per sheet, About
    assert summary.pages >= len(framework.sheets) + 2
    assert summary.width > summary.height  # landscape

    require_pdftotext()
    pages = pdf_page_texts(pdf)
    assert len(pages) == summary.pages
    for sheet in framework.sheets:
        if not sheet.statements:
            continue
        header = [cell_layout.ID_HEADER, sheet.statement_heading]
        header += [cell_layout.JUDGEMENT_HEADER] if sheet.judged else []
        header += [c.label for c in sheet.columns]
        ids = {s.id for s in sheet.statements}
        on = [page for page in pages if ids & set(page.split())]
        assert on, f"{sheet.sheet_name} not printed"
        for page in on:
            # a column pushed to a page of its own would take its header with it
            assert all(label in page for label in header), (sheet.sheet_name, page[:200])
        printed = {word for page in on for word in page.split()}
        assert ids <= printed


def test_fill_reports_a_missing_sheet_as_an_error(spr: Framework, tmp_path: Path) -> None:
    require_libreoffice(uno=True)
    generated = generate_workbook(spr, OAKFIELD, tmp_path)
    with pytest.raises(RealAppError, match="No such sheet"):
        libreoffice_fill(generated, [("No such sheet", "C4", "Secure")], tmp_path / "out.xlsx")
    assert not (tmp_path / "out.xlsx").exists()


def test_a_hung_application_is_killed_at_the_timeout(spr: Framework, tmp_path: Path) -> None:
    """A timeout far shorter than LibreOffice's start-up stands in for a hang: the call gives up
    with an error instead of waiting, and writes nothing."""
    require_libreoffice(uno=True)
    generated = generate_workbook(spr, OAKFIELD, tmp_path)
    with pytest.raises(RealAppError, match="timed out"):
        libreoffice_fill(generated, [], tmp_path / "out.xlsx", timeout=0.5)
    assert not (tmp_path / "out.xlsx").exists()
