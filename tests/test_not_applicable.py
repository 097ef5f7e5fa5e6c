"""Not applicable, end to end: a return with some statements judged Not applicable (typed in the
spellings people use) generated, filled, ingested and summarised through the CLI, and every number
in the school and trust workbooks computed here from what the test typed. A blank stays "not
judged" beside it; neither counts in any score.

The LibreOffice test chooses Not applicable in the drop-down of a real application."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from sheet_tools.definitions.frameworks import Framework, Registry
from sheet_tools.definitions.roster import School
from sheet_tools.demo import make_return
from sheet_tools.store.facade import Store
from sheet_tools.summarise.cells import TABLE_TOP

from .support.helpers import workspace as make_workspace
from .support.realapp import libreoffice_fill, require_libreoffice
from .support.trust import LABEL_SCORE, SECURE, SPR, Trust, kind, run, typed_of
from .test_summarise import heat_map_cell


def area_expectation(spr: Framework, typed: dict[str, object]) -> dict[str, dict[str, object]]:
    """Per area title (and "All statements"): score, counts per level, Not applicable, Not
    judged and the share Secure or better, from the typed judgements alone."""
    groups = {sheet.title: list(sheet.statements) for sheet in spr.sheets if sheet.judged}
    groups["All statements"] = [st for _, st in spr.judged_statements()]
    found = {}
    for title, statements in groups.items():
        kinds = [kind(typed.get(st.id)) for st in statements]
        scores = [k for k in kinds if isinstance(k, int)]
        found[title] = {
            "score": sum(scores) / len(scores) if scores else None,
            "counts": [kinds.count(score) for score in LABEL_SCORE.values()],
            "na": kinds.count("na"),
            "blank": kinds.count("blank"),
            "secure": sum(1 for s in scores if s >= SECURE) / len(scores) if scores else None,
        }
    return found


def find_row(ws, column: int, value: object) -> int:
    return next(r for r in range(1, ws.max_row + 1) if ws.cell(r, column).value == value)


def header_map(ws, row: int) -> dict[str, int]:
    return {ws.cell(row, c).value: c for c in range(1, ws.max_column + 1) if ws.cell(row, c).value}


def approx(value: float | None) -> object:
    return None if value is None else pytest.approx(value)


def test_not_applicable_through_ingest_and_summarise(
    trust: Trust, spr: Framework, registry: Registry
) -> None:
    lm, env, last = spr.sheets[0].statements, spr.sheets[1].statements, spr.sheets[4]
    oak_overrides = {
        lm[0].id: "Not applicable",
        lm[1].id: "n/a",
        env[0].id: "NA",
        env[1].id: None,  # a blank: not yet discussed
    }
    ash_overrides = {lm[0].id: "N/A", **{st.id: "not applicable" for st in last.statements}}
    oak = trust.fill(
        trust.issue(SPR, "Oakfield Primary", "140101", "Oak Trust"),
        SPR,
        seed=1,
        judgements=oak_overrides,
    )
    ash = trust.fill(
        trust.issue(SPR, "Ash Grove", "140102", "Oak Trust"),
        SPR,
        seed=2,
        judgements=ash_overrides,
    )
    reports = trust.ingest(oak, ash)
    assert [r["status"] for r in reports] == ["accepted", "accepted"]
    blanks = [
        {e["statement"] for e in r["errors"] if e["code"] == "blank-judgement"} for r in reports
    ]
    assert blanks == [{env[1].id}, set()]  # never for Not applicable
    run("summarise", "--workspace", str(trust.root))
    typed = {
        "Oakfield Primary": typed_of(spr, 1, oak_overrides),
        "Ash Grove": typed_of(spr, 2, ash_overrides),
    }

    # the store keeps one distinct value, apart from a blank
    with trust.store() as store:
        stored = {r.school: r.judgements for r in store.returns(SPR)}
    assert stored["Oakfield Primary"][lm[0].id] == stored["Oakfield Primary"][lm[1].id] == "N/A"
    assert stored["Oakfield Primary"][env[1].id] is None

    # the school's Overview: scores, counts per level, Not applicable, Not judged, share
    [school_path] = (trust.outbox / "Oak Trust").glob("Oakfield Primary (140101)*.xlsx")
    book = load_workbook(school_path)
    overview = book["Overview"]
    header = find_row(overview, 1, "Area")
    columns = header_map(overview, header)
    assert columns["Not applicable"] + 1 == columns["Not judged"]
    for title, want in area_expectation(spr, typed["Oakfield Primary"]).items():
        row = find_row(overview, 1, title)
        assert overview.cell(row, columns["Score"]).value == approx(want["score"]), title
        got = [overview.cell(row, columns[label]).value for label in LABEL_SCORE]
        assert got == want["counts"], title
        assert overview.cell(row, columns["Not applicable"]).value == want["na"], title
        assert overview.cell(row, columns["Not judged"]).value == want["blank"], title
        share = overview.cell(row, columns["Secure or better"]).value
        assert share == approx(want["secure"]), title
    assert (
        overview.cell(find_row(overview, 1, spr.sheets[0].title), columns["Not applicable"]).value
        == 2
    )

    # the Data sheet: "Not applicable" without a score; a blank stays blank
    data = book["Data"]
    names = header_map(data, 1)
    rows = {
        data.cell(r, names["statement_id"]).value: (
            data.cell(r, names["judgement"]).value,
            data.cell(r, names["score"]).value,
        )
        for r in range(2, data.max_row + 1)
    }
    for _, statement in spr.judged_statements():
        value = typed["Oakfield Primary"][statement.id]
        expected = {"blank": (None, None), "na": ("Not applicable", None)}.get(
            kind(value), (value, kind(value))
        )
        assert rows[statement.id] == expected, statement.id

    # the trust: each school's area scores and the trust average, Not applicable left out
    [trust_path] = (trust.outbox / "Oak Trust").glob("*trust summary.xlsx")
    trust_book = load_workbook(trust_path)
    scores = trust_book["Area scores"]
    areas = [sheet.title for sheet in spr.sheets if sheet.judged]
    per_school = {name: area_expectation(spr, values) for name, values in typed.items()}
    for name, want in per_school.items():
        row = find_row(scores, 1, name)
        for offset, title in enumerate(areas, start=2):
            assert scores.cell(row, offset).value == approx(want[title]["score"]), (name, title)
    assert scores.cell(find_row(scores, 1, "Ash Grove"), 1 + len(areas)).value is None
    average = find_row(scores, 1, "Trust average")
    for offset, title in enumerate(areas, start=2):
        present = [w[title]["score"] for w in per_school.values() if w[title]["score"] is not None]
        assert scores.cell(average, offset).value == pytest.approx(sum(present) / len(present))

    # Priorities counts Not applicable in its own column; the heat map marks it N/A
    priorities = trust_book["Priorities"]
    columns = header_map(priorities, TABLE_TOP)
    for _, statement in spr.judged_statements():
        row = find_row(priorities, columns["ID"], statement.id)
        kinds = [kind(values[statement.id]) for values in typed.values()]
        assert priorities.cell(row, columns["Not applicable"]).value == kinds.count("na")
        judged = [k for k in kinds if isinstance(k, int)]
        assert priorities.cell(row, columns["Schools judged"]).value == len(judged)
    heat = trust_book["Statement heat map"]
    for name in typed:
        assert heat_map_cell(heat, name, lm[0].id).value == "N/A"


@pytest.mark.realapp
def test_not_applicable_chosen_in_libreoffice_is_ingested_as_not_applicable(
    spr: Framework, tmp_path: Path
) -> None:
    require_libreoffice(uno=True)
    school = School(name="Oakfield Primary", urn="140101", trust="Oak Trust")
    filled = make_return(spr, tmp_path / "made", school, seed=4)
    ws = load_workbook(filled)[spr.sheets[0].sheet_name]
    statement = spr.sheets[0].statements[2]
    row = find_row(ws, 1, statement.id)
    saved = tmp_path / "saved by LibreOffice.xlsx"
    [report] = libreoffice_fill(
        filled, [(spr.sheets[0].sheet_name, f"C{row}", "Not applicable")], saved
    )
    # LibreOffice offers it in the cell's drop-down, and shows it once chosen
    assert report.validation == "LIST" and report.show_list and not report.locked
    assert "Not applicable" in report.formula
    assert report.text == "Not applicable"
    workspace = make_workspace(tmp_path / "workspace")
    output = run("ingest", str(saved), "--workspace", str(workspace), "--json")
    [result] = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert result["status"] == "accepted", result
    assert statement.id not in {e.get("statement") for e in result["errors"]}
    with Store(workspace / "sheet-tools.db") as store:
        [stored] = store.returns(SPR)
    assert stored.judgements[statement.id] == "N/A"
    others = {k: v for k, v in stored.judgements.items() if k != statement.id}
    assert "N/A" not in others.values()


def test_progress_and_the_review_comparison_tell_not_applicable_from_a_blank(
    trust: Trust, spr: Framework
) -> None:
    lm = spr.sheets[0].statements
    spring = {lm[0].id: "Secure", lm[1].id: "N/A", lm[2].id: "Developing"}
    autumn = {lm[0].id: "Not applicable", lm[1].id: "n/a", lm[2].id: None}
    for round_name, day, typed in (
        ("Spring 2026", date(2026, 3, 10), spring),
        ("Autumn 2026", date(2026, 10, 3), autumn),
    ):
        issued = trust.issue(SPR, "Oakfield Primary", "140101", "Oak Trust", round_name)
        filled = trust.fill(issued, SPR, seed=1, judgements=typed, cover={"review_date": day})
        assert trust.ingest(filled)[0]["status"] == "accepted"
    own = trust.issue(SPR, "Ash Grove", "140102", "Oak Trust")
    review = trust.issue(SPR, "Ash Grove", "140102", "Oak Trust", judge="external-reviewer")
    for issued, typed in ((own, "N/A"), (review, "Secure")):
        filled = trust.fill(issued, SPR, seed=5, judgements={lm[0].id: typed})
        assert trust.ingest(filled)[0]["status"] == "accepted"
    trust.summarise()

    [path] = (trust.outbox / "Oak Trust").glob("Oakfield Primary (140101)*.xlsx")
    progress = load_workbook(path)["Progress"]
    header = find_row(progress, 1, "Area")
    header = next(
        r for r in range(header + 1, progress.max_row + 1) if progress.cell(r, 5).value == "ID"
    )
    changed = {}
    for row in range(header + 1, progress.max_row + 1):
        if progress.cell(row, 5).value is None:
            break
        changed[progress.cell(row, 5).value] = (
            progress.cell(row, 2).value,
            progress.cell(row, 3).value,
            progress.cell(row, 4).value,
        )
    # the same seed both rounds: only the three statements typed differently can change, and
    # Not applicable in both rounds is no change
    assert changed == {
        lm[0].id: ("Secure", "Not applicable", None),
        lm[2].id: ("Developing", "Not judged", None),
    }

    [path] = (trust.outbox / "Oak Trust").glob("Ash Grove (140102)*.xlsx")
    comparison = load_workbook(path)["Self-evaluation vs review"]
    row = find_row(comparison, 6, lm[0].id)
    assert [comparison.cell(row, c).value for c in (2, 3, 4, 5)] == [
        "Not applicable",
        "Secure",
        None,
        None,
    ]


def test_not_applicable_is_carried_into_the_last_round_column(
    spr: Framework, tmp_path: Path
) -> None:
    """A statement judged Not applicable last round says so in the next round's workbook: a
    blank Last round cell would read as "not judged"."""
    from sheet_tools.definitions import cell_layout
    from sheet_tools.definitions.carried import Carried
    from sheet_tools.generate.workbook import generate_workbook

    sheet = next(s for s in spr.sheets if s.judged and len(s.statements) >= 3)
    first, second, third = (st.id for st in sheet.statements[:3])
    carried = Carried(round="Autumn 2026", levels={first: "N/A", second: "Sec"})
    school = School(name="Oakfield Primary School", urn="140101", trust="Oak Trust")
    path = generate_workbook(spr, school, tmp_path, round_name="Spring 2027", carried=carried)
    ws = load_workbook(path)[sheet.sheet_name]
    rows = {ws.cell(r, cell_layout.ID_COL).value: r for r in range(1, ws.max_row + 1)}
    shown = [ws.cell(rows[i], cell_layout.LAST_ROUND_COL).value for i in (first, second, third)]
    assert shown == ["Not applicable", "Secure", None]
    grey = ws.cell(rows[first], cell_layout.LAST_ROUND_COL).fill.start_color.rgb
    assert grey.endswith("D9D9D9")  # Not applicable's own grey, apart from every level's colour
