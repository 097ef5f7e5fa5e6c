"""The Diagnostic Review's six stages, school by school: the first sheet of a family's trust
workbook, so a trust sees where each school is in the process.

The stages are identification (the workbooks issued), self-evaluation (the school's own return
of its review form), preparation (outside the workbooks: a column the administrator fills by
hand, read back from the file being replaced and kept in the store: see ``preparation``), the
school visit (the reviewer's judgements), the report, and the follow-up visits. A school is only
ever shown against the review form it takes (the roster's ``frameworks``, else the register's
type).
"""

from __future__ import annotations

import logging
import zipfile
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from openpyxl import load_workbook

from ..base.clock import uk_date
from ..base.keys import name_key, school_key
from ..definitions.frameworks import Framework
from ..definitions.roster import School
from ..definitions.rounds import REVIEWERS, SELF, round_order
from ..store.facade import IssuedWorkbook, StoredReturn
from ..store.preparation import same_note
from .cells import (
    BOLD,
    DATE_FORMAT,
    SUBTITLE,
    TOP,
    WRAP,
    SummaryBook,
    fill_style,
    fit_row,
    freeze,
    landscape,
    put,
    set_widths,
    table_title,
    write_header,
)
from .overview import round_starts
from .scores import SchoolHistory

logger = logging.getLogger("sheet_tools.summarise")

STAGES_SHEET = "Stages"
PREPARATION = "Preparation"
LABELS = [
    "School",
    "URN",
    "Review form",
    "Round",
    "Identification",
    "Self-evaluation",
    PREPARATION,
    "School visit",
    "Report",
    "Follow-up visits",
    "Next",
]
_PREPARATION_COLUMN = LABELS.index(PREPARATION) + 1
# Each row's note as the sheet was written, in a hidden column past the printed table: on read
# back only a cell that differs from it is an edit, so a stale row (a school since moved to
# another trust's workbook, not yet redrawn here) never overwrites a newer note.
AS_WRITTEN = "Preparation as written"
_AS_WRITTEN_COLUMN = len(LABELS) + 1
_HAND_FILL = fill_style("FFFFFF")

# What is outstanding next, in the order of the process.
NEXT_SELF = "Self-evaluation"
NEXT_VISIT = "Reviewer's visit"
NEXT_REPORT = "Report"
NEXT_FOLLOW_UP = "Follow-up visit"
NEXT_FURTHER = "Further follow-up visit, if planned"

# A workbook larger than this is not one sheet-tools wrote: it is not read back but kept aside.
_MAX_FILE_BYTES = 20 * 1024 * 1024
_MAX_INFLATED_BYTES = 50 * 1024 * 1024
_MAX_ROWS = 50_000

Kept = dict[tuple[str, str], object]


@dataclass
class StageRow:
    """One school's round of the review: the date each stage happened, None while it has not."""

    school: str
    urn: str | None
    forms: list[str]
    round: str
    identification: date | None = None
    self_evaluation: date | None = None
    visit: date | None = None
    report: date | None = None
    follow_ups: list[date] = field(default_factory=list)

    @property
    def held_as(self) -> tuple[str, str]:
        return (school_key(self.school, self.urn), self.round)

    @property
    def follow_up_text(self) -> str:
        """ "2: 03/12/2026, 05/12/2026"; empty before the first visit."""
        if not self.follow_ups:
            return ""
        return f"{len(self.follow_ups)}: " + ", ".join(uk_date(d) for d in self.follow_ups)

    @property
    def next(self) -> str:
        if self.self_evaluation is None:
            return NEXT_SELF
        if self.visit is None:
            return NEXT_VISIT
        if self.report is None:
            return NEXT_REPORT
        return NEXT_FURTHER if self.follow_ups else NEXT_FOLLOW_UP


def _latest_day(returns: Sequence[StoredReturn]) -> date | None:
    return max(returns, key=lambda r: r.id).review_date if returns else None


def _listed_by_name(roster: Sequence[School]) -> dict[str, str]:
    """By name key, the key of the roster school with a URN that alone has that name
    (``unique_names``): a school issued a workbook before the roster had its URN is still the
    one school."""
    unique = unique_names(roster)
    return {
        name_key(school.name): school_key(school.name, school.urn)
        for school in roster
        if school.urn and name_key(school.name) in unique
    }


def unique_names(roster: Iterable[School]) -> frozenset[str]:
    """The name keys exactly one roster school has (with a URN or without): only such a name
    may stand for the school, since notes are kept for every trust at once."""
    counts: dict[str, int] = defaultdict(int)
    for school in roster:
        counts[name_key(school.name)] += 1
    return frozenset(key for key, count in counts.items() if count == 1)


def stage_rows(
    forms: Sequence[Framework],
    members: dict[str, list[SchoolHistory]],
    roster: Sequence[School],
    issued: Sequence[IssuedWorkbook],
    current_round: str | None,
) -> list[StageRow]:
    """A row per school and round: every round a school has a return or a workbook issued in,
    and the current round for each roster school taking one of the family's review forms."""
    reviews = [f.id for f in forms if f.part == "review"]
    by_id = {f.id: f for f in forms}
    names: dict[str, tuple[str, str | None]] = {}
    takes: dict[str, list[str]] = {}
    rounds: dict[str, set[str]] = defaultdict(set)
    listed = _listed_by_name(roster)

    def key_of(name: str, urn: str | None) -> str:
        """A school's key, its roster URN's where it was issued or returned without one."""
        key = school_key(name, urn)
        return key if urn else listed.get(key, key)

    for school in roster:
        key = school_key(school.name, school.urn)
        its_forms = [t for t in reviews if school.takes(t)]
        if its_forms or any(school.takes(f.id) for f in forms):
            names[key] = (school.name, school.urn)
            takes[key] = its_forms
            if current_round:
                rounds[key].add(current_round)
    by_school: dict[str, dict[str, SchoolHistory]] = defaultdict(dict)
    for template_id, histories in members.items():
        for history in histories:
            key = key_of(history.school, history.urn)
            by_school[key][template_id] = history
            names.setdefault(key, (history.school, history.urn))
            rounds[key].update(history.rounds)
    sent: dict[tuple[str, str], list[IssuedWorkbook]] = defaultdict(list)
    for item in issued:
        key = key_of(item.school, item.urn)
        names.setdefault(key, (item.school, item.urn))
        rounds[key].add(item.round)
        sent[(key, item.round)].append(item)
    # rounds not named after a term go by their first day, issued or reviewed
    everyone = (h for histories in members.values() for h in histories)
    earliest = round_starts(everyone, ((i.round, i.issued_at.date()) for i in issued))
    rows = []
    for key, (name, urn) in names.items():
        held = by_school.get(key, {})
        returned = [t for t in reviews if t in held]
        issued_forms = [i.template_id for r in rounds[key] for i in sent.get((key, r), [])]
        its_forms = returned or takes.get(key) or [t for t in reviews if t in issued_forms]
        for round_name in rounds[key]:
            row = StageRow(name, urn, [by_id[t].short_title for t in its_forms], round_name)
            items = sent.get((key, round_name), [])
            row.identification = min((i.issued_at.date() for i in items), default=None)
            own: list[StoredReturn] = []
            theirs: list[StoredReturn] = []
            for template_id in reviews:
                if template_id in held:
                    own += held[template_id].in_round(round_name, SELF)
                    for judge in REVIEWERS:
                        theirs += held[template_id].in_round(round_name, judge)
            row.self_evaluation = _latest_day(own)
            row.visit = _latest_day(theirs)
            for framework in forms:
                history = held.get(framework.id)
                if history is None or round_name not in history.rounds:
                    continue
                found = list(history.rounds[round_name].values())
                if framework.part == "report":
                    row.report = _latest_day(found)
                elif framework.part == "follow-up":
                    row.follow_ups = sorted({r.review_date for r in found})
            rows.append(row)
    return sorted(
        rows,
        key=lambda r: (
            r.school.casefold(),
            r.urn or "",
            round_order(r.round, earliest.get(r.round)),
        ),
    )


def _cell_text(value: object) -> str:
    return "" if value is None else str(value).strip()


@dataclass
class ReadBack:
    """A trust workbook's Preparation column as read back: each school's row in it whose cell was
    edited since the sheet was written (every row, in a workbook written before the hidden
    "as written" column), by (school key, round), as (its name key, what is typed or None when
    empty). ``locked``: the file could
    not be opened (open in Excel on Windows); ``damaged``: why it is not a workbook sheet-tools
    can read (what is typed in it is then only in that file, so it is kept aside)."""

    rows: dict[tuple[str, str], tuple[str, object]] = field(default_factory=dict)
    locked: bool = False
    damaged: str | None = None


def read_preparation(path: Path) -> ReadBack:
    """The Preparation cells of the Stages sheet of the file about to be replaced. Read-only,
    bounded and best-effort: reading back our own output never stops a rebuild."""
    try:
        if not path.is_file():
            return ReadBack()
        if path.stat().st_size > _MAX_FILE_BYTES:
            return ReadBack(damaged="it is larger than any workbook sheet-tools writes")
        with zipfile.ZipFile(path) as archive:
            if sum(i.file_size for i in archive.infolist()) > _MAX_INFLATED_BYTES:
                return ReadBack(damaged="it unpacks larger than any workbook sheet-tools writes")
        book = load_workbook(path, read_only=True, data_only=True)
    except OSError as exc:
        # named once by the rebuild that leaves it waiting, not at each retry
        logger.debug("cannot read back the Preparation column of %s: %s", path, exc)
        return ReadBack(locked=True)
    except Exception as exc:  # a damaged file must never stop the rebuild
        return ReadBack(damaged=f"{type(exc).__name__}: {exc}")
    found = ReadBack()
    try:
        if STAGES_SHEET not in book.sheetnames:
            return found
        header: list[str] | None = None
        for number, values in enumerate(book[STAGES_SHEET].iter_rows(values_only=True)):
            if number > _MAX_ROWS:
                break
            if header is None:
                texts = [_cell_text(v) for v in values]
                if {"School", "URN", "Round", PREPARATION} <= set(texts):
                    header = texts
                continue
            row = dict(zip(header, values, strict=False))
            typed, school = row.get(PREPARATION), _cell_text(row.get("School"))
            if AS_WRITTEN in header and same_note(typed, row.get(AS_WRITTEN)):
                continue  # as written: not an edit
            if school:
                key = school_key(school, _cell_text(row.get("URN")) or None)
                value = typed if _cell_text(typed) else None
                found.rows[(key, _cell_text(row.get("Round")))] = (name_key(school), value)
    except Exception as exc:  # a damaged file must never stop the rebuild
        return ReadBack(damaged=f"{type(exc).__name__}: {exc}")
    finally:
        book.close()
    return found


def stages_sheet(
    book: SummaryBook, rows: Sequence[StageRow], kept: Kept, unique: Collection[str] = frozenset()
) -> None:
    """``kept``: the store's notes; ``unique``: the name keys only one roster school has, whose
    note kept under the name (typed before the roster gave the URN) the school's row shows."""
    ws = book.sheet(STAGES_SHEET)
    top = table_title(
        ws,
        "Where each school is in the review: the date of each stage so far and what is next. "
        "Fill in Preparation by hand; it is kept when the workbook is rebuilt.",
    )
    write_header(ws, top, LABELS)
    write_header(ws, top, [AS_WRITTEN], first_column=_AS_WRITTEN_COLUMN)
    for row, item in enumerate(rows, start=top + 1):
        put(ws, row, 1, item.school, border=True, alignment=WRAP)
        put(ws, row, 2, item.urn, border=True, alignment=TOP)
        put(ws, row, 3, " or ".join(item.forms), border=True, alignment=WRAP)
        put(ws, row, 4, item.round, border=True, alignment=TOP)
        days = (item.identification, item.self_evaluation)
        for offset, day in enumerate(days, start=5):
            put(ws, row, offset, day, number_format=DATE_FORMAT, border=True, alignment=TOP)
        # a note typed before the roster gave the school its URN is kept under its name
        typed = kept.get(item.held_as)
        if typed is None and name_key(item.school) in unique:
            typed = kept.get((name_key(item.school), item.round))
        as_date = DATE_FORMAT if isinstance(typed, date) else None
        put(
            ws,
            row,
            _PREPARATION_COLUMN,
            typed,
            number_format=as_date,
            border=True,
            fill=_HAND_FILL,
            alignment=WRAP,
        )
        put(ws, row, _AS_WRITTEN_COLUMN, typed, number_format=as_date)
        for offset, day in enumerate((item.visit, item.report), start=8):
            put(ws, row, offset, day, number_format=DATE_FORMAT, border=True, alignment=TOP)
        put(ws, row, 10, item.follow_up_text, border=True, alignment=WRAP)
        put(ws, row, 11, item.next, border=True, alignment=WRAP, font=BOLD)
        fit_row(ws, row, [(item.follow_up_text, 24)])
    if not rows:
        put(ws, top + 1, 1, "No school is in the review yet.", font=SUBTITLE)
    set_widths(ws, [32, 9, 24, 14, 14, 14, 16, 14, 12, 24, 22])
    ws.ws.set_column(_AS_WRITTEN_COLUMN - 1, _AS_WRITTEN_COLUMN - 1, None, None, {"hidden": True})
    freeze(ws, top + 1, 2)
    landscape(ws, title_rows=top)
    ws.ws.print_area(0, 0, top + max(len(rows), 1) - 1, len(LABELS) - 1)
