"""Action plans in summaries: a school's Action plan sheet and a trust's Actions sheet.

A carried-forward workbook's action plan comes back with the school's return. Counts by status
take a blank status as "Not started" (nobody has said otherwise); an action is overdue when its
due date has passed and it is neither Done nor Dropped. "Today" is a parameter, so a summary (and
a test) can be built as of any day.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from ..base.clock import long_date
from ..definitions.carried import ACTION_STATUSES, Action
from ..definitions.rounds import REVIEWERS, SELF
from ..store.facade import StoredReturn
from .cells import (
    BOLD,
    DATE_FORMAT,
    FLAG_FILL,
    SUBTITLE,
    TOP,
    WRAP,
    SummaryBook,
    fit_row,
    freeze,
    landscape,
    put,
    set_widths,
    write_header,
    write_section,
    write_title,
)
from .scores import SchoolHistory


def plan_of(history: SchoolHistory) -> StoredReturn | None:
    """The latest round's return carrying an action plan: the school's own, else a reviewer's."""
    name = history.round_names()[-1]
    for judge in (SELF, *REVIEWERS):
        found = history.in_round(name, judge)
        if found and found[-1].actions is not None:
            return found[-1]
    return None


def status_of(action: Action) -> str:
    return action.status or ACTION_STATUSES[0]


def status_counts(actions: Sequence[Action]) -> dict[str, int]:
    """Actions per status, every status listed (a blank status counts as Not started)."""
    counts = dict.fromkeys(ACTION_STATUSES, 0)
    for action in actions:
        counts[status_of(action)] += 1
    return counts


def overdue(actions: Sequence[Action], today: date) -> list[Action]:
    return [action for action in actions if action.overdue(today)]


def overdue_count(members: Sequence[SchoolHistory], today: date) -> int | None:
    """A trust's overdue actions; None when no school's latest round has an action plan."""
    plans = [found for history in members if (found := plan_of(history)) is not None]
    if not plans:
        return None
    return sum(len(overdue(stored.actions or [], today)) for stored in plans)


_COLUMNS = ["ID", "Action", "Area", "Owner", "Due date", "Status", "Progress note", "Overdue"]


def school_action_plan(book: SummaryBook, stored: StoredReturn, today: date) -> None:
    """Every action of the school's plan, with how many stand at each status."""
    actions = stored.actions or []
    ws = book.sheet("Action plan")
    row = write_title(
        ws,
        f"{stored.school}: action plan",
        f"As returned on {long_date(stored.review_date)}; overdue as of {long_date(today)}.",
    )
    counts = status_counts(actions)
    late = overdue(actions, today)
    row = write_header(ws, row, [*ACTION_STATUSES, "Overdue", "Total"])
    for column, value in enumerate([*counts.values(), len(late), len(actions)], start=1):
        put(ws, row, column, value, border=True, alignment=TOP)
    row += 2
    row = write_header(ws, row, _COLUMNS)
    for action in actions:
        late_one = action.overdue(today)
        put(ws, row, 1, action.id, border=True, alignment=TOP)
        put(ws, row, 2, action.action, border=True, alignment=WRAP)
        put(ws, row, 3, action.area, border=True, alignment=WRAP)
        put(ws, row, 4, action.owner, border=True, alignment=WRAP)
        put(ws, row, 5, action.due, number_format=DATE_FORMAT, border=True, alignment=TOP)
        put(ws, row, 6, status_of(action), border=True, alignment=TOP, font=BOLD)
        put(ws, row, 7, action.note, border=True, alignment=WRAP)
        put(
            ws,
            row,
            8,
            "Overdue" if late_one else "",
            border=True,
            alignment=TOP,
            fill=FLAG_FILL if late_one else None,
        )
        fit_row(ws, row, [(action.action, 60), (action.note, 40), (action.area, 24)])
        row += 1
    if not actions:
        put(ws, row, 1, "The action plan has no actions.", font=SUBTITLE)
    set_widths(ws, [12, 60, 24, 18, 12, 13, 40, 10])
    landscape(ws, title_rows=True)


def trust_actions_sheet(
    book: SummaryBook, members: Sequence[SchoolHistory], today: date
) -> int | None:
    """Each school's actions by status, then every overdue action; returns the overdue count
    (None, and no sheet, when no school's latest round has an action plan)."""
    plans = [(h, found) for h in members if (found := plan_of(h)) is not None]
    if not plans:
        return None
    ws = book.sheet("Actions")
    row = write_title(
        ws,
        "Action plans",
        f"Each school's latest action plan; overdue (due before {long_date(today)} and not Done "
        "or Dropped) listed below. A blank status counts as Not started.",
    )
    row = write_header(ws, row, ["School", "URN", *ACTION_STATUSES, "Total", "Overdue"])
    late: list[tuple[SchoolHistory, Action]] = []
    for history, stored in plans:
        actions = stored.actions or []
        counts = status_counts(actions)
        school_late = overdue(actions, today)
        late += [(history, action) for action in school_late]
        put(ws, row, 1, history.school, border=True, alignment=WRAP)
        put(ws, row, 2, history.urn, border=True, alignment=TOP)
        values = [*counts.values(), len(actions), len(school_late)]
        for column, value in enumerate(values, start=3):
            put(ws, row, column, value, border=True, alignment=TOP)
        row += 1
    row += 1
    row = write_section(ws, row, f"Overdue actions ({len(late)})")
    labels = ["School", "Action", "Area", "Owner", "Due date", "Status", "Days overdue", "Note"]
    row = write_header(ws, row, labels)
    late.sort(key=lambda pair: (pair[1].due or today, pair[0].school.casefold(), pair[1].id))
    for history, action in late:
        assert action.due is not None
        put(ws, row, 1, history.school, border=True, alignment=WRAP)
        put(ws, row, 2, action.action, border=True, alignment=WRAP)
        put(ws, row, 3, action.area, border=True, alignment=WRAP)
        put(ws, row, 4, action.owner, border=True, alignment=WRAP)
        put(ws, row, 5, action.due, number_format=DATE_FORMAT, border=True, alignment=TOP)
        put(ws, row, 6, status_of(action), border=True, alignment=TOP)
        put(ws, row, 7, (today - action.due).days, border=True, alignment=TOP)
        put(ws, row, 8, action.note, border=True, alignment=WRAP)
        fit_row(ws, row, [(action.action, 50), (action.note, 36)])
        row += 1
    if not late:
        put(ws, row, 1, "No action is overdue.", font=SUBTITLE)
    set_widths(ws, [30, 50, 22, 18, 12, 13, 12, 36])
    freeze(ws, 5, 1)
    landscape(ws, title_rows=True)
    return len(late)
