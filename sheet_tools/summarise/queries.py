"""The Queries sheet: the warnings on accepted returns, as a list an administrator works through.

A warning does not stop a return ("did you mean Oak Trust?", a review date in the future, a URN
other than the one issued), so it is a query to check with the school. The same issues are in
``<file>.queries.txt`` beside the archived return; here they are gathered per trust (every school
of the trust) and per school (its own), for the round the summary shows.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..problems.render import location
from ..store.facade import StoredReturn
from .cells import (
    DATETIME_FORMAT,
    SUBTITLE,
    TOP,
    WRAP,
    SummaryBook,
    fit_row,
    freeze,
    landscape,
    put,
    set_widths,
    table_title,
    write_header,
)
from .scores import SchoolHistory

SHEET = "Queries"


def round_returns(history: SchoolHistory) -> list[StoredReturn]:
    """The returns of the school's latest round (every role and visit), oldest first: those a
    summary of that round is built from, and so whose queries matter."""
    latest = history.round_names()[-1]
    held = history.rounds[latest].values()
    return sorted(held, key=lambda r: (r.arrived_at, r.id))


def query_rows(returns: Sequence[StoredReturn]) -> list[list[object]]:
    """One row per warning: school, URN, sheet, cell, where (as ``.queries.txt`` says it), the
    query, what to check, the file and when it arrived."""
    rows: list[list[object]] = []
    for stored in returns:
        for issue in stored.warnings:
            rows.append(
                [
                    stored.school,
                    stored.urn,
                    issue.sheet or "",
                    issue.cell or "",
                    location(issue),
                    issue.message,
                    issue.advice,
                    stored.file_name,
                    stored.arrived_at,
                ]
            )
    return rows


def queries_sheet(
    book: SummaryBook, returns: Sequence[StoredReturn], *, with_school: bool, empty: str
) -> None:
    """The Queries sheet; ``with_school`` adds the school's name and URN (the trust's sheet)."""
    ws = book.sheet(SHEET)
    labels = ["Sheet", "Cell", "Where", "Query", "What to check", "File", "Received"]
    widths = [18, 8, 30, 60, 60, 30, 16]
    if with_school:
        labels, widths = ["School", "URN", *labels], [30, 9, *widths]
    top = table_title(ws, "What ingest queried in each return: accepted, but worth a check.")
    write_header(ws, top, labels)
    rows = query_rows(returns)
    for row, values in enumerate(rows, start=top + 1):
        shown = values if with_school else values[2:]
        for column, value in enumerate(shown[:-1], start=1):
            put(ws, row, column, value, border=True, alignment=WRAP)
        put(
            ws,
            row,
            len(shown),
            shown[-1],
            number_format=DATETIME_FORMAT,
            border=True,
            alignment=TOP,
        )
        fit_row(ws, row, [(str(values[5]), 60), (str(values[6]), 60)])
    if not rows:
        put(ws, top + 1, 1, empty, font=SUBTITLE)
    set_widths(ws, widths)
    freeze(ws, top + 1, 1)
    if rows:
        ws.ws.autofilter(top - 1, 0, top - 1 + len(rows), len(labels) - 1)
    landscape(ws, title_rows=top)
