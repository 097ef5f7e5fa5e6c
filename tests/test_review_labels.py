"""The Diagnostic Review's summaries say true things of the forms they show: who wrote a form
without judgements, whose words each section holds, the round a comparison is of, and template 3's
context first, in the order the seed gives it. Text is read back from the .xlsx files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from .conftest import seed_path
from .support.trust import AUTUMN, Trust, sheet_rows

MAINSTREAM = "send-review-mainstream"
REPORT, VISIT = "send-review-report", "send-review-follow-up"
OAK = ("Oakfield Primary", "140101", "Oak Trust")
SEED = "003_c94c6b23e1648e06.txt"
CONTEXT_TEXT = "Oakfield has 212 pupils; 18% have SEND and 3% an EHCP."
VISION_TEXT = "Every pupil with SEND learns in class with the right support."


def _texts(path: Path, sheet: str) -> list[str]:
    return [str(c) for row in sheet_rows(path, sheet) for c in row if c is not None]


@pytest.fixture
def summaries(trust: Trust) -> Path:
    """One school's round: self-evaluation, the reviewer's judgements, the report and a visit,
    summarised; the trust's outbox folder."""
    own = trust.issue(MAINSTREAM, *OAK, judge="self-evaluation")
    review = trust.issue(MAINSTREAM, *OAK, judge="external-reviewer")
    report = trust.issue(REPORT, *OAK)
    visit = trust.issue(VISIT, *OAK)
    focus = {"R.OU.strengths": "Outcomes rise year on year.", "R.OU.recommendations": "Keep it."}
    filled = [
        trust.fill(own, MAINSTREAM, cover={"review_date": date(2026, 9, 20)}),
        trust.fill(review, MAINSTREAM, seed=2, cover={"review_date": date(2026, 10, 3)}),
        trust.fill(
            report,
            REPORT,
            texts={"CTX.context": CONTEXT_TEXT, "R.vision": VISION_TEXT, **focus},
            cover={"review_date": date(2026, 10, 20)},
        ),
        trust.fill(
            visit,
            VISIT,
            texts={"V.actions_school": "1. Train staff.\n2. Meet parents."},
            cover={"review_date": date(2026, 12, 3)},
        ),
    ]
    assert [r["status"] for r in trust.ingest(*filled)] == ["accepted"] * 4
    trust.summarise()
    return trust.outbox / OAK[2]


def _summary(folder: Path, template: str) -> Path:
    return folder / f"{OAK[0]} ({OAK[1]}) - {template}.xlsx"


@pytest.mark.parametrize("template", [REPORT, VISIT])
def test_a_form_without_judgements_says_who_wrote_it(summaries: Path, template: str) -> None:
    overview = _texts(_summary(summaries, template), "Overview")
    subtitle = overview[1]
    assert subtitle.endswith("; written by: External reviewer."), subtitle
    assert not any("judgements by" in text.lower() for text in overview)
    assert "This form has no judgements: the external reviewer's answers are on Responses." in (
        overview
    )
    assert not any("the school's answers" in text for text in overview)


def test_the_visits_action_points_are_the_reviewers(summaries: Path) -> None:
    steps = _texts(_summary(summaries, VISIT), "Next steps")
    assert steps[1] == "From the external reviewer of 3 December 2026."
    heading = "Action points for the school recorded by the external reviewer (3 December 2026)"
    assert heading in steps
    assert "1. Train staff.\n2. Meet parents." in steps
    assert not any("recorded by the school" in text for text in steps)


def test_the_round_summary_names_each_voice_and_the_round(summaries: Path) -> None:
    path = _summary(summaries, MAINSTREAM)
    steps = _texts(path, "Next steps")
    assert steps[1] == (
        "From the self-evaluation of 20 September 2026 and the external reviewer of 3 October 2026."
    )
    # the review's boxes are its areas for development, by whoever wrote them
    assert "Areas for development recorded by the school for each area (20 September 2026)" in (
        steps
    )
    assert (
        "Areas for development recorded by the external reviewer for each area (3 October 2026)"
        in steps
    )
    assert not any(text.startswith("Next steps recorded") for text in steps)
    comparison = _texts(path, "Self-evaluation vs review")
    assert comparison[0] == f"{OAK[0]}: self-evaluation beside the review, {AUTUMN}"
    assert comparison[1].startswith(f"{AUTUMN} round: ")
    assert not any(text.startswith("Round of") for text in comparison)


def _seed_order() -> tuple[int, int, int]:
    """Where template 3's context, focus table and vision come in the seed."""
    text = seed_path(SEED).read_text(encoding="utf-8")
    start = text.index("Template 3")
    section = text[start : text.index("Template 4", start)]
    return (
        section.index("Context of the school"),
        section.index("FOCUS"),
        section.index("What is the vision"),
    )


def test_template_3_reads_in_the_seeds_order(summaries: Path, trust: Trust) -> None:
    context_at, focus_at, vision_at = _seed_order()
    assert context_at < focus_at < vision_at
    # the generated workbook: the context sheet before the focus table's
    names = load_workbook(trust.issue(REPORT, *OAK)).sheetnames
    assert names.index("Context") < names.index("Report")
    # the school's summary shows the report as the seed lays it out: context, focus, vision
    rows = sheet_rows(_summary(summaries, MAINSTREAM), "Review report")
    first = [row[0] for row in rows]
    context_row = first.index(trust.registry.latest(REPORT).sheets[0].boxes[0].label)
    focus_row = first.index("Focus area")
    vision_row = next(i for i, v in enumerate(first) if str(v).startswith("What is the vision"))
    assert context_row < focus_row < vision_row
    assert rows[context_row][1] == CONTEXT_TEXT
    assert rows[vision_row][1] == VISION_TEXT
    outcomes = rows[first.index("Outcomes")]
    assert outcomes[1] == "Outcomes rise year on year." and outcomes[3] == "Keep it."
