"""Carrying the SEND Diagnostic Review forward, through the CLI on real files: the next round's
Action plan holds the report's recommendations one row each and the latest visit's action points
one per numbered line; the areas for development (the reviewer's and the school's) are shown
under it for context and never read back as actions; the Last round column says whose each level
is; a form without actions carries no plan; and a school not carried is told why."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from sheet_tools.base.keys import school_key
from sheet_tools.cli import main
from sheet_tools.definitions import cell_layout
from sheet_tools.definitions.frameworks import Registry
from sheet_tools.demo import fill_workbook, sample_answers
from sheet_tools.service.carry import split_points
from tests.support.carry import plan_of
from tests.support.trust import AUTUMN, Trust

MAINSTREAM, SPECIALIST = "send-review-mainstream", "send-review-specialist"
REPORT, VISIT = "send-review-report", "send-review-follow-up"
SPRING = "Spring 2027"
OAK = ("Oakfield Primary", "140101", "Oak Trust")
BIRCH = ("Birch House School", "140102", "Oak Trust")
POINTS = (
    "1. Update the provision map\n"
    "2) Train teaching assistants in\n"
    "   precision teaching\n"
    "(3) Review the SEN register with the SENCO"
)
SPLIT = [
    "Update the provision map",
    "Train teaching assistants in precision teaching",
    "Review the SEN register with the SENCO",
]


def cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def development(registry: Registry, template: str, who: str) -> dict[str, str]:
    """A text for every area-for-development box, naming the area and who wrote it."""
    form = registry.latest(template)
    return {
        box.id: f"{who}: in {sheet.title}, the problem is X"
        for sheet in form.sheets
        for box in sheet.boxes
        if box.role == "next_steps"
    }


@pytest.fixture
def autumn(tmp_path: Path, registry: Registry) -> dict:
    """The Autumn round: Oakfield (template 1) self-evaluated, every theme judged by the
    reviewer, the report with three recommendations, two visits; Birch House (template 2)
    self-evaluated, the reviewer judging only every other theme."""
    trust = Trust(tmp_path / "workspace", registry)
    report_form = registry.latest(REPORT)
    focus = [st for sheet, st in report_form.statements() if sheet.columns][:3]
    recommended = {st.id: f"Recommendation: {st.text} next" for st in focus}
    birch_form = registry.latest(SPECIALIST)
    birch_review = dict(sample_answers(birch_form, 2).judgements)
    left = [st.id for _, st in birch_form.judged_statements()][::2]
    for sid in left:
        birch_review[sid] = None
    files = [
        trust.fill(
            trust.issue(MAINSTREAM, *OAK, judge="self-evaluation"),
            MAINSTREAM,
            texts=development(registry, MAINSTREAM, "School"),
        ),
        trust.fill(
            trust.issue(MAINSTREAM, *OAK, judge="external-reviewer"),
            MAINSTREAM,
            seed=2,
            texts=development(registry, MAINSTREAM, "Reviewer"),
            cover={"review_date": date(2026, 10, 3)},
        ),
        trust.fill(
            trust.issue(REPORT, *OAK),
            REPORT,
            texts={f"{sid}.recommendations": text for sid, text in recommended.items()},
            cover={"review_date": date(2026, 10, 20), "reviewer": "Dr Reviewer"},
        ),
        trust.fill(
            trust.issue(VISIT, *OAK),
            VISIT,
            texts={"V.actions_school": "1. An earlier visit's point"},
            cover={"review_date": date(2026, 11, 10)},
        ),
        trust.fill(
            trust.issue(VISIT, *OAK),
            VISIT,
            texts={"V.actions_school": POINTS},
            cover={"review_date": date(2026, 11, 24)},
        ),
        trust.fill(trust.issue(SPECIALIST, *BIRCH, judge="self-evaluation"), SPECIALIST),
        trust.fill(
            trust.issue(SPECIALIST, *BIRCH, judge="external-reviewer"),
            SPECIALIST,
            seed=2,
            judgements=birch_review,
            cover={"review_date": date(2026, 10, 5)},
        ),
    ]
    reports = trust.ingest(*files)
    assert [r["status"] for r in reports] == ["accepted"] * len(files), reports
    return {
        "trust": trust,
        "recommended": [(text, st.text) for st in focus for text in [recommended[st.id]]],
        "birch_left": left,
        "birch_own": sample_answers(birch_form, 1).judgements,
        "birch_review": birch_review,
    }


def spring(trust: Trust, template: str, school: tuple[str, ...], *extra: str) -> tuple[Path, str]:
    """The school's Spring workbook carried forward: its path and what the command printed."""
    trust.count += 1
    out = trust.root / "spring" / f"{trust.count}"
    urn = ["--urn", school[1]] if len(school) > 1 else []
    output = cli(
        "generate", template, "--school", school[0], *urn, "--trust", OAK[2],
        "--round", SPRING, "--carry-forward", "--workspace", str(trust.root),
        "--out", str(out), *extra,
    )  # fmt: skip
    [path] = out.glob("*.xlsx")
    return path, output


def test_the_plan_holds_recommendations_and_split_action_points_not_areas_for_development(
    autumn: dict, registry: Registry
) -> None:
    trust: Trust = autumn["trust"]
    path, output = spring(trust, MAINSTREAM, OAK)
    assert "Carrying forward 1 of 1 school" in output and "Not carried" not in output
    plan = plan_of(path)
    visit_area = "Follow-up visit, 24/11/2026"
    assert [(action, area) for _, action, area in plan.actions] == [
        *autumn["recommended"],
        *((point, visit_area) for point in SPLIT),
    ]
    assert [row_id for row_id, _, _ in plan.actions] == [f"A{n:02d}" for n in range(1, 7)]

    # the areas for development: context under the plan, the reviewer's then the school's
    form = registry.latest(MAINSTREAM)
    areas = [s.title for s in form.sheets if any(b.role == "next_steps" for b in s.boxes)]
    assert plan.heading == f"Areas for development noted in {AUTUMN} (for context: not actions)"
    assert plan.noted == [
        *((f"Reviewer: in {area}, the problem is X", area, "Reviewer") for area in areas),
        *((f"School: in {area}, the problem is X", area, "School") for area in areas),
    ]
    assert not any("the problem is X" in text for text in plan.action_texts())
    ws = load_workbook(path)[cell_layout.ACTION_SHEET]
    noted_rows = [r for r in range(1, ws.max_row + 1) if "problem is X" in str(ws.cell(r, 2).value)]
    assert all(ws.cell(r, 1).value is None and ws.cell(r, 2).protection.locked for r in noted_rows)

    # every theme judged by the reviewer: the header says so once
    book = load_workbook(path)
    sheet = next(s for s in form.sheets if s.judged)
    header = book[sheet.sheet_name].cell(cell_layout.HEADER_ROW, cell_layout.LAST_ROUND_COL)
    assert header.value == f"Last round (Reviewer, {AUTUMN})"

    # returned, the workbook's actions are exactly the plan's rows (and the school's own)
    filled = fill_workbook(
        path,
        form,
        out=trust.filled / "spring oak.xlsx",
        **vars(sample_answers(form, 3)),
        actions={
            "A01": {"owner": "SENCO", "status": "In progress"},
            "S01": {"action": "Our own action", "area": "Own"},
        },
    )
    assert trust.ingest(filled)[0]["status"] == "accepted"
    with trust.store() as store:
        [stored] = [
            r
            for r in store.returns(MAINSTREAM, school_key=school_key(OAK[0], OAK[1]))
            if r.round == SPRING
        ]
    assert [(a.id, a.action, a.area) for a in stored.actions] == [
        *plan.actions,
        ("S01", "Our own action", "Own"),
    ]


def test_the_last_round_column_says_whose_each_level_is_when_mixed(
    autumn: dict, registry: Registry
) -> None:
    path, _ = spring(autumn["trust"], SPECIALIST, BIRCH)
    form = registry.latest(SPECIALIST)
    labels = {level.code: level.label for level in form.scale}
    labels.update({level.label: level.label for level in form.scale})
    book = load_workbook(path)
    seen = set()
    for sheet in form.sheets:
        if not sheet.judged:
            continue
        ws = book[sheet.sheet_name]
        assert ws.cell(cell_layout.HEADER_ROW, cell_layout.LAST_ROUND_COL).value == (
            f"Last round ({AUTUMN})"
        )
        rows = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1)}
        for statement in sheet.statements:
            shown = ws.cell(rows[statement.id], cell_layout.LAST_ROUND_COL).value
            if statement.id in autumn["birch_left"]:
                expected = f"{labels[autumn['birch_own'][statement.id]]} (school)"
            else:
                expected = f"{labels[autumn['birch_review'][statement.id]]} (reviewer)"
            assert shown == expected, statement.id
            seen.add(expected.rsplit(" ", 1)[1])
    assert seen == {"(school)", "(reviewer)"}


def test_a_report_carries_its_cover_and_no_action_plan(autumn: dict) -> None:
    path, output = spring(autumn["trust"], REPORT, OAK)
    assert (
        "Carrying forward 1 of 1 school from an earlier round (the cover's personnel only: "
        "this form has no actions)"
    ) in output
    book = load_workbook(path)
    assert cell_layout.ACTION_SHEET not in book.sheetnames
    about = {row[0]: row[1] for row in book[cell_layout.ABOUT_SHEET].iter_rows(values_only=True)}
    assert about[cell_layout.KEY_CARRIED_FROM] == AUTUMN
    assert cell_layout.KEY_ACTION_PLAN not in about
    cover = book[cell_layout.COVER_SHEET]
    values = {row[0].value: row[2].value for row in cover.iter_rows() if row[0].value}
    assert values["reviewer"] == "Dr Reviewer"


def test_when_nothing_is_carried_the_command_says_why(autumn: dict) -> None:
    trust: Trust = autumn["trust"]
    _, output = spring(trust, MAINSTREAM, OAK, "--from-round", "Autum 2026")
    assert "Carrying forward 0 of 1 school" in output
    assert (
        f"Not carried: {OAK[0]}: no accepted return in Autum 2026 (did you mean {AUTUMN}?)"
    ) in output
    _, output = spring(trust, MAINSTREAM, OAK[:1], "--from-round", AUTUMN)
    assert "Carrying forward 0 of 1 school" in output
    assert f"Not carried: {OAK[0]}: no URN given" in output
    _, output = spring(trust, MAINSTREAM, ("Cedar Academy", "140199"))
    assert "Not carried: Cedar Academy: no accepted return from this school in any round" in output


def test_a_roster_of_schools_not_carried_names_twenty_and_counts_the_rest(autumn: dict) -> None:
    trust: Trust = autumn["trust"]
    roster = trust.root / "new-schools.csv"
    names = [f"New School {n:02d}" for n in range(1, 26)]
    roster.write_text(
        "school,urn,trust\n"
        + "".join(f"{name},{150100 + n},{OAK[2]}\n" for n, name in enumerate(names, 1)),
        encoding="utf-8",
    )
    output = cli(
        "generate", MAINSTREAM, "--roster", str(roster), "--round", SPRING, "--carry-forward",
        "--workspace", str(trust.root), "--out", str(trust.root / "spring-roster"),
    )  # fmt: skip
    assert "Carrying forward 0 of 25 schools" in output
    named = [line for line in output.splitlines() if line.startswith("  Not carried: ")]
    assert named == [
        f"  Not carried: {name}: no accepted return from this school in any round"
        for name in names[:20]
    ]
    assert "  ... and 5 more schools not carried" in output


@pytest.mark.parametrize(
    ("text", "items"),
    [
        (POINTS, SPLIT),
        ("- one\n• two\n* three\n– four", ["one", "two", "three", "four"]),
        ("a) first\nb) second\n  still second", ["first", "second still second"]),
        ("Keep going as planned.\nNo list here.", ["Keep going as planned.\nNo list here."]),
        ("Before the list\n1. one", ["Before the list", "one"]),
        # sub-numbered points, as school improvement plans number them
        (
            "1.1 Review the SEN register\n1.2 Train staff in\nprecision teaching\n2.1 Meet parents",
            ["Review the SEN register", "Train staff in precision teaching", "Meet parents"],
        ),
        # a number or a time running on is not a new point, nor a hyphen without a space
        (
            "1. Increase TA time to\n3.5 hours a week\n"
            "2. Meet at\n10.30 on Tuesdays\n-led by SENCO",
            ["Increase TA time to 3.5 hours a week", "Meet at 10.30 on Tuesdays -led by SENCO"],
        ),
        ("", []),
    ],
)
def test_action_points_split_one_per_numbered_or_bulleted_line(text: str, items: list[str]) -> None:
    assert split_points(text) == items
