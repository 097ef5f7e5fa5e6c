"""Both voices of a round: what the school wrote in its self-evaluation and what each reviewer
wrote, side by side and each labelled by its author and date.

A reviewer's return leads the round's judgements (see ``scores``), but it never hides the
school's own words: every written box (strengths, areas for development, context) of every role's
latest return of the round is shown, under who wrote it and when.
"""

from __future__ import annotations

from ..base.clock import long_date
from ..definitions.frameworks import Framework
from ..definitions.rounds import REVIEWERS, SELF, judge_label
from ..store.facade import StoredReturn
from .cells import (
    BOLD,
    WRAP,
    SummaryBook,
    SummarySheet,
    fit_row,
    landscape,
    put,
    put_written,
    set_widths,
    write_header,
    write_section,
    write_title,
)
from .scores import SchoolHistory
from .sheets import box_text, boxes_with_role

SHEET = "Both voices"


def round_voices(history: SchoolHistory, round_name: str | None = None) -> list[StoredReturn]:
    """The latest return of each role in a round (the latest round by default): the school's
    self-evaluation first, then each reviewer, most independent last (so the last is the one
    whose judgements lead, ``SchoolHistory.primary``)."""
    name = round_name or history.round_names()[-1]
    found = []
    for judge in (SELF, *reversed(REVIEWERS)):
        held = history.in_round(name, judge)
        if held:
            found.append(held[-1])
    return found


def author(stored: StoredReturn) -> str:
    """Who wrote a return, as a heading says it: "the school" or "the external reviewer"."""
    return "the school" if stored.judge == SELF else f"the {judge_label(stored.judge).lower()}"


def byline(stored: StoredReturn) -> str:
    """Who wrote a return and when: "The school's self-evaluation, 20 September 2026"."""
    if stored.judge == SELF:
        return f"The school's self-evaluation, {long_date(stored.review_date)}"
    return f"{judge_label(stored.judge)}, {long_date(stored.review_date)}"


def sources(voices: list[StoredReturn]) -> str:
    """Whose returns a sheet is drawn from: every voice of the round, never only the last."""
    each = [f"the {judge_label(v.judge).lower()} of {long_date(v.review_date)}" for v in voices]
    return f"From {' and '.join(each)}."


def box_sections(
    ws: SummarySheet,
    row: int,
    framework: Framework,
    voices: list[StoredReturn],
    role: str,
    heading: str,
) -> int:
    """One table per author of a box role ("Strengths"), each headed by who wrote it and when.

    The boxes' own label heads it when they share one (the follow-up visit's "Action points for
    the school", the review's "Areas for development"), so it says what the form asked."""
    found = boxes_with_role(framework, role)
    labels = {box.label for _, boxes in found for box in boxes}
    heading = labels.pop() if len(labels) == 1 else heading
    each = " for each area" if len(found) > 1 else ""
    for stored in voices:
        row = write_section(
            ws,
            row,
            f"{heading} recorded by {author(stored)}{each} ({long_date(stored.review_date)})",
        )
        row = write_header(ws, row, ["Area", heading])
        for sheet, boxes in found:
            text = box_text(stored, boxes)
            put(ws, row, 1, sheet.title, border=True, alignment=WRAP, font=BOLD)
            put_written(ws, row, 2, text, "(none written)", border=True)
            fit_row(ws, row, [(text, 70), (sheet.title, 26)])
            row += 1
        row += 1
    return row


def voices_sheet(book: SummaryBook, framework: Framework, voices: list[StoredReturn]) -> None:
    """Every written box of every focus area, one column per author."""
    if len(voices) < 2 or not any(sheet.boxes for sheet in framework.sheets):
        return
    ws = book.sheet(SHEET)
    school = voices[-1].school
    row = write_title(
        ws,
        f"{school}: both voices, {voices[0].round}",
        "What each of them wrote for each focus area, side by side: "
        + "; ".join(byline(stored) for stored in voices)
        + ".",
    )
    for sheet in framework.sheets:
        if not sheet.boxes:
            continue
        row = write_section(ws, row, sheet.title)
        row = write_header(ws, row, ["", *(byline(stored) for stored in voices)])
        for box in sheet.boxes:
            texts = [stored.texts.get(box.id, "").strip() for stored in voices]
            put(ws, row, 1, box.label, border=True, alignment=WRAP, font=BOLD)
            for column, text in enumerate(texts, start=2):
                put_written(ws, row, column, text, "(not written)", border=True)
            fit_row(ws, row, [(box.label, 26), *((text, 50) for text in texts)])
            row += 1
        row += 1
    set_widths(ws, [26, *([50] * len(voices))])
    landscape(ws, title_rows=True)
