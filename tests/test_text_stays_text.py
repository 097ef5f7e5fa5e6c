"""School text stays text in every workbook sheet-tools writes: issued (carried forward included),
annotated and summaries. A next step "=Review TA deployment across KS3" once became a formula in
the carried-forward Action plan (LibreOffice showed Err:509) and the school's return then lost its
action plan. Each text below starts as a spreadsheet would take for a formula, or hides one
behind a tab or a carriage return."""

from __future__ import annotations

import re
import zipfile
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from sheet_tools.base.workspace import Workspace
from sheet_tools.definitions import cell_layout
from sheet_tools.definitions.carried import Action, Carried
from sheet_tools.definitions.frameworks import Framework, Registry
from sheet_tools.definitions.roster import School
from sheet_tools.demo import fill_workbook, make_return
from sheet_tools.generate.workbook import generate_workbook
from sheet_tools.intake.validate import check_file
from sheet_tools.service.ingest import ingest_file
from sheet_tools.store.facade import Store
from sheet_tools.summarise import summarise_workspace

from .support import realapp

TEXTS = [
    "=Review TA deployment across KS3",
    "+2 TAs funded from the SEN budget",
    "-1 point on last year: see the note",
    "@SENCO to lead the audit",
    "\t=SUM(A1:A2) after a tab",
    "\r=1+1 after a carriage return",
]
# What a cell holds once written: XML reads a carriage return as a line end.
SHOWN = [text.replace("\r", "\n") for text in TEXTS]
SCHOOL = School(name="Oakfield Primary School", urn="140101", trust="Oak Trust")


def _worksheet_xml(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as archive:
        return {
            name: archive.read(name).decode("utf-8")
            for name in archive.namelist()
            if name.startswith("xl/worksheets/") and name.endswith(".xml")
        }


def _formulas(path: Path) -> list[str]:
    """Every cell formula in the workbook's sheets."""
    return [f for xml in _worksheet_xml(path).values() for f in re.findall(r"<f[ >].*?</f>", xml)]


def _carried(spr: Framework) -> Carried:
    area = spr.sheets[0].title
    actions = [
        Action(id=f"A{n:02d}", action=text, area=area, owner="SENCO", status="In progress")
        for n, text in enumerate(TEXTS, start=1)
    ]
    return Carried(round="Autumn 2026", cover={"personnel": TEXTS[1]}, actions=actions)


def test_an_issued_workbook_keeps_school_text_as_text(spr: Framework, tmp_path: Path) -> None:
    school = School(name="@Home Learning Centre", urn="140199", trust="+Plus Trust")
    path = generate_workbook(spr, school, tmp_path, round_name="Spring 2027", carried=_carried(spr))
    assert _formulas(path) == []
    book = load_workbook(path)
    plan = book[cell_layout.ACTION_SHEET]
    column = cell_layout.ACTION_COLS["action"]
    cells = [plan.cell(cell_layout.FIRST_ROW + n, column) for n in range(len(TEXTS))]
    assert [c.value for c in cells] == SHOWN
    assert all(c.data_type == "s" for c in cells)
    # formula-like text carries Excel's quote prefix, so editing the cell keeps it text
    assert [c.quotePrefix for c in cells] == [t[0] in "=+-@" for t in TEXTS]
    cover = book[cell_layout.COVER_SHEET]
    shown = {c.value for row in cover.iter_rows() for c in row if isinstance(c.value, str)}
    assert {"@Home Learning Centre", "+Plus Trust", TEXTS[1]} <= shown


def test_the_school_gets_its_action_plan_back(
    spr: Framework, registry: Registry, tmp_path: Path
) -> None:
    """Filled in and returned, the plan reads back whole: every action's own words, no query."""
    issued = generate_workbook(
        spr, SCHOOL, tmp_path / "issued", round_name="Spring 2027", carried=_carried(spr)
    )
    filled = fill_workbook(
        issued,
        spr,
        judgements={st.id: "Secure" for _, st in spr.judged_statements()},
        cover={"review_date": date(2027, 3, 1), "judge": "Self-evaluation"},
        actions={f"A{n:02d}": {"status": "In progress"} for n in range(1, len(TEXTS) + 1)},
        out=tmp_path / "returned.xlsx",
    )
    report, valid = check_file(filled, registry)
    plan_codes = {i.code for i in report.errors if i.sheet == cell_layout.ACTION_SHEET}
    assert plan_codes == set(), report.flatten()
    assert valid is not None and valid.actions is not None
    # the reader trims the spaces round what was typed; the words and their "=" are kept
    assert [a.action for a in valid.actions if a.carried] == [t.strip() for t in SHOWN]
    assert {a.status for a in valid.actions if a.carried} == {"In progress"}


@pytest.mark.realapp
def test_libreoffice_shows_the_text_not_an_error(spr: Framework, tmp_path: Path) -> None:
    """What the school sees: LibreOffice opens the issued plan and shows each text as written
    (a formula would show Err:509 or a number)."""
    realapp.require_libreoffice()
    path = generate_workbook(spr, SCHOOL, tmp_path, round_name="Spring 2027", carried=_carried(spr))
    resaved = realapp.libreoffice_resave(path, tmp_path / "resaved.xlsx")
    assert _formulas(resaved) == []
    plan = load_workbook(resaved)[cell_layout.ACTION_SHEET]
    column = cell_layout.ACTION_COLS["action"]
    shown = [plan.cell(cell_layout.FIRST_ROW + n, column).value for n in range(len(TEXTS))]
    assert shown == SHOWN


def test_summaries_and_annotated_copies_keep_school_text_as_text(
    spr: Framework, registry: Registry, tmp_path: Path
) -> None:
    """A return whose boxes hold each text: its school and trust summaries hold them as strings;
    a rejected copy of it (a bad date) gets an annotated copy that holds them as strings too."""
    boxes = [box.id for sheet in spr.sheets for box in sheet.boxes][: len(TEXTS)]
    assert len(boxes) == len(TEXTS)
    texts = dict(zip(boxes, TEXTS, strict=True))
    space = Workspace.at(tmp_path / "ws")
    space.root.mkdir()
    good = make_return(spr, tmp_path / "in", SCHOOL, texts=texts)
    other = School(name="Riverside Academy", urn="140102", trust="Oak Trust")
    bad = make_return(
        spr, tmp_path / "bad", other, texts=texts, cover={"review_date": "31/02/2026"}
    )
    with Store(space.database) as store:
        assert ingest_file(good, space, registry, store).status == "accepted"
        rejected = ingest_file(bad, space, registry, store)
    assert rejected.status == "rejected"
    written = summarise_workspace(space.root, registry)
    books = [p for p in written if p.suffix == ".xlsx"]
    assert len(books) == 2  # the school's and the trust's
    for book in books:
        assert not any(text.strip()[:6] in f for f in _formulas(book) for text in TEXTS), book.name
        with zipfile.ZipFile(book) as archive:
            strings = archive.read("xl/sharedStrings.xml").decode("utf-8")
        held = [text for text in ("=Review TA", "+2 TAs", "-1 point", "@SENCO") if text in strings]
        assert held, book.name  # the summary shows some of the school's words, as strings
        if "trust summary" not in book.name:  # the school's own shows every box
            assert len(held) == 4, (book.name, held)
    [annotated] = [p for p in space.rejected.iterdir() if "annotated" in p.name.casefold()]
    assert _formulas(annotated) == []
    values = {
        c.value
        for ws in load_workbook(annotated).worksheets
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str)
    }
    assert TEXTS[0] in values
