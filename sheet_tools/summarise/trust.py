"""A trust's consolidated workbook: an Overview (see ``overview``), Area scores, a Statement heat
map, Priorities, Radar charts, Next steps, a Returns log and Provenance. A form with no judgements
gets an Overview of its returns, its text and the log."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from ..base import clock
from ..base.clock import as_utc, uk_date
from ..base.keys import school_key
from ..definitions.frameworks import NOT_APPLICABLE_CODE, NOT_APPLICABLE_LABEL, Framework
from ..definitions.roster import School
from ..definitions.rounds import judge_label
from ..store.facade import IssuedWorkbook, Rejection
from . import charts
from .actions import trust_actions_sheet
from .cells import (
    BAND_FILL,
    BOLD,
    CENTRE,
    DATE_FORMAT,
    NOT_APPLICABLE_FILL,
    SHARE_FORMAT,
    SUBTITLE,
    TOP,
    WRAP,
    SummaryBook,
    fill_style,
    fit_row,
    freeze,
    landscape,
    level_fill,
    put,
    score_cell,
    set_widths,
    table_title,
    write_header,
    write_section,
    write_title,
)
from .overview import current_round_name, overview_sheet
from .queries import queries_sheet, round_returns
from .round_rejections import counts_for, earlier_note, put_right, round_begins
from .scores import (
    NO_TRUST,
    AreaScore,
    SchoolHistory,
    area_scores,
    statement_rows,
    trust_area_means,
)
from .sheets import area_labels, box_text, boxes_with_role, provenance_sheet, responses_sheet


@dataclass(frozen=True)
class LogEntry:
    """One line of the returns log an administrator chases."""

    school: str
    urn: str | None
    status: str  # "Returned", "Outstanding" or "Rejected"
    when: datetime | None
    review_date: date | None
    judges: str
    detail: str
    round: str | None = None
    told: str = ""  # whether the school was told of the file shown: sent, queued, failed, not told


_STATUS_ORDER = {"Rejected": 0, "Outstanding": 1, "Returned": 2}
_TOLD = {"sent": "Sent", "queued": "Queued", "failed": "Failed", "not-told": "Not told"}


# A file with no message on record: stored before mail was kept, or a store rebuilt from its
# ledger (which restores returns, not what was sent).
TOLD_UNKNOWN = "Not known: no record of a message for this file"


def told_text(status: tuple[str, str] | None) -> str:
    """The Returns log's "Told" cell for a file's message (status, reason): "Sent", "Not told:
    no e-mail address on the roster"; ``TOLD_UNKNOWN`` when no message is on record."""
    if status is None:
        return TOLD_UNKNOWN
    word = _TOLD.get(status[0], status[0])
    return f"{word}: {status[1]}" if status[1] and status[0] != "sent" else word


STATUS_FILLS = {
    "Returned": fill_style("D9EAD3"),
    "Outstanding": fill_style("FFF2CC"),
    "Rejected": fill_style("F4CCCC"),
}


def returns_log(
    framework: Framework,
    members: Sequence[SchoolHistory],
    roster_schools: Sequence[School],
    rejections: Sequence[Rejection],
    *,
    round_name: str | None = None,
    issued: Sequence[IssuedWorkbook] = (),
    told: Mapping[str, tuple[str, str]] | None = None,
) -> list[LogEntry]:
    """The round's chase list (``round_name``, default: the newest returned): every school on
    the trust's roster, issued a workbook for the round, or seen in its returns or rejections,
    with its status in that round. Returned: an accepted return in the round. Rejected: its
    newest file of the round (``round_rejections.counts_for``) was turned away and no accepted
    return has put it right since. Outstanding: anything else, whatever the school did in
    earlier rounds (an earlier round's rejection not put right is noted). ``told``: by file
    sha256, the message about that file (``told_text``)."""
    told = told or {}
    round_name = round_name or current_round_name(members)
    start = round_begins(round_name, members, [i for i in issued if i.template_id == framework.id])
    by_key_rejections: dict[str, list[Rejection]] = defaultdict(list)
    for rejection in rejections:
        if rejection.template_id not in (None, framework.id) or not rejection.school:
            continue
        by_key_rejections[school_key(rejection.school, rejection.urn)].append(rejection)
    entries: dict[str, LogEntry] = {}
    names: dict[str, tuple[str, str | None]] = {
        school_key(s.name, s.urn): (s.name, s.urn) for s in roster_schools
    }
    for item in issued:
        if item.template_id == framework.id and item.round == round_name:
            names.setdefault(school_key(item.school, item.urn), (item.school, item.urn))
    for history in members:
        names.setdefault(history.school_key, (history.school, history.urn))
    for rejection_key, items in by_key_rejections.items():
        newest = max(items, key=lambda r: as_utc(r.arrived_at))
        names.setdefault(rejection_key, (newest.school or "", newest.urn))
    by_history = {h.school_key: h for h in members}
    for key, (name, urn) in names.items():
        history = by_history.get(key)
        rejected = by_key_rejections.get(key, [])
        of_round = [r for r in rejected if counts_for(r, round_name, start)]
        last_rejection = max(of_round, key=lambda r: as_utc(r.arrived_at)) if of_round else None
        righted = last_rejection is None or put_right(last_rejection, history)
        if history is not None and round_name in history.rounds:
            round_ = history.rounds[round_name]
            newest = max(round_.values(), key=lambda r: (as_utc(r.arrived_at), r.id))
            detail = ""
            if last_rejection is not None and not righted:
                detail = (
                    f"A later file ({last_rejection.file_name}) was rejected on "
                    f"{uk_date(last_rejection.arrived_at)}: {last_rejection.reason}"
                )
            entries[key] = LogEntry(
                school=history.school,
                urn=history.urn,
                status="Returned",
                when=newest.arrived_at,
                review_date=history.primary(round_name).review_date,
                judges=", ".join(judge_label(j) for j in sorted({j for j, _ in round_})),
                detail=detail,
                round=round_name,
                told=told_text(told.get(newest.sha256)),
            )
        elif last_rejection is not None and not righted:
            entries[key] = LogEntry(
                school=history.school if history else name,
                urn=history.urn if history else urn,
                status="Rejected",
                when=last_rejection.arrived_at,
                review_date=None,
                judges="",
                detail=f"{last_rejection.file_name}: {last_rejection.reason}",
                round=round_name,
                told=told_text(told.get(last_rejection.sha256)),
            )
        else:
            last = history.round_names()[-1] if history is not None else None
            notes = [f"Last returned for {last}." if last else ""]
            notes.append(earlier_note(rejected, history, round_name, start))
            entries[key] = LogEntry(
                school=history.school if history else name,
                urn=history.urn if history else urn,
                status="Outstanding",
                when=None,
                review_date=None,
                judges="",
                detail=" ".join(note for note in notes if note),
                round=round_name,
            )
    return sorted(
        entries.values(), key=lambda e: (_STATUS_ORDER[e.status], e.school.casefold(), e.urn or "")
    )


@dataclass
class TrustData:
    """Everything a trust workbook shows, computed once."""

    framework: Framework
    name: str | None
    members: list[SchoolHistory]
    log: list[LogEntry]
    scores: list[list[AreaScore]] = field(default_factory=list)
    averages: list[float | None] = field(default_factory=list)
    # actions past their due date and not Done or Dropped, across the trust's action plans; None
    # for a form whose workbooks carry no action plan
    overdue_actions: int | None = None
    # the trust's schools on the roster: the returns expected (none listed: its members)
    roster: list[School] = field(default_factory=list)
    # the day overdue is judged against (default: today), so a summary can be built as of a day
    today: date | None = None
    # the round the Overview and the Returns log are of (default: the newest returned), and the
    # schools expected to return in it (default: the roster's, else the members)
    round: str | None = None
    expected: int | None = None

    def __post_init__(self) -> None:
        self.members = sorted(self.members, key=lambda h: (h.school.casefold(), h.school_key))
        if self.framework.judged:
            self.scores = [area_scores(self.framework, h.current.judgements) for h in self.members]
            self.averages = trust_area_means(self.framework, self.scores)


def _area_scores_sheet(book: SummaryBook, data: TrustData) -> None:
    framework = data.framework
    ws = book.sheet("Area scores")
    areas = area_labels(framework)
    labels = ["School", *areas, "Review date", "Judgements by", "URN", "Round"]
    top = table_title(ws, "Each school's score in every area this round, and the trust average.")
    write_header(ws, top, labels)
    row = top + 1
    for history, scores in zip(data.members, data.scores, strict=True):
        current = history.current
        put(ws, row, 1, history.school, border=True, alignment=WRAP)
        for offset, item in enumerate(scores):
            score_cell(ws, row, 2 + offset, item.score)
        put(ws, row, 2 + len(areas), current.review_date, number_format=DATE_FORMAT, border=True)
        put(ws, row, 3 + len(areas), judge_label(current.judge), border=True)
        put(ws, row, 4 + len(areas), history.urn, border=True)
        put(ws, row, 5 + len(areas), current.round, border=True)
        row += 1
    put(ws, row, 1, "Trust average", font=BOLD, border=True, fill=BAND_FILL)
    for offset, value in enumerate(data.averages):
        score_cell(ws, row, 2 + offset, value, font=BOLD)
    scale = framework.levels
    ws.ws.conditional_format(
        top,
        1,
        row - 1,
        len(areas),
        {
            "type": "3_color_scale",
            "min_type": "num",
            "min_value": scale[0].score,
            "min_color": f"#{scale[0].colour}",
            "mid_type": "num",
            "mid_value": (scale[0].score + scale[-1].score) / 2,
            "mid_color": "#FFFFFF",
            "max_type": "num",
            "max_value": scale[-1].score,
            "max_color": f"#{scale[-1].colour}",
        },
    )
    notes = (
        "A school's area score is the mean level of its judged statements (blanks left out)."
        if not framework.not_applicable
        else "A school's area score is the mean level of its judged statements (blanks and "
        "Not applicable left out).",
        "The trust average is the mean of the schools' scores: each school weighs the same.",
        "Where a reviewer judged a school's latest round, the reviewer's judgements are used.",
    )
    for offset, note in enumerate(notes, start=2):
        put(ws, row + offset, 1, note, font=SUBTITLE)
    set_widths(ws, [34, *([16] * len(areas)), 12, 18, 9, 14])
    fit_row(ws, top, [(title, 12) for title in areas])  # bold header text runs wider
    freeze(ws, top + 1, 2)
    landscape(ws, title_rows=top)


_HEAT_WIDTH = 7  # a statement id's column: ids and level codes at 10pt, never shrunk


def _heat_map(book: SummaryBook, data: TrustData) -> None:
    """One block per area, so it prints at a readable size: the area's statement ids across,
    the schools down, and the area's statements listed in words under the block."""
    framework = data.framework
    ws = book.sheet("Statement heat map")
    row = write_title(
        ws,
        "Statement heat map",
        "Each school's latest judgement of every statement, one block per area; the "
        "statements are listed under each block.",
    )
    fills = {level.code: level_fill(level) for level in framework.scale}
    put(ws, row, 1, "Key", font=BOLD)
    keys = [
        (f"{level.code}: {level.label} ({level.score})", fills[level.code])
        for level in framework.levels
    ]
    if framework.not_applicable:
        keys.append(
            (
                f"{NOT_APPLICABLE_CODE}: {NOT_APPLICABLE_LABEL} (left out of every score)",
                NOT_APPLICABLE_FILL,
            )
        )
    for text, fill in keys:
        row += 1
        put(ws, row, 1, text, fill=fill, border=True)
    row += 2
    widest = 1
    by_area: dict[str, list] = {}
    for sheet, statement in framework.judged_statements():
        by_area.setdefault(sheet.title, []).append(statement)
    for title, statements in by_area.items():
        widest = max(widest, len(statements))
        row = write_section(ws, row, title)
        write_header(ws, row, ["School", *(statement.id for statement in statements)])
        row += 1
        for history in data.members:
            judgements = history.current.judgements
            put(ws, row, 1, history.school, border=True, alignment=WRAP)
            for offset, statement in enumerate(statements):
                value = judgements.get(statement.id)
                level = framework.level(value)
                if level is None and framework.is_not_applicable(value):
                    code, fill = NOT_APPLICABLE_CODE, NOT_APPLICABLE_FILL
                elif level is None:
                    code, fill = None, None
                else:
                    code, fill = level.code, fills[level.code]
                put(ws, row, 2 + offset, code, fill=fill, border=True, alignment=CENTRE)
            row += 1
        for statement in statements:
            put(ws, row, 1, f"{statement.id}: {statement.text}", alignment=WRAP, font=SUBTITLE)
            row += 1
        row += 1
    set_widths(ws, [_HEAT_KEY_WIDTH, *([_HEAT_WIDTH] * widest)])
    landscape(ws)


_HEAT_KEY_WIDTH = 60


def statement_priorities(data: TrustData) -> list[dict[str, object]]:
    """Statements across the trust, weakest first: lowest mean level, then the smallest share
    Secure or better, then the framework's order."""
    return statement_rows(data.framework, [h.current.judgements for h in data.members])


def _priorities_sheet(book: SummaryBook, data: TrustData) -> None:
    framework = data.framework
    ws = book.sheet("Priorities")
    scale = list(framework.scale)
    labels = [
        "Rank",
        "Area",
        "Statement",
        "ID",
        "Trust mean",
        "Schools judged",
        *(level.label for level in scale),
        *([NOT_APPLICABLE_LABEL] if framework.not_applicable else []),
        "Secure or better",
    ]
    top = table_title(ws, "Statements across the trust, weakest first (lowest trust mean).")
    write_header(ws, top, labels)
    extra = 1 if framework.not_applicable else 0
    for row, item in enumerate(statement_priorities(data), start=top + 1):
        put(ws, row, 1, row - top, border=True, alignment=CENTRE)
        put(ws, row, 2, item["area"], border=True, alignment=WRAP)
        put(ws, row, 3, item["statement"], border=True, alignment=WRAP)
        put(ws, row, 4, item["id"], border=True, alignment=CENTRE)
        score_cell(ws, row, 5, item["mean"])
        put(ws, row, 6, item["judged"], border=True, alignment=CENTRE)
        counts = item["counts"]
        assert isinstance(counts, dict)
        for offset, level in enumerate(scale):
            put(ws, row, 7 + offset, counts[level.code], border=True, alignment=CENTRE)
        if extra:
            put(ws, row, 7 + len(scale), item["not_applicable"], border=True, alignment=CENTRE)
        put(
            ws,
            row,
            7 + len(scale) + extra,
            item["share"],
            number_format=SHARE_FORMAT,
            border=True,
            alignment=CENTRE,
        )
        fit_row(ws, row, [(str(item["statement"]), 70), (str(item["area"]), 26)])
    set_widths(ws, [6, 26, 70, 8, 10, 10, *([11] * (len(scale) + extra)), 11])
    freeze(ws, top + 1, 1)
    landscape(ws, title_rows=top)


_CHARTS_PER_ROW = 2


_CHART_ROWS = 22


_CHART_COLUMNS = (1, 4)  # A and D


# rows of 15pt on a landscape A4 page inside its margins (516pt), less a row's slack for the
# table's taller title and header rows
_PAGE_ROWS = 32


def _radar_sheet(book: SummaryBook, data: TrustData) -> None:
    """The trust average beside each school: a table (schools as rows, like Area scores), then
    one chart per school, two to a printed page."""
    framework = data.framework
    ws = book.sheet("Radar charts")
    areas = area_labels(framework)
    head = table_title(
        ws,
        "Each school's area scores beside the trust average: the table, then a chart per school.",
    )
    # the charts' axis labels are these cells: broken into lines here, since a chart's labels
    # are never wrapped by XlsxWriter and LibreOffice clips a long one
    write_header(ws, head, ["School", *(charts.label_lines(area) for area in areas)])
    average_row = head + 1
    put(ws, average_row, 1, "Trust average", font=BOLD, border=True, fill=BAND_FILL)
    for offset, value in enumerate(data.averages):
        score_cell(ws, average_row, 2 + offset, value, font=BOLD)
    for index, (history, scores) in enumerate(zip(data.members, data.scores, strict=True)):
        row = average_row + 1 + index
        put(ws, row, 1, history.school, border=True)
        for offset, item in enumerate(scores):
            score_cell(ws, row, 2 + offset, item.score)
    last_column = 1 + len(areas)
    categories = charts.cells(ws.title, head, 2, head, last_column)
    top = average_row + 2 + len(data.members)
    # the first row of charts shares the table's page when both fit on it, so that page is
    # never the table alone; each later row of charts starts a page
    first_alone = top + _CHART_ROWS > _PAGE_ROWS
    breaks = []
    for index, history in enumerate(data.members):
        row = top + (index // _CHARTS_PER_ROW) * _CHART_ROWS
        if index % _CHARTS_PER_ROW == 0 and (index or first_alone):
            breaks.append(row - 1)
        school_row = average_row + 1 + index
        charts.native_radar(
            book.book,
            ws.ws,
            categories=categories,
            series=[
                (
                    charts.cells(ws.title, school_row, 1),
                    charts.cells(ws.title, school_row, 2, school_row, last_column),
                ),
                (
                    charts.cells(ws.title, average_row, 1),
                    charts.cells(ws.title, average_row, 2, average_row, last_column),
                ),
            ],
            scale=framework.scale,
            anchor=(row, _CHART_COLUMNS[index % _CHARTS_PER_ROW]),
            title=history.school,
            width_cm=13.5,
            height_cm=10.5,
        )
    if breaks:
        ws.ws.set_h_pagebreaks(breaks)
    set_widths(ws, [34, *([16] * len(areas))])
    landscape(ws)


def _collated_next_steps(book: SummaryBook, data: TrustData) -> None:
    framework = data.framework
    ws = book.sheet("Next steps")
    top = table_title(ws, "The next steps each school wrote, area by area.")
    write_header(ws, top, ["Area", "School", "Next steps"])
    row = top + 1
    for sheet, boxes in boxes_with_role(framework, "next_steps"):
        for history in data.members:
            text = box_text(history.current, boxes)
            if not text:
                continue
            put(ws, row, 1, sheet.title, border=True, alignment=WRAP)
            put(ws, row, 2, history.school, border=True, alignment=WRAP)
            put(ws, row, 3, text, border=True, alignment=WRAP)
            fit_row(ws, row, [(text, 90), (history.school, 28), (sheet.title, 28)])
            row += 1
    if row == top + 1:
        put(ws, row, 1, "No school has written next steps yet.", font=SUBTITLE)
    set_widths(ws, [28, 30, 90])
    freeze(ws, top + 1, 1)
    landscape(ws, title_rows=top)


def _returns_log_sheet(book: SummaryBook, data: TrustData) -> None:
    ws = book.sheet("Returns log")
    labels = ["School", "URN", "Status", "Date", "Review date", "Judgements by", "Detail", "Round"]
    labels.append("Told")
    top = table_title(
        ws, "Every school expected this round: returned, outstanding or rejected, and whether it "
        "was told."
    )  # fmt: skip
    write_header(ws, top, labels)
    fills = STATUS_FILLS
    for row, entry in enumerate(data.log, start=top + 1):
        put(ws, row, 1, entry.school, border=True, alignment=WRAP)
        put(ws, row, 2, entry.urn, border=True, alignment=TOP)
        put(
            ws,
            row,
            3,
            entry.status,
            border=True,
            fill=fills[entry.status],
            font=BOLD,
            alignment=TOP,
        )
        put(ws, row, 4, entry.when, number_format=DATE_FORMAT, border=True, alignment=TOP)
        put(ws, row, 5, entry.review_date, number_format=DATE_FORMAT, border=True, alignment=TOP)
        put(ws, row, 6, entry.judges, border=True, alignment=WRAP)
        put(ws, row, 7, entry.detail, border=True, alignment=WRAP)
        put(ws, row, 8, entry.round, border=True, alignment=TOP)
        put(ws, row, 9, entry.told, border=True, alignment=WRAP)
        fit_row(ws, row, [(entry.detail, 70)])
    counts = {status: sum(1 for e in data.log if e.status == status) for status in _STATUS_ORDER}
    row = top + len(data.log) + 2
    put(
        ws,
        row,
        1,
        f"{counts['Returned']} returned, {counts['Outstanding']} outstanding, "
        f"{counts['Rejected']} rejected.",
        font=BOLD,
    )
    set_widths(ws, [34, 9, 13, 12, 12, 30, 70, 14, 30])
    freeze(ws, top + 1, 1)
    ws.ws.autofilter(top - 1, 0, top - 1 + len(data.log), 8)
    landscape(ws, title_rows=top)


def build_trust_workbook(data: TrustData) -> bytes:
    """A trust's consolidated workbook of one framework, as .xlsx bytes."""
    framework = data.framework
    round_name = data.round or current_round_name(data.members)
    book = SummaryBook(f"{data.name or NO_TRUST}" + (f", {round_name} round" if round_name else ""))
    overview_sheet(
        book,
        framework,
        data.name or NO_TRUST,
        data.members,
        data.roster,
        data.overdue_actions,
        current_round=data.round,
        expected=data.expected,
    )
    if framework.judged and data.members:
        _area_scores_sheet(book, data)
        _heat_map(book, data)
        _priorities_sheet(book, data)
        _radar_sheet(book, data)
    if boxes_with_role(framework, "next_steps"):
        _collated_next_steps(book, data)
    trust_actions_sheet(book, data.members, data.today or clock.today())
    if not framework.judged:
        responses_sheet(book, framework, [h.current for h in data.members], with_school=True)
    _returns_log_sheet(book, data)
    queried = [r for h in data.members for r in round_returns(h)]
    queries_sheet(book, queried, with_school=True, empty="No return has a query to check.")
    provenance_sheet(book, [(h.current, "Trust roll-up (latest round)") for h in data.members])
    return book.to_bytes(f"{data.name or NO_TRUST}: {framework.short_title}")
