"""A carried-forward workbook in real applications: filled and saved by LibreOffice, or filled
as Excel saves it and re-saved by Gnumeric, it keeps its locked Last round column, its action
plan's drop-down and its identity, and it is still read with every answer in its place (the
free-text columns sit one to the right of where an ordinary workbook has them). Saved by
LibreOffice and then re-saved by Gnumeric it is still read right (Gnumeric drops LibreOffice's
list validations, as for any workbook: see test_realapp_generate)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from sheet_tools.definitions import cell_layout
from sheet_tools.definitions.carried import Action, Carried
from sheet_tools.definitions.frameworks import Framework, Registry
from sheet_tools.definitions.roster import School
from sheet_tools.generate.workbook import generate_workbook
from sheet_tools.intake.validate import check_file

from .support.helpers import cells_of
from .support.realapp import (
    gnumeric_resave,
    libreoffice_fill,
    require_gnumeric,
    require_libreoffice,
)

pytestmark = [
    pytest.mark.realapp,
    pytest.mark.filterwarnings("ignore:Workbook contains no default style"),
]

OAKFIELD = School(name="Oakfield Primary", urn="123456", trust="North Star Trust")
CODES = {"Beginning": "Beg", "Developing": "Dev", "Secure": "Sec", "Embedded": "Emb"}


def _rows(ws) -> dict[str, int]:
    return {str(ws.cell(r, 1).value): r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value}


@pytest.fixture(scope="module")
def carried(registry: Registry) -> Carried:
    spr = registry.latest("specialist-provision-review")
    levels = ["Beg", "Dev", "Sec", "Emb"]
    return Carried(
        round="Autumn 2026",
        levels={st.id: levels[n % 4] for n, (_, st) in enumerate(spr.judged_statements())},
        cover={"personnel": "Ms Head; Mr Senco"},
        actions=[
            Action(id="A01", action="Agree a development plan", area="1. Leadership"),
            Action(id="A02", action="Train staff on adaptive teaching", area="2. Environment"),
        ],
    )


@pytest.fixture(scope="module")
def saved(
    registry: Registry, carried: Carried, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Framework, Path, dict, list]:
    require_libreoffice()
    spr = registry.latest("specialist-provision-review")
    folder = tmp_path_factory.mktemp("carry-realapp")
    generated = generate_workbook(spr, OAKFIELD, folder, round_name="Spring 2027", carried=carried)
    book = load_workbook(generated)
    edits: dict[tuple[str, str], object] = {}
    cover = book[cell_layout.COVER_SHEET]
    value = get_column_letter(cell_layout.COVER_VALUE_COL)
    rows = _rows(cover)
    edits[(cover.title, f"{value}{rows['review_date']}")] = "01/02/2027"
    edits[(cover.title, f"{value}{rows['judge']}")] = "Self-evaluation"
    labels = list(CODES)
    judged = list(spr.judged_statements())
    for n, (sheet, statement) in enumerate(judged):
        ws = book[sheet.sheet_name]
        row = _rows(ws)[statement.id]
        edits[(ws.title, f"C{row}")] = labels[(n + 1) % 4]
        if n == 0:
            text = get_column_letter(cell_layout.text_column(True, True))
            edits[(ws.title, f"{text}{row}")] = "Evidence beside the first statement"
    plan = book[cell_layout.ACTION_SHEET]
    prow = _rows(plan)
    cols = {k: get_column_letter(c) for k, c in cell_layout.ACTION_COLS.items()}
    edits[(plan.title, f"{cols['owner']}{prow['A01']}")] = "SENCo"
    edits[(plan.title, f"{cols['due']}{prow['A01']}")] = "31/03/2027"
    edits[(plan.title, f"{cols['status']}{prow['A01']}")] = "In progress"
    edits[(plan.title, f"{cols['status']}{prow['A02']}")] = "Done"
    edits[(plan.title, f"{cols['note']}{prow['A02']}")] = "Two sessions held"
    edits[(plan.title, f"{cols['action']}{prow['S01']}")] = "Our own action"
    edits[(plan.title, f"{cols['area']}{prow['S01']}")] = "Own"
    out = folder / "saved by libreoffice.xlsx"
    reports = libreoffice_fill(generated, [(s, c, v) for (s, c), v in edits.items()], out)
    return spr, out, edits, reports


def test_libreoffice_fills_only_inputs_and_offers_the_status_list(saved) -> None:
    _, _, edits, reports = saved
    assert len(reports) == len(edits)
    for report in reports:
        assert report.sheet_protected and not report.locked, report
        if report.sheet == cell_layout.ACTION_SHEET and report.cell.startswith("F"):
            assert report.validation == "LIST" and report.show_list, report
        if report.sheet == cell_layout.ACTION_SHEET and report.cell.startswith("E"):
            assert report.validation == "DATE", report


def assert_kept(spr: Framework, path: Path, carried: Carried) -> None:
    """The Last round column locked and as carried, the status drop-down, the identity."""
    book = load_workbook(path)
    about = {row[0]: row[1] for row in book[cell_layout.ABOUT_SHEET].iter_rows(values_only=True)}
    assert about[cell_layout.KEY_CARRIED_FROM] == "Autumn 2026"
    assert about[cell_layout.KEY_LAST_ROUND_COLUMN] == "D"
    assert about[cell_layout.KEY_ROUND] == "Spring 2027"
    labels = {code: label for label, code in CODES.items()}
    for sheet in spr.sheets:
        if not sheet.judged:
            continue
        ws = book[sheet.sheet_name]
        assert ws.protection.sheet
        rows = _rows(ws)
        for statement in sheet.statements:
            cell = ws.cell(rows[statement.id], cell_layout.LAST_ROUND_COL)
            assert cell.value == labels[carried.levels[statement.id]]
            assert cell.protection.locked
    plan = book[cell_layout.ACTION_SHEET]
    assert plan.protection.sheet
    assert plan.cell(_rows(plan)["A01"], cell_layout.ACTION_COLS["action"]).protection.locked
    status = get_column_letter(cell_layout.ACTION_COLS["status"])
    lists = [dv for dv in plan.data_validations.dataValidation if dv.type == "list"]
    assert any(f"{status}{_rows(plan)['A01']}" in cells_of(dv.sqref) for dv in lists)


def assert_read(spr: Framework, path: Path, registry: Registry, edits: dict) -> None:
    report, valid = check_file(path, registry)
    assert report.status == "accepted", report.errors
    assert valid is not None and valid.round == "Spring 2027"
    labels = list(CODES)
    expected = {
        st.id: CODES[labels[(n + 1) % 4]] for n, (_, st) in enumerate(spr.judged_statements())
    }
    assert valid.judgements == expected
    first = next(iter(spr.judged_statements()))
    sheet, statement = first
    assert valid.texts[f"{statement.id}.{sheet.columns[0].id}"] == (
        "Evidence beside the first statement"
    )
    actions = {a.id: a for a in valid.actions or []}
    assert set(actions) == {"A01", "A02", "S01"}
    assert (actions["A01"].owner, actions["A01"].due, actions["A01"].status) == (
        "SENCo",
        date(2027, 3, 31),
        "In progress",
    )
    assert (actions["A02"].status, actions["A02"].note) == ("Done", "Two sessions held")
    assert (actions["S01"].action, actions["S01"].area) == ("Our own action", "Own")


def test_libreoffice_save_keeps_the_last_round_the_dropdown_and_identity_and_ingests(
    saved,
    carried: Carried,
    registry: Registry,
) -> None:
    spr, path, edits, _ = saved
    assert_kept(spr, path, carried)
    assert_read(spr, path, registry, edits)


def test_then_gnumeric_still_reads(
    saved,
    carried: Carried,
    registry: Registry,
    tmp_path: Path,
) -> None:
    require_gnumeric()
    spr, path, edits, _ = saved
    again = gnumeric_resave(path, tmp_path / "then gnumeric.xlsx")
    assert_read(spr, again, registry, edits)


def test_gnumeric_resave_of_a_carried_return_keeps_it_and_reads(
    registry: Registry, carried: Carried, tmp_path: Path
) -> None:
    """Filled as Excel would save it (openpyxl), then re-saved by Gnumeric alone."""
    from sheet_tools.demo import fill_workbook

    require_gnumeric()
    spr = registry.latest("specialist-provision-review")
    generated = generate_workbook(
        spr, OAKFIELD, tmp_path, round_name="Spring 2027", carried=carried
    )
    labels = list(CODES)
    judged = list(spr.judged_statements())
    sheet, statement = judged[0]
    returned = fill_workbook(
        generated,
        spr,
        judgements={st.id: labels[(n + 1) % 4] for n, (_, st) in enumerate(judged)},
        texts={f"{statement.id}.{sheet.columns[0].id}": "Evidence beside the first statement"},
        cover={"review_date": date(2027, 2, 1), "judge": "Self-evaluation"},
        actions={
            "A01": {"owner": "SENCo", "due": date(2027, 3, 31), "status": "In progress"},
            "A02": {"status": "Done", "note": "Two sessions held"},
            "S01": {"action": "Our own action", "area": "Own"},
        },
        out=tmp_path / "returned.xlsx",
    )
    again = gnumeric_resave(returned, tmp_path / "resaved by gnumeric.xlsx")
    assert_kept(spr, again, carried)
    assert_read(spr, again, registry, {})
