"""The SEND Diagnostic Review as one round: a school's self-evaluation (or the reviewer's
judgements) shown with the round's report and every follow-up visit, whatever their dates.

Forms that belong together share a ``family`` in their definitions; the report (``part =
"report"``) gives strengths, areas for development and recommendations per focus area, and each
follow-up visit (``part = "follow-up"``) its summary and action points. The school's Next steps
then lead with the report's recommendations and the latest visit's action points for the school.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..base.clock import long_date
from ..definitions.frameworks import Framework, Sheet
from ..definitions.rounds import judge_label
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

RECOMMENDATIONS = "recommendations"  # the report's column of recommendations, by id


@dataclass
class Companions:
    """A round's report and follow-up visits, beside the form being summarised."""

    round: str
    report: tuple[Framework, StoredReturn] | None = None
    visits: list[tuple[Framework, StoredReturn]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.report is not None or bool(self.visits)


def companions_of(round_name: str, others: list[tuple[Framework, SchoolHistory]]) -> Companions:
    """The report and visits of ``round_name`` among the school's other forms of the family."""
    found = Companions(round_name)
    for framework, history in others:
        if round_name not in history.rounds:
            continue
        items = sorted(
            history.rounds[round_name].values(), key=lambda r: (r.review_date, r.arrived_at, r.id)
        )
        if framework.part == "report":
            found.report = (framework, items[-1])
        elif framework.part == "follow-up":
            found.visits.extend((framework, item) for item in items)
    found.visits.sort(key=lambda pair: (pair[1].review_date, pair[1].arrived_at, pair[1].id))
    return found


def recommendations(framework: Framework, stored: StoredReturn) -> list[tuple[str, str]]:
    """(focus area, recommendation) for every focus area with one."""
    found = []
    for sheet, statement in framework.statements():
        if any(c.id == RECOMMENDATIONS for c in sheet.columns):
            text = stored.texts.get(f"{statement.id}.{RECOMMENDATIONS}", "").strip()
            if text:
                found.append((statement.text, text))
    return found


def action_points(framework: Framework, stored: StoredReturn) -> str:
    """A visit's action points for the school (its next-steps boxes)."""
    return "\n\n".join(
        text
        for _, boxes in boxes_with_role(framework, "next_steps")
        if (text := box_text(stored, boxes))
    )


def next_steps_section(ws: SummarySheet, row: int, found: Companions) -> int:
    """The report's recommendations and the latest visit's action points, first on Next steps."""
    if found.report is not None:
        framework, stored = found.report
        row = write_section(
            ws, row, f"Recommendations of the review report ({long_date(stored.review_date)})"
        )
        row = write_header(ws, row, ["Focus area", "Recommendation"])
        items = recommendations(framework, stored) or [("", "(no recommendations written)")]
        for area, text in items:
            put(ws, row, 1, area, border=True, alignment=WRAP, font=BOLD)
            put(ws, row, 2, text, border=True, alignment=WRAP)
            fit_row(ws, row, [(text, 70), (area, 26)])
            row += 1
        row += 1
    if found.visits:
        framework, stored = found.visits[-1]
        row = write_section(
            ws,
            row,
            f"Action points of the latest follow-up visit ({long_date(stored.review_date)})",
        )
        text = action_points(framework, stored) or "(no action points written)"
        put(ws, row, 1, "For the school", border=True, alignment=WRAP, font=BOLD)
        put(ws, row, 2, text, border=True, alignment=WRAP)
        fit_row(ws, row, [(text, 70)])
        row += 2
    return row


def _focus_table(ws: SummarySheet, row: int, sheet: Sheet, stored: StoredReturn) -> int:
    """A report's focus areas, one row each, with the text of each of its columns."""
    row = write_header(ws, row, ["Focus area", *(c.label for c in sheet.columns)])
    for statement in sheet.statements:
        texts = [stored.texts.get(f"{statement.id}.{c.id}", "").strip() for c in sheet.columns]
        put(ws, row, 1, statement.text, border=True, alignment=WRAP, font=BOLD)
        for offset, text in enumerate(texts, start=2):
            put(ws, row, offset, text, border=True, alignment=WRAP)
        fit_row(ws, row, [(statement.text, 30), *((text, 40) for text in texts)])
        row += 1
    return row


def report_sheet(book: SummaryBook, school: str, found: Companions) -> None:
    if found.report is None:
        return
    framework, stored = found.report
    ws = book.sheet("Review report")
    row = write_title(
        ws,
        f"{school}: review report, {found.round}",
        f"{framework.title}: the {judge_label(stored.judge).lower()}'s report of "
        f"{long_date(stored.review_date)}.",
    )
    columns = next((sheet.columns for sheet in framework.sheets if sheet.columns), ())
    # in the form's own order, as the seed gives it: the school's context, then the focus table,
    # then the vision
    for sheet in framework.sheets:
        if sheet.columns:
            row = _focus_table(ws, row, sheet, stored) + 1  # a blank row after the table
        written = 0
        for box in sheet.boxes:
            text = stored.texts.get(box.id, "").strip()
            if text:
                put(ws, row, 1, box.label, font=BOLD, alignment=WRAP)
                put(ws, row, 2, text, alignment=WRAP)
                fit_row(ws, row, [(text, 40), (box.label, 30)])
                row, written = row + 1, written + 1
        row += 1 if written else 0
    set_widths(ws, [30, *([40] * len(columns))])
    landscape(ws, title_rows=True)


def visits_sheet(book: SummaryBook, school: str, found: Companions) -> None:
    if not found.visits:
        return
    ws = book.sheet("Follow-up visits")
    row = write_title(
        ws,
        f"{school}: follow-up visits, {found.round}",
        f"Every follow-up visit of the round, earliest first ({len(found.visits)}).",
    )
    for number, (framework, stored) in enumerate(found.visits, start=1):
        row = write_section(ws, row, f"Visit {number}: {long_date(stored.review_date)}")
        who = next((stored.cover.get(f.id) for f in framework.cover if f.role == "personnel"), "")
        put(ws, row, 1, "Reviewer", font=BOLD)
        put(ws, row, 2, who or judge_label(stored.judge))
        row += 1
        for sheet in framework.sheets:
            for box in sheet.boxes:
                text = stored.texts.get(box.id, "").strip()
                put(ws, row, 1, box.label, font=BOLD, alignment=WRAP)
                put_written(ws, row, 2, text, "(not written)")
                fit_row(ws, row, [(text, 80), (box.label, 30)])
                row += 1
        row += 1
    set_widths(ws, [30, 80])
    landscape(ws, title_rows=True)
