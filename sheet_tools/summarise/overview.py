"""The trust workbook's first sheet, which a trust leader reads in a minute: how many schools have
returned this round, the trust's area scores beside the previous round's, the levels per area,
the five weakest statements and, where the form has an action plan, the actions overdue.

"This round" is the trust's current round: the one the workspace names (``[rounds] current``),
else the newest with a workbook issued or returned. Only the schools that returned in it count
towards its scores and levels (a school whose latest return is from an earlier round is not this
round's picture). The previous round, the one before it, is compared like for like: over the
schools that returned in both, and the Overview says how many those are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from ..definitions.frameworks import NOT_APPLICABLE_LABEL, Framework
from ..definitions.roster import School
from ..definitions.rounds import round_order
from ..store.facade import StoredReturn
from . import charts
from .cells import (
    BOLD,
    CENTRE,
    SUBTITLE,
    WRAP,
    SummaryBook,
    SummarySheet,
    fit_row,
    landscape,
    put,
    score_cell,
    set_widths,
    write_header,
    write_section,
    write_title,
)
from .scores import SchoolHistory, area_scores, statement_rows, trust_area_means
from .sheets import area_labels

WEAKEST = 5
_COUNT_WIDTH = 11
_MIN_COLUMNS = 9  # count-wide columns B onwards, wide enough for the charts beside the tables
_CHART_ROWS = 23


@dataclass(frozen=True)
class TrustRound:
    """One round across a trust: its name and each school's return that counts in it."""

    name: str
    returns: list[StoredReturn]


def trust_rounds(members: Sequence[SchoolHistory]) -> list[TrustRound]:
    """The rounds of the trust's schools, oldest first (``rounds.round_order``: by term, else by
    the round's earliest review date across the trust), each with the schools that returned."""
    earliest: dict[str, date] = {}
    for history in members:
        for name, held in history.rounds.items():
            first = min(r.review_date for r in held.values())
            earliest[name] = min(first, earliest.get(name, first))
    names = sorted(earliest, key=lambda name: round_order(name, earliest[name]))
    return [
        TrustRound(name, [h.primary(name) for h in members if name in h.rounds]) for name in names
    ]


def current_round_name(
    members: Sequence[SchoolHistory], issued: Iterable[tuple[str, date]] = ()
) -> str | None:
    """The newest round (``rounds.round_order``) with a workbook issued (round, day issued) or
    returned; None when there is neither."""
    earliest = round_starts(members, issued)
    return max(earliest, key=lambda name: round_order(name, earliest[name]), default=None)


def round_starts(
    members: Iterable[SchoolHistory], issued: Iterable[tuple[str, date]] = ()
) -> dict[str, date]:
    """Each round's earliest day, of a workbook issued (round, day issued) or a review returned:
    what a round not named after a term is ordered by (``rounds.round_order``)."""
    earliest: dict[str, date] = {}
    for history in members:
        for round_name, held in history.rounds.items():
            first = min(r.review_date for r in held.values())
            earliest[round_name] = min(first, earliest.get(round_name, first))
    for round_name, day in issued:
        earliest[round_name] = min(day, earliest.get(round_name, day))
    return earliest


ScoreColumn = tuple[str, list[StoredReturn]]


def like_for_like(
    current: TrustRound, previous: TrustRound | None
) -> tuple[list[ScoreColumn], int]:
    """The score columns: this round's schools, then the previous round over the schools that
    returned in both (and this round over them too, when some returned only now); and how many
    schools returned in both."""
    columns: list[ScoreColumn] = [(current.name, current.returns)]
    before = {r.school_key: r for r in previous.returns} if previous else {}
    both = [r for r in current.returns if r.school_key in before]
    if previous is None or not both:
        return columns, 0
    earlier = [before[r.school_key] for r in both]
    if len(both) == len(current.returns):
        return [*columns, (previous.name, earlier)], len(both)
    return [
        *columns,
        (f"{current.name} (both rounds)", both),
        (f"{previous.name} (both rounds)", earlier),
    ], len(both)


def _returns_section(
    ws: SummarySheet,
    row: int,
    current: TrustRound | None,
    previous: TrustRound | None,
    expected: int,
    overdue_actions: int | None,
) -> int:
    received = len(current.returns) if current else 0
    heading = f"Returns received ({current.name})" if current else "Returns received"
    put(ws, row, 1, heading, font=BOLD, border=True)
    put(ws, row, 2, received, border=True, alignment=CENTRE, font=BOLD)
    put(ws, row + 1, 1, "Returns expected", font=BOLD, border=True)
    put(ws, row + 1, 2, expected, border=True, alignment=CENTRE)
    put(ws, row, 3, f"{received} of {expected} schools have returned.", font=SUBTITLE)
    if current is not None and previous is not None:
        both = like_for_like(current, previous)[1]
        put(
            ws,
            row + 1,
            3,
            f"{both} {'school' if both == 1 else 'schools'} returned in both rounds; "
            f"{received} of {expected} this round.",
            font=SUBTITLE,
        )
    row += 2
    if overdue_actions is not None:
        put(ws, row, 1, "Overdue actions", font=BOLD, border=True)
        put(ws, row, 2, overdue_actions, border=True, alignment=CENTRE)
        put(ws, row, 3, "past their due date and not Done or Dropped.", font=SUBTITLE)
        row += 1
    return row + 1


def _area_table(
    ws: SummarySheet,
    row: int,
    framework: Framework,
    current: TrustRound,
    previous: TrustRound | None,
) -> tuple[int, int, int, int]:
    """Area | this round | the previous round like for like | a count per level | Not
    applicable | Not judged. Returns (header row, last area row, first count column, the score
    columns)."""
    rounds = like_for_like(current, previous)[0]
    extra = [NOT_APPLICABLE_LABEL] if framework.not_applicable else []
    levels = [level.label for level in framework.levels]
    header_row = row
    labels = ["Area", *(label for label, _ in rounds), *levels, *extra, "Not judged"]
    row = write_header(ws, row, labels)
    fit_row(ws, header_row, [(label, _COUNT_WIDTH - 3) for label in labels[1:]])  # bold wraps
    means = [
        trust_area_means(framework, [area_scores(framework, r.judgements) for r in returns])
        for _, returns in rounds
    ]
    per_school = [area_scores(framework, r.judgements) for r in current.returns]
    first_count = 2 + len(rounds)
    for index, title in enumerate(area_labels(framework)):
        put(ws, row, 1, title, border=True, alignment=WRAP)
        for offset, values in enumerate(means):
            score_cell(ws, row, 2 + offset, values[index])
        items = [scores[index] for scores in per_school]
        counts = [sum(item.counts[level.code] for item in items) for level in framework.levels]
        if extra:
            counts.append(sum(item.not_applicable for item in items))
        counts.append(sum(item.not_judged for item in items))
        for offset, count in enumerate(counts):
            put(ws, row, first_count + offset, count, border=True, alignment=CENTRE)
        fit_row(ws, row, [(title, 40)])
        row += 1
    return header_row, row - 1, first_count, len(rounds)


def _charts(
    book: SummaryBook,
    ws: SummarySheet,
    row: int,
    framework: Framework,
    table: tuple[int, int, int, int],
    categories: list,
) -> None:
    header_row, last, first_count, score_columns = table
    charts.native_radar(
        book.book,
        ws.ws,
        categories=categories,
        series=[
            charts.column_series(ws.title, 2 + offset, header_row, last)
            for offset in range(score_columns)
        ],
        scale=framework.scale,
        anchor=(row, 1),
        title="Trust area scores by round",
        width_cm=13.5,
        height_cm=11.0,
    )
    # Only the levels: the bars are the shares of the statements judged at a level, as the
    # scores are; Not applicable and Not judged are counted in the table above.
    charts.native_level_bars(
        book.book,
        ws.ws,
        categories=categories,
        series=[
            (*charts.column_series(ws.title, first_count + offset, header_row, last), level)
            for offset, level in enumerate(framework.levels)
        ],
        anchor=(row, 5),
        title="Levels per area, this round",
        width_cm=17.0,
        height_cm=11.0,
    )


def _weakest(ws: SummarySheet, row: int, framework: Framework, current: TrustRound) -> int:
    found = statement_rows(framework, [r.judgements for r in current.returns], by_share=False)
    weakest = [item for item in found if item["mean"] is not None][:WEAKEST]
    row = write_section(ws, row, "The five weakest statements across the trust")
    put(
        ws,
        row,
        1,
        "Lowest mean level this round first; statements of equal mean in the framework's order.",
        font=SUBTITLE,
    )
    # no merged cells (the GSS checklist): the statement wraps in the wide first column
    labels = ["Statement", "Trust mean", "Schools judged", "ID", "Area"]
    row = write_header(ws, row + 1, labels)
    fit_row(ws, row - 1, [("Schools judged", _COUNT_WIDTH - 3)])
    for item in weakest:
        area, text = str(item["area"]), str(item["statement"])
        put(ws, row, 1, text, border=True, alignment=WRAP)
        score_cell(ws, row, 2, item["mean"])  # type: ignore[arg-type]
        put(ws, row, 3, item["judged"], border=True, alignment=CENTRE)
        put(ws, row, 4, item["id"], border=True, alignment=CENTRE)
        put(ws, row, 5, area, border=True, alignment=WRAP)
        row += 1
    if not weakest:
        put(ws, row, 1, "No statement has been judged at a level this round.", font=SUBTITLE)
        row += 1
    return row


def overview_sheet(
    book: SummaryBook,
    framework: Framework,
    name: str,
    members: Sequence[SchoolHistory],
    roster: Sequence[School],
    overdue_actions: int | None,
    *,
    current_round: str | None = None,
    expected: int | None = None,
) -> None:
    """The trust's Overview, on one landscape page, of ``current_round`` (default: the newest
    returned). Expected returns (default): the trust's schools on the roster, else the schools
    that have returned at some time."""
    ws = book.sheet("Overview")
    rounds = trust_rounds(members)
    names = [r.name for r in rounds]
    wanted = current_round or (names[-1] if names else None)
    current = previous = None
    if wanted in names:
        at = names.index(wanted)
        current, previous = rounds[at], rounds[at - 1] if at else None
    elif wanted is not None:
        current = TrustRound(wanted, [])
    subtitle = (
        f"{current.name} round"
        + (
            f", beside the {previous.name} round over the schools that returned in both"
            if previous
            else ""
        )
        if current
        else "No school has returned yet"
    )
    row = write_title(ws, f"{name}: {framework.short_title}", f"{framework.title}. {subtitle}.")
    row = write_section(ws, row, "Returns")
    if expected is None:
        expected = len(roster) if roster else len(members)
    row = _returns_section(ws, row, current, previous, expected, overdue_actions)
    labels_row = 0
    if framework.judged and current is not None and current.returns:
        row = write_section(ws, row, "Area scores and levels this round")
        put(
            ws,
            row,
            1,
            "A score is the mean level of the judged statements; the trust's is the mean of its "
            "schools' scores. Counts are statements across the schools that returned this round; "
            "the previous round is scored over the schools that returned in both.",
            font=SUBTITLE,
        )
        table = _area_table(ws, row + 1, framework, current, previous)
        # the charts' labels are the areas broken into lines, at the foot of the sheet and
        # not printed: the table keeps them whole
        charts_row = table[1] + 2
        labels_row = _weakest(ws, charts_row + _CHART_ROWS, framework, current) + 1
        categories = charts.axis_labels(ws, labels_row, area_labels(framework))[0]
        _charts(book, ws, charts_row, framework, table, categories)
    scored = len(like_for_like(current, previous)[0]) if current else 1
    columns = 1 + scored + len(framework.levels) + 2
    widths = [40, *([_COUNT_WIDTH] * max(columns - 1, _MIN_COLUMNS))]
    set_widths(ws, widths)
    landscape(ws, one_page=True)
    if labels_row:
        charts.print_above(ws, labels_row, len(widths))
