"""Carrying a round forward, end to end through the CLI: a round ingested, the next generated with
``--carry-forward``, its Last round column and Action plan checked against the earlier returns,
the new workbooks filled (actions updated) and ingested, and every number of the school and trust
summaries that the plan affects worked out here, independently.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from sheet_tools.cli import main
from sheet_tools.definitions import cell_layout
from sheet_tools.definitions.frameworks import Framework, Registry
from sheet_tools.demo import fill_workbook, sample_answers
from sheet_tools.store.facade import Store
from sheet_tools.summarise import rebuild, summarise_all
from tests.support.trust import Trust, area_scores_of, expected_area_means, sheet_rows

SPR = "specialist-provision-review"
AUTUMN, SPRING, SUMMER = "Autumn 2026", "Spring 2027", "Summer 2027"
TRUST = "Oak Trust"
OAK = ("Oakfield Primary", "140101")
ASH = ("Ash Grove", "140102")
BIRCH = ("Birch Lane", "140103")
TODAY = date.today()
STATUSES = ("Not started", "In progress", "Done", "Dropped")


def run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == code, result.output
    return result.output


def ids(ws: Worksheet) -> dict[str, int]:
    return {
        str(ws.cell(row, 1).value): row
        for row in range(1, ws.max_row + 1)
        if ws.cell(row, 1).value is not None
    }


def about(book) -> dict[str, object]:
    return {row[0]: row[1] for row in book[cell_layout.ABOUT_SHEET].iter_rows(values_only=True)}


def next_steps(framework: Framework, tag: str) -> dict[str, str]:
    """A next-steps text per area, naming the area and who wrote it."""
    return {
        box.id: f"{tag} next step for {sheet.id}"
        for sheet in framework.sheets
        for box in sheet.boxes
        if box.role == "next_steps"
    }


def plan_rows(path: Path) -> list[tuple]:
    ws = load_workbook(path)[cell_layout.ACTION_SHEET]
    rows = ws.iter_rows(min_row=cell_layout.FIRST_ROW, values_only=True)
    return [row[:7] for row in rows if row[0] and str(row[0]).startswith("A")]


@pytest.fixture
def earlier(tmp_path: Path, registry: Registry, spr: Framework) -> dict:
    """An Autumn round: Oakfield's self-evaluation and an external review (some statements left
    unjudged by the reviewer), Ash Grove's self-evaluation; Birch Lane returned nothing."""
    trust = Trust(tmp_path / "workspace", registry)
    trust.roster([(*OAK, TRUST), (*ASH, TRUST), (*BIRCH, TRUST)])
    oak_own = sample_answers(spr, 1).judgements
    oak_review = dict(sample_answers(spr, 2).judgements)
    unjudged = [st.id for _, st in spr.judged_statements()][::5]
    for sid in unjudged:
        oak_review[sid] = None
    ash_own = sample_answers(spr, 3).judgements
    files = [
        trust.fill(
            trust.issue(SPR, *OAK, TRUST, judge="self-evaluation"),
            SPR,
            seed=1,
            judgements=oak_own,
            texts=next_steps(spr, "Oak own"),
            cover={"personnel": "Ms Head; Mr Senco"},
        ),
        trust.fill(
            trust.issue(SPR, *OAK, TRUST, judge="external-reviewer"),
            SPR,
            seed=2,
            judgements=oak_review,
            texts=next_steps(spr, "Oak reviewer"),
            cover={"personnel": "Dr External", "review_date": date(2026, 10, 20)},
        ),
        trust.fill(
            trust.issue(SPR, *ASH, TRUST, judge="self-evaluation"),
            SPR,
            seed=3,
            judgements=ash_own,
            texts=next_steps(spr, "Ash own"),
        ),
    ]
    reports = trust.ingest(*files)
    assert [r["status"] for r in reports] == ["accepted"] * 3
    return {
        "trust": trust,
        "oak": {sid: oak_review.get(sid) or oak_own[sid] for sid in oak_own},
        "ash": dict(ash_own),
        "unjudged": unjudged,
    }


def generate_spring(trust: Trust, *extra: str) -> dict[str, Path]:
    out = trust.root / "spring"
    output = run(
        "generate",
        SPR,
        "--roster",
        str(trust.root / "roster.csv"),
        "--round",
        SPRING,
        "--carry-forward",
        "--workspace",
        str(trust.root),
        "--out",
        str(out),
        *extra,
    )
    assert "Carrying forward 2 of 3 schools" in output
    return {path.name.split(" (")[0]: path for path in out.glob("*.xlsx")}


def test_the_next_round_starts_from_the_last(earlier: dict, spr: Framework) -> None:
    trust: Trust = earlier["trust"]
    books = generate_spring(trust)
    assert set(books) == {OAK[0], ASH[0], BIRCH[0]}

    # Last round: the reviewer's level where the reviewer judged, else the school's own, each
    # saying whose it is: per cell where Oakfield's are mixed, in the header where Ash Grove's
    # are all its own
    oak_shown = {
        sid: f"{label} ({'school' if sid in earlier['unjudged'] else 'reviewer'})"
        for sid, label in earlier["oak"].items()
    }
    for school, expected, heading in (
        (OAK[0], oak_shown, f"Last round ({AUTUMN})"),
        (ASH[0], earlier["ash"], f"Last round (School, {AUTUMN})"),
    ):
        book = load_workbook(books[school])
        assert about(book)[cell_layout.KEY_CARRIED_FROM] == AUTUMN
        for sheet in spr.sheets:
            if not sheet.judged:
                continue
            ws = book[sheet.sheet_name]
            assert ws.protection.sheet
            header = ws.cell(cell_layout.HEADER_ROW, cell_layout.LAST_ROUND_COL).value
            assert header == heading
            rows = ids(ws)
            for statement in sheet.statements:
                row = rows[statement.id]
                cell = ws.cell(row, cell_layout.LAST_ROUND_COL)
                assert cell.value == expected[statement.id], (school, statement.id)
                assert cell.protection.locked
                assert not ws.cell(row, cell_layout.JUDGEMENT_COL).protection.locked
                assert ws.cell(row, cell_layout.JUDGEMENT_COL).value is None
                assert not ws.cell(row, cell_layout.LAST_ROUND_COL + 1).protection.locked
        cover = book[cell_layout.COVER_SHEET]
        personnel = cover.cell(ids(cover)["personnel"], cell_layout.COVER_VALUE_COL).value
        assert personnel == ("Ms Head; Mr Senco" if school == OAK[0] else sample_personnel(spr))

    # the Action plan: the round's next steps per area (the reviewer's, for Oakfield)
    areas = [sheet for sheet in spr.sheets if any(b.role == "next_steps" for b in sheet.boxes)]
    for school, tag in ((OAK[0], "Oak reviewer"), (ASH[0], "Ash own")):
        expected_rows = [
            (f"A{n:02d}", f"{tag} next step for {sheet.id}", sheet.title, None, None, None, None)
            for n, sheet in enumerate(areas, start=1)
        ]
        assert plan_rows(books[school]) == expected_rows
        ws = load_workbook(books[school])[cell_layout.ACTION_SHEET]
        assert ws.protection.sheet
        first = cell_layout.FIRST_ROW
        assert ws.cell(first, cell_layout.ACTION_COLS["action"]).protection.locked
        for key in ("owner", "due", "status", "note"):
            assert not ws.cell(first, cell_layout.ACTION_COLS[key]).protection.locked
        own = ids(ws)["S01"]
        assert not ws.cell(own, cell_layout.ACTION_COLS["action"]).protection.locked
        status_lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
        assert [dv.formula1 for dv in status_lists] == ['"Not started,In progress,Done,Dropped"']

    # a school with no earlier return gets the ordinary workbook
    birch = load_workbook(books[BIRCH[0]])
    assert cell_layout.ACTION_SHEET not in birch.sheetnames
    assert cell_layout.KEY_CARRIED_FROM not in about(birch)
    first_area = birch[spr.sheets[0].sheet_name]
    assert first_area.cell(cell_layout.HEADER_ROW, cell_layout.LAST_ROUND_COL).value != (
        f"Last round ({AUTUMN})"
    )

    # --- the schools fill the new round in, updating their actions -----------------------------
    sheet = next(s for s in spr.sheets if s.judged and s.columns)
    statement, column = sheet.statements[0], sheet.columns[0]
    evidence = f"{statement.id}.{column.id}"
    oak_labels = dict(sample_answers(spr, 4).judgements)
    not_applicable = next(iter(oak_labels))  # one statement less relevant to this provision
    oak_labels[not_applicable] = "Not applicable"
    oak_actions = {
        "A01": {"owner": "SENCo", "due": TODAY - timedelta(days=10), "status": "In progress"},
        "A02": {"status": "Done", "note": "Plan agreed with governors"},
        "A03": {"due": TODAY + timedelta(days=30)},
        "A04": {"due": TODAY - timedelta(days=3), "status": "Dropped", "note": "Superseded"},
        "S01": {"action": "@Own: buddy scheme", "area": "Own", "due": TODAY - timedelta(days=1)},
    }
    ash_actions = {
        "A01": {"status": "Done"},  # no note: a query
        "A02": {"owner": "Head", "due": TODAY - timedelta(days=2), "status": "In progress"},
    }
    oak_new = fill_workbook(
        books[OAK[0]],
        spr,
        judgements=oak_labels,
        texts={evidence: "Evidence typed beside LM01"},
        cover={"review_date": date(2027, 2, 1), "judge": "Self-evaluation"},
        actions=oak_actions,
        out=trust.filled / "oak spring.xlsx",
    )
    ash_new = fill_workbook(
        books[ASH[0]],
        spr,
        judgements=sample_answers(spr, 5).judgements,
        cover={"review_date": date(2027, 2, 2), "judge": "Self-evaluation"},
        actions=ash_actions,
        out=trust.filled / "ash spring.xlsx",
    )
    oak_report, ash_report = trust.ingest(oak_new, ash_new)
    assert oak_report["status"] == ash_report["status"] == "accepted"
    assert oak_report["round"] == SPRING
    [query] = [e for e in ash_report["errors"] if e["code"] == "done-without-note"]
    assert query["severity"] == "warning"
    assert (query["sheet"], query["cell"]) == (
        cell_layout.ACTION_SHEET,
        f"G{cell_layout.FIRST_ROW}",
    )

    with trust.store() as store:
        [oak_spring] = store.returns(SPR, school_key=OAK[1], round=SPRING)
        [oak_autumn_own] = [
            r for r in store.returns(SPR, school_key=OAK[1], round=AUTUMN, contents=False)
        ][:1]
    # the text column moved right by one and was still read as the statement's evidence
    assert oak_spring.texts[evidence] == "Evidence typed beside LM01"
    codes = {"Beginning": "Beg", "Developing": "Dev", "Secure": "Sec", "Embedded": "Emb"}
    codes["Not applicable"] = "N/A"
    assert oak_spring.judgements == {sid: codes[label] for sid, label in oak_labels.items()}
    assert oak_autumn_own.actions is None  # contents=False loads no plan

    trust.summarise()
    folder = trust.outbox / TRUST

    # --- the school's Action plan ----------------------------------------------------------------
    oak_plan = expected_plan(spr, areas, "Oak reviewer", oak_actions)
    rows = sheet_rows(folder / f"{OAK[0]} ({OAK[1]}) - {SPR}.xlsx", "Action plan")
    counts = expected_counts(oak_plan)
    assert rows[3][:6] == [*STATUSES, "Overdue", "Total"]
    assert rows[4][:6] == [*(counts[s] for s in STATUSES), overdue_of(oak_plan), len(oak_plan)]
    assert counts == {"Not started": 3, "In progress": 1, "Done": 1, "Dropped": 1}
    table = rows[7 : 7 + len(oak_plan)]
    for got, want in zip(table, oak_plan, strict=True):
        assert got[0] == want["id"] and got[1] == want["action"] and got[2] == want["area"]
        assert got[3] == (want.get("owner") or None)
        assert (got[4].date() if got[4] else None) == want.get("due")
        assert got[5] == (want.get("status") or "Not started")
        assert got[7] == ("Overdue" if is_overdue(want) else None)
    assert table[-1][1] == "@Own: buddy scheme"  # school text stays text

    # --- the trust's Actions sheet -----------------------------------------------------------
    ash_plan = expected_plan(spr, areas, "Ash own", ash_actions)
    trust_book = folder / f"{TRUST} - {SPR} - trust summary.xlsx"
    rows = sheet_rows(trust_book, "Actions")
    by_school = {row[0]: row for row in rows[4:6]}
    for name, urn, plan in ((*OAK, oak_plan), (*ASH, ash_plan)):
        counts = expected_counts(plan)
        assert by_school[name][1:8] == [
            urn,
            *(counts[s] for s in STATUSES),
            len(plan),
            overdue_of(plan),
        ]
    late = [(school, a) for school, plan in ((OAK[0], oak_plan), (ASH[0], ash_plan)) for a in plan]
    late = sorted(
        ((s, a) for s, a in late if is_overdue(a)), key=lambda p: (p[1]["due"], p[0].casefold())
    )
    assert len(late) == 3
    start = next(i for i, row in enumerate(rows) if row[0] == f"Overdue actions ({len(late)})")
    listed = rows[start + 2 : start + 2 + len(late)]
    assert [(row[0], row[1], row[4].date(), row[6]) for row in listed] == [
        (school, a["action"], a["due"], (TODAY - a["due"]).days) for school, a in late
    ]

    # the new round's scores are the new judgements (the Last round column is not read as one),
    # the statement judged Not applicable left out of its area's mean
    scores = area_scores_of(trust_book)
    judged = {sid: label for sid, label in oak_labels.items() if label != "Not applicable"}
    areas_mean = expected_area_means(spr, judged)
    assert scores[OAK[0]][: len(areas_mean)] == pytest.approx(areas_mean)
    # the Data sheet tells Not applicable from a blank
    data = sheet_rows(folder / f"{OAK[0]} ({OAK[1]}) - {SPR}.xlsx", "Data")
    [row] = [r for r in data[1:] if r[7] == not_applicable]
    assert (row[9], row[10]) == ("Not applicable", None)
    # the trust Overview counts the overdue actions the Actions sheet lists
    overview = sheet_rows(trust_book, "Overview")
    [line] = [r for r in overview if r[0] and "overdue" in str(r[0]).lower()]
    assert line[1] == len(late)


def sample_personnel(spr: Framework) -> str:
    return str(sample_answers(spr, 3).cover["personnel"])


def expected_plan(
    spr: Framework, areas: list, tag: str, typed: dict[str, dict[str, object]]
) -> list[dict]:
    """The plan as the school left it: the carried rows with what was typed, then its own."""
    plan = [
        {"id": f"A{n:02d}", "action": f"{tag} next step for {sheet.id}", "area": sheet.title}
        for n, sheet in enumerate(areas, start=1)
    ]
    for row in plan:
        row.update(typed.get(row["id"], {}))
    plan += [{"id": key, **values} for key, values in typed.items() if key.startswith("S")]
    return plan


def expected_counts(plan: list[dict]) -> dict[str, int]:
    return {s: sum(1 for a in plan if (a.get("status") or "Not started") == s) for s in STATUSES}


def is_overdue(action: dict, today: date = TODAY) -> bool:
    due = action.get("due")
    return due is not None and due < today and action.get("status") not in ("Done", "Dropped")


def overdue_of(plan: list[dict], today: date = TODAY) -> int:
    return sum(1 for a in plan if is_overdue(a, today))


def test_overdue_is_judged_as_of_the_day_given(
    earlier: dict, spr: Framework, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    trust: Trust = earlier["trust"]
    books = generate_spring(trust)
    actions = {"A01": {"due": date(2027, 3, 1)}, "A02": {"due": date(2027, 5, 1)}}
    filled = fill_workbook(
        books[OAK[0]],
        spr,
        judgements=sample_answers(spr, 4).judgements,
        cover={"review_date": date(2027, 2, 1), "judge": "Self-evaluation"},
        actions=actions,
        out=trust.filled / "oak.xlsx",
    )
    [report] = trust.ingest(filled)
    assert report["status"] == "accepted"
    seen: dict[str, int | None] = {}
    real = rebuild.run_jobs

    def capture(jobs, workers):
        for kind, args in jobs:
            if kind == "trust":
                seen[args[1].name or ""] = args[1].overdue_actions
        return real(jobs, workers)

    monkeypatch.setattr(rebuild, "run_jobs", capture)
    with Store(trust.root / "sheet-tools.db") as store:
        for day, count in ((date(2027, 2, 1), 0), (date(2027, 3, 2), 1), (date(2027, 6, 1), 2)):
            summarise_all(store, registry, trust.outbox, today=day)
            assert seen[TRUST] == count
            rows = sheet_rows(
                trust.outbox / TRUST / f"{TRUST} - {SPR} - trust summary.xlsx", "Actions"
            )
            assert any(row[0] == f"Overdue actions ({count})" for row in rows)


def test_a_plan_that_is_not_right_is_reported_cell_by_cell(earlier: dict, spr: Framework) -> None:
    trust: Trust = earlier["trust"]
    books = generate_spring(trust)
    filled = fill_workbook(
        books[OAK[0]],
        spr,
        judgements=sample_answers(spr, 4).judgements,
        cover={"review_date": date(2027, 2, 1), "judge": "Self-evaluation"},
        actions={
            "A01": {"due": "next week", "status": "In progress"},
            "A02": {"status": "Finished"},
            "S02": {"owner": "Head"},  # details but no action
        },
        out=trust.filled / "oak.xlsx",
    )
    output = run("validate", str(filled), "--json", code=1)
    [report] = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert report["status"] == "rejected"
    found = {e["code"]: e for e in report["errors"]}
    first = cell_layout.FIRST_ROW
    assert (found["invalid-due-date"]["cell"], found["invalid-due-date"]["value"]) == (
        f"E{first}",
        "next week",
    )
    assert found["invalid-due-date"]["severity"] == "error"
    assert found["invalid-due-date"]["sheet"] == cell_layout.ACTION_SHEET
    assert (found["invalid-status"]["cell"], found["invalid-status"]["value"]) == (
        f"F{first + 1}",
        "Finished",
    )
    assert found["action-without-text"]["severity"] == "warning"

    # ingested, it is rejected with an annotated copy marking the plan's cells
    [ingested] = trust.ingest(filled)
    assert ingested["status"] == "rejected"
    [annotated] = (trust.root / "rejected").glob("*.annotated.xlsx")
    plan = load_workbook(annotated)[cell_layout.ACTION_SHEET]
    assert "next week" in plan[f"E{first}"].comment.text
    assert "Finished" in plan[f"F{first + 1}"].comment.text
    assert {dv.type for dv in plan.data_validations.dataValidation} == {"date", "list"}


def test_from_round_and_unfinished_actions_carry_again(
    earlier: dict, spr: Framework, registry: Registry
) -> None:
    trust: Trust = earlier["trust"]
    books = generate_spring(trust)
    spring_steps = next_steps(spr, "Oak spring")
    typed = {
        "A01": {
            "owner": "SENCo",
            "due": date(2027, 3, 31),
            "status": "In progress",
            "note": "Half",
        },
        "A02": {"status": "Done", "note": "Finished"},
        "A03": {"status": "Dropped", "note": "No longer needed"},
        "S01": {"action": "Our own action", "area": "Own", "owner": "Deputy"},
    }
    filled = fill_workbook(
        books[OAK[0]],
        spr,
        judgements=sample_answers(spr, 6).judgements,
        texts=spring_steps,
        cover={"review_date": date(2027, 2, 1), "judge": "Self-evaluation"},
        actions=typed,
        out=trust.filled / "oak.xlsx",
    )
    assert trust.ingest(filled)[0]["status"] == "accepted"

    def one(*extra: str) -> Path:
        out = trust.root / "summer" / str(len(extra))
        output = run(
            "generate", SPR, "--school", OAK[0], "--urn", OAK[1], "--trust", TRUST,
            "--round", SUMMER, "--carry-forward", "--workspace", str(trust.root),
            "--out", str(out), *extra,
        )  # fmt: skip
        assert "Carrying forward 1 of 1 school" in output
        [path] = out.glob("*.xlsx")
        return path

    # default: the latest earlier round (Spring), its next steps, then what is still open
    summer = one()
    book = load_workbook(summer)
    assert about(book)[cell_layout.KEY_CARRIED_FROM] == SPRING
    areas = [sheet for sheet in spr.sheets if any(b.role == "next_steps" for b in sheet.boxes)]
    still_open = [("Oak reviewer next step for " + areas[0].id, areas[0].title)]
    still_open += [(f"Oak reviewer next step for {s.id}", s.title) for s in areas[3:]]
    still_open += [("Our own action", "Own")]
    rows = plan_rows(summer)
    assert [(r[1], r[2]) for r in rows] == [
        *((f"Oak spring next step for {s.id}", s.title) for s in areas),
        *still_open,
    ]
    assert rows[len(areas)][3:7] == ("SENCo", rows[len(areas)][4], "In progress", "Half")
    assert rows[len(areas)][4].date() == date(2027, 3, 31)
    assert rows[-1][3] == "Deputy"

    # --from-round: the Autumn round's levels and next steps instead
    autumn = one("--from-round", AUTUMN)
    book = load_workbook(autumn)
    assert about(book)[cell_layout.KEY_CARRIED_FROM] == AUTUMN
    ws = book[spr.sheets[0].sheet_name]
    assert (
        ws.cell(cell_layout.HEADER_ROW, cell_layout.LAST_ROUND_COL).value
        == f"Last round ({AUTUMN})"
    )
    sid = spr.sheets[0].statements[0].id
    assert sid in earlier["unjudged"]  # so the level shown is the school's own, and says so
    shown = ws.cell(ids(ws)[sid], cell_layout.LAST_ROUND_COL).value
    assert shown == f"{earlier['oak'][sid]} (school)"
    assert [r[1] for r in plan_rows(autumn)] == [
        f"Oak reviewer next step for {s.id}" for s in areas
    ]


def test_the_diagnostic_review_plan_holds_the_reports_recommendations_and_visit_actions(
    tmp_path: Path, registry: Registry
) -> None:
    trust = Trust(tmp_path / "workspace", registry)
    own_form = registry.latest("send-review-mainstream")
    report_form = registry.latest("send-review-report")
    visit_form = registry.latest("send-review-follow-up")
    school = (*OAK, TRUST)
    focus = [st for sheet, st in report_form.statements() if sheet.columns]
    recommendation = {st.id: f"Recommendation for {st.id}" for st in focus[:2]}
    files = [
        trust.fill(trust.issue(own_form.id, *school, judge="self-evaluation"), own_form.id),
        trust.fill(
            trust.issue(report_form.id, *school),
            report_form.id,
            texts={f"{sid}.recommendations": text for sid, text in recommendation.items()},
            cover={"review_date": date(2026, 10, 20)},
        ),
        *(
            trust.fill(
                trust.issue(visit_form.id, *school),
                visit_form.id,
                texts={"V.actions_school": f"Visit {n}: update the provision map"},
                cover={"review_date": day},
            )
            for n, day in ((1, date(2026, 11, 10)), (2, date(2026, 11, 24)))
        ),
    ]
    assert [r["status"] for r in trust.ingest(*files)] == ["accepted"] * 4
    out = trust.root / "spring"
    run(
        "generate", own_form.id, "--school", OAK[0], "--urn", OAK[1], "--trust", TRUST,
        "--round", SPRING, "--carry-forward", "--workspace", str(trust.root), "--out", str(out),
    )  # fmt: skip
    [path] = out.glob("*.xlsx")
    rows = [(r[1], r[2]) for r in plan_rows(path)]
    # the areas for development are problems, not actions (tests/test_diagnostic_carry.py)
    expected = [(recommendation[st.id], st.text) for st in focus[:2]]
    expected += [("Visit 2: update the provision map", "Follow-up visit, 24/11/2026")]
    assert rows == expected


def test_carry_forward_needs_a_workspace_and_from_round_needs_carry_forward(
    tmp_path: Path,
) -> None:
    base = ["generate", SPR, "--school", "Oak", "--out", str(tmp_path / "out")]
    output = run(*base, "--from-round", AUTUMN, code=2)
    assert "--from-round needs --carry-forward" in output
    output = run(*base, "--carry-forward", "--workspace", str(tmp_path / "none"), code=2)
    assert "sheet-tools.db" in output


def test_the_store_keeps_a_plan_with_its_return_and_loads_it_only_with_contents(
    tmp_path: Path,
) -> None:
    from datetime import UTC, datetime

    from sheet_tools.definitions.carried import Action
    from sheet_tools.intake.returns import ValidReturn

    plan = [
        Action(id="A01", action="Agree a plan", area="Leadership", due=date(2027, 3, 31)),
        Action(id="S01", action="=1+1", owner="Head", status="Done", note="Done it"),
    ]
    base = {
        "template_id": SPR,
        "template_version": "1.0",
        "school": OAK[0],
        "urn": OAK[1],
        "review_date": date(2027, 2, 1),
        "round": SPRING,
    }
    with Store(tmp_path / "sheet-tools.db") as store:
        at = datetime(2027, 2, 2, tzinfo=UTC)
        store.add_return(
            ValidReturn(**base, actions=plan), sha256="a" * 64, file_name="a", arrived_at=at
        )
        other = {**base, "urn": "140102", "school": ASH[0]}
        store.add_return(ValidReturn(**other), sha256="b" * 64, file_name="b", arrived_at=at)
        with_plan, without = store.returns(SPR)
        assert with_plan.actions == plan and without.actions is None
        assert all(r.actions is None for r in store.returns(SPR, contents=False))
