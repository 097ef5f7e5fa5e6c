"""A trust's one workbook of a family of forms (the SEND Diagnostic Review's four), in place of
one per form: Stages (see ``stages``), the round's judgements (the school's and the reviewer's
side by side), the report's recommendations and the follow-up visits' action points across the
trust, a Returns log over every form, Queries and Provenance."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..base.keys import school_key
from ..definitions.frameworks import Framework
from ..definitions.roster import School
from ..definitions.rounds import REVIEWERS, SELF, judge_label
from ..store.facade import IssuedWorkbook, Rejection, StoredReturn
from .cells import (
    BOLD,
    CHANGE_FORMAT,
    DATE_FORMAT,
    SUBTITLE,
    TOP,
    WRAP,
    SummaryBook,
    SummarySheet,
    fit_row,
    freeze,
    landscape,
    put,
    score_cell,
    set_widths,
    table_title,
    write_header,
)
from .overview import current_round_name
from .queries import queries_sheet, round_returns
from .review import action_points, recommendations
from .scores import NO_TRUST, SchoolHistory, area_scores
from .sheets import provenance_sheet
from .stages import Kept, stage_rows, stages_sheet
from .trust import STATUS_FILLS, LogEntry, returns_log


@dataclass
class FamilyTrustData:
    """Everything a family's trust workbook shows, computed once (and sent to a worker)."""

    family: str
    name: str | None
    forms: list[Framework]
    # each form's histories of the trust's schools, by template id
    members: dict[str, list[SchoolHistory]]
    roster: list[School] = field(default_factory=list)
    issued: list[IssuedWorkbook] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    round: str | None = None
    told: Mapping[str, tuple[str, str]] | None = None
    # the name keys only one school on the whole roster has (``stages.unique_names``)
    unique_names: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.round is None:
            everyone = [h for histories in self.members.values() for h in histories]
            sent = [(i.round, i.issued_at.date()) for i in self.issued]
            self.round = current_round_name(everyone, sent)

    def part(self, part: str) -> list[tuple[Framework, SchoolHistory]]:
        """The trust's histories of the family's forms of one part, school by school."""
        found = [
            (form, history)
            for form in self.forms
            if form.part == part
            for history in self.members.get(form.id, [])
        ]
        return sorted(found, key=lambda pair: (pair[1].school.casefold(), pair[1].school_key))

    def of_round(self, part: str) -> list[tuple[Framework, SchoolHistory, list[StoredReturn]]]:
        """Each school's returns of one part in the round, earliest first."""
        found = []
        for form, history in self.part(part):
            held = history.rounds.get(self.round or "", {})
            items = sorted(held.values(), key=lambda r: (r.review_date, r.arrived_at, r.id))
            if items:
                found.append((form, history, items))
        return found

    def log(self) -> list[tuple[Framework, LogEntry]]:
        """Every form's Returns log of the round, over only the schools the form applies to;
        a form nobody in the trust has been issued or returned yet is left out (the Stages
        sheet says what is next)."""
        listed = {school_key(s.name, s.urn): s for s in self.roster}
        # a workbook issued to a school the form does not apply to is not chased
        issued = {
            form.id: [
                i
                for i in self.issued
                if i.template_id == form.id
                and ((s := listed.get(school_key(i.school, i.urn))) is None or s.takes(form.id))
            ]
            for form in self.forms
        }
        in_play = [
            form
            for form in self.forms
            if issued[form.id]
            or self.members.get(form.id)
            or any(r.template_id == form.id for r in self.rejections)
        ]
        unknown = self._unidentified(listed)
        playing = {form.id for form in in_play}
        rows = []
        for form in self.forms:
            if form.id not in playing and not unknown[form.id]:
                continue
            entries = returns_log(
                form,
                self.members.get(form.id, []),
                [s for s in self.roster if s.takes(form.id)],
                [r for r in self.rejections if r.template_id == form.id] + unknown[form.id],
                round_name=self.round,
                issued=issued[form.id],
                told=self.told,
            )
            rows += [(form, entry) for entry in entries]
        return rows

    def _unidentified(self, listed: Mapping[str, School]) -> dict[str, list[Rejection]]:
        """The rejected files whose form could not be told, each under one form (by id) so the
        log lists it once: the review form its school takes (else the first form it takes)."""
        placed: dict[str, list[Rejection]] = {form.id: [] for form in self.forms}
        reviews_first = sorted(self.forms, key=lambda f: f.part != "review")
        for rejection in self.rejections:
            if rejection.template_id is not None:
                continue
            school = listed.get(school_key(rejection.school or "", rejection.urn))
            form = next(
                (f for f in reviews_first if school is None or school.takes(f.id)),
                reviews_first[0],
            )
            placed[form.id].append(rejection)
        return placed


def _judgements_sheet(book: SummaryBook, data: FamilyTrustData) -> None:
    ws = book.sheet("Judgements")
    top = table_title(
        ws,
        f"Each school's judgements of the {data.round} round, area by area: the school's own "
        "self-evaluation beside the reviewer's (mean level, 1 to 4).",
    )
    labels = ["School", "URN", "Review form", "Focus area", "School's own", "Reviewer's"]
    write_header(ws, top, [*labels, "Difference", "Reviewer"])
    row = top + 1
    for form, history, _ in data.of_round("review"):
        own = history.in_round(data.round or "", SELF)
        theirs = next(
            (found[-1] for j in REVIEWERS if (found := history.in_round(data.round or "", j))),
            None,
        )
        mine = area_scores(form, own[-1].judgements) if own else None
        reviewed = area_scores(form, theirs.judgements) if theirs else None
        for index, sheet in enumerate(s for s in form.sheets if s.judged):
            school_score = mine[index].score if mine else None
            review_score = reviewed[index].score if reviewed else None
            _school_cells(ws, row, history)
            put(ws, row, 3, form.short_title, border=True, alignment=WRAP)
            put(ws, row, 4, sheet.title, border=True, alignment=WRAP)
            score_cell(ws, row, 5, school_score)
            score_cell(ws, row, 6, review_score)
            difference = (
                review_score - school_score
                if school_score is not None and review_score is not None
                else None
            )
            put(ws, row, 7, difference, number_format=CHANGE_FORMAT, border=True, alignment=TOP)
            who = judge_label(theirs.judge) if theirs else ""
            put(ws, row, 8, who, border=True, alignment=WRAP)
            fit_row(ws, row, [(sheet.title, 44), (history.school, 30)])
            row += 1
    _finish(
        ws, top, row, "No judgements returned in this round yet.", [30, 9, 22, 44, 12, 12, 12, 18]
    )


def _school_cells(ws: SummarySheet, row: int, history: SchoolHistory) -> None:
    """A row's first two cells: the school and its URN (two schools may share a name)."""
    put(ws, row, 1, history.school, border=True, alignment=WRAP)
    put(ws, row, 2, history.urn, border=True, alignment=TOP)


def _finish(ws: SummarySheet, top: int, row: int, empty: str, widths: list[int]) -> None:
    """A school-by-school table's end: saying so when it has no rows, its column widths, the
    header and school columns frozen, and landscape pages repeating the header."""
    if row == top + 1:
        put(ws, row, 1, empty, font=SUBTITLE)
    set_widths(ws, widths)
    freeze(ws, top + 1, 2)
    landscape(ws, title_rows=top)


def _recommendations_sheet(book: SummaryBook, data: FamilyTrustData) -> None:
    ws = book.sheet("Recommendations")
    top = table_title(
        ws, f"The review report's recommendations for each school, {data.round} round."
    )
    write_header(ws, top, ["School", "URN", "Report date", "Focus area", "Recommendation"])
    row = top + 1
    for form, history, items in data.of_round("report"):
        stored = items[-1]
        for area, text in recommendations(form, stored):
            _school_cells(ws, row, history)
            put(ws, row, 3, stored.review_date, number_format=DATE_FORMAT, border=True)
            put(ws, row, 4, area, border=True, alignment=WRAP, font=BOLD)
            put(ws, row, 5, text, border=True, alignment=WRAP)
            fit_row(ws, row, [(text, 70), (area, 34), (history.school, 28)])
            row += 1
    _finish(ws, top, row, "No report has recommendations in this round yet.", [28, 9, 12, 34, 70])


def _action_points_sheet(book: SummaryBook, data: FamilyTrustData) -> None:
    ws = book.sheet("Follow-up actions")
    top = table_title(
        ws,
        f"The action points of every follow-up visit, {data.round} round, each school's visits "
        "in date order.",
    )
    write_header(ws, top, ["School", "URN", "Visit", "Visit date", "Action points"])
    row = top + 1
    for form, history, items in data.of_round("follow-up"):
        for number, stored in enumerate(items, start=1):
            text = action_points(form, stored) or "(no action points written)"
            _school_cells(ws, row, history)
            put(ws, row, 3, number, border=True, alignment=TOP)
            put(ws, row, 4, stored.review_date, number_format=DATE_FORMAT, border=True)
            put(ws, row, 5, text, border=True, alignment=WRAP)
            fit_row(ws, row, [(text, 80), (history.school, 28)])
            row += 1
    _finish(ws, top, row, "No follow-up visit in this round yet.", [28, 9, 7, 12, 80])


def _returns_log_sheet(book: SummaryBook, data: FamilyTrustData) -> None:
    ws = book.sheet("Returns log")
    labels = ["School", "URN", "Form", "Status", "Date", "Review date", "Detail", "Round", "Told"]
    top = table_title(
        ws,
        "Every form each school takes this round: returned, outstanding or rejected, and "
        "whether it was told.",
    )
    write_header(ws, top, labels)
    log = data.log()
    for row, (form, entry) in enumerate(log, start=top + 1):
        put(ws, row, 1, entry.school, border=True, alignment=WRAP)
        put(ws, row, 2, entry.urn, border=True, alignment=TOP)
        put(ws, row, 3, form.short_title, border=True, alignment=WRAP)
        fill = STATUS_FILLS[entry.status]
        put(ws, row, 4, entry.status, border=True, fill=fill, font=BOLD, alignment=TOP)
        put(ws, row, 5, entry.when, number_format=DATE_FORMAT, border=True, alignment=TOP)
        put(ws, row, 6, entry.review_date, number_format=DATE_FORMAT, border=True, alignment=TOP)
        put(ws, row, 7, entry.detail, border=True, alignment=WRAP)
        put(ws, row, 8, entry.round, border=True, alignment=TOP)
        put(ws, row, 9, entry.told, border=True, alignment=WRAP)
        fit_row(ws, row, [(entry.detail, 60)])
    counts = {s: sum(1 for _, e in log if e.status == s) for s in STATUS_FILLS}
    put(
        ws,
        top + len(log) + 2,
        1,
        f"{counts['Returned']} returned, {counts['Outstanding']} outstanding, "
        f"{counts['Rejected']} rejected.",
        font=BOLD,
    )
    set_widths(ws, [32, 9, 22, 13, 12, 12, 60, 14, 30])
    freeze(ws, top + 1, 2)
    ws.ws.autofilter(top - 1, 0, top - 1 + len(log), len(labels) - 1)
    landscape(ws, title_rows=top)


def build_family_trust_workbook(data: FamilyTrustData, kept: Kept | None = None) -> bytes:
    """A trust's workbook of a family of forms, as .xlsx bytes; ``kept``: the preparation
    column as the administrator left it in the workbook this one replaces."""
    name = data.name or NO_TRUST
    book = SummaryBook(name + (f", {data.round} round" if data.round else ""))
    rows = stage_rows(data.forms, data.members, data.roster, data.issued, data.round)
    stages_sheet(book, rows, kept or {}, data.unique_names)
    _judgements_sheet(book, data)
    _recommendations_sheet(book, data)
    _action_points_sheet(book, data)
    _returns_log_sheet(book, data)
    queried = [r for found in data.members.values() for h in found for r in round_returns(h)]
    queries_sheet(book, queried, with_school=True, empty="No return has a query to check.")
    used = [
        (stored, f"{form.short_title}: {data.round} round")
        for part in ("review", "report", "follow-up")
        for form, _, items in data.of_round(part)
        for stored in items
    ]
    provenance_sheet(book, used)
    return book.to_bytes(f"{name}: {data.family}")
