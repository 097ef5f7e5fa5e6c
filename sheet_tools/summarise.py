"""Stored returns -> the summary workbooks schools and trusts receive.

Scores. A statement scores its level on the framework's scale (Beginning 1 ... Embedded 4). An
area's score is the mean over its judged statements; a blank judgement is left out, never counted
as zero. A trust's area score is the mean of its schools' area scores, so each school weighs the
same whatever it left blank.

Which returns. For each school and framework the store keeps the latest return per review date
and judge (the school's self-evaluation, an external or a peer reviewer). A review round is one
review date. A school's summary, and the trust roll-up, use the school's latest round, taking the
reviewer's judgement where there is one (an external review before a peer review) and the
self-evaluation otherwise. The self-evaluation and the review of one round are shown side by
side; the round before the latest is the baseline for progress.

Outbox layout (every name passes through ``generate.safe_filename``)::

    outbox/
      <trust>/                                         one folder per trust or local authority;
                                                       "No trust recorded" when a return names none
        <school> (<urn>) - <template id>.xlsx           one school's summary of one framework
        <school> (<urn>) - <template id> - radar.png    its radar chart, for e-mails and slides
        <trust> - <template id> - trust summary.xlsx    the trust's consolidated workbook

A school's workbook has an Overview (cover fields, area scores with counts per level, a native
radar chart and the same chart as a picture), Next steps, Strengths, Progress (when there is an
earlier round), Self-evaluation vs review (when both exist for a round), Responses (every text
answer), Data (one plain row per statement, for pivot tables) and Provenance. A trust's workbook
has Area scores, a Statement heat map, Priorities, Radar charts, Next steps, a Returns log and
Provenance. A form with no judgements gets its text (Responses, Next steps) and the log.

A school's trust is the one the roster gives it (``roster.csv`` in the workspace), else the one its
latest return names; trust names are matched ignoring case and spacing. Every file is written to a
temporary file in the same folder and renamed into place, so nobody opening the outbox sees half
a file. Text from schools is written as text cells, never as formulas.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from io import BytesIO
from pathlib import Path

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook as XlsxWorkbook
from xlsxwriter.worksheet import Worksheet as XlsxWorksheet

from . import charts
from .frameworks import Framework, Level, Registry, Sheet, Statement
from .generate import GenerateError, School, read_roster, safe_filename, write_bytes_atomically
from .ingest import Workspace
from .store import Rejection, Store, StoredReturn, StoreError, school_key
from .validate import Judge

JUDGE_LABELS: dict[str, str] = {
    "self-evaluation": "Self-evaluation",
    "external-review": "External reviewer",
    "peer-review": "Peer reviewer",
}
SELF: Judge = "self-evaluation"
# A round's reviewer judgement, most independent first.
REVIEWERS: tuple[Judge, ...] = ("external-review", "peer-review")

NO_TRUST = "No trust recorded"
DATA_HEADERS = (
    "school",
    "urn",
    "trust",
    "template",
    "template_version",
    "review_date",
    "area",
    "statement_id",
    "statement",
    "judgement",
    "score",
)
EXCEL_TEXT_LIMIT = 32767
# Text starting with these is a formula to a spreadsheet user typing it in; stored as text, and
# flagged with Excel's quote prefix so editing the cell keeps it text.
_FORMULA_STARTS = ("=", "+", "-", "@")


# --- scores ------------------------------------------------------------------------------------
# (framework, {stored judgement: its level}) by id(framework); the framework is held so that its
# id cannot be reused while the entry lives. A rebuild looks up hundreds of thousands of these.
_LEVEL_CACHE: dict[int, tuple[Framework, dict[str, Level | None]]] = {}


def level_of(framework: Framework, value: str | None) -> Level | None:
    """The level a stored judgement names (its code or label, any case); None when blank."""
    if value is None:
        return None
    held = _LEVEL_CACHE.get(id(framework))
    if held is None or held[0] is not framework:
        held = _LEVEL_CACHE[id(framework)] = (framework, {})
    known = held[1]
    if value in known:
        return known[value]
    found = None
    wanted = " ".join(str(value).split()).casefold()
    if wanted:
        for level in framework.scale:
            if wanted in (level.code.casefold(), level.label.casefold()):
                found = level
                break
    if len(known) < 1000:  # judgements are a handful of codes; never grow without bound
        known[value] = found
    return found


def ordered_scale(framework: Framework) -> list[Level]:
    return sorted(framework.scale, key=lambda level: level.score)


def secure_threshold(framework: Framework) -> int:
    """The lowest score counted as "Secure or better": the level called Secure, or on a scale
    without one, the upper half of the levels."""
    for level in framework.scale:
        if level.label.casefold() == "secure" or level.code.casefold() == "sec":
            return level.score
    ordered = ordered_scale(framework)
    return ordered[len(ordered) // 2].score


def priority_levels(framework: Framework) -> list[Level]:
    """The levels below Secure (Beginning, Developing): a school's priorities."""
    threshold = secure_threshold(framework)
    return [level for level in ordered_scale(framework) if level.score < threshold]


def top_level(framework: Framework) -> Level:
    return ordered_scale(framework)[-1]


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the values that are present; None when there are none (not zero)."""
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


@dataclass(frozen=True)
class AreaScore:
    """One area of one return: its score, counts per level and share Secure or better."""

    sheet_id: str
    title: str
    score: float | None
    counts: dict[str, int]  # level code -> statements judged at that level
    judged: int
    statements: int
    secure_share: float | None

    @property
    def not_judged(self) -> int:
        return self.statements - self.judged


def _score_statements(
    framework: Framework, sheet_id: str, title: str, statements: Sequence[Statement], judgements
) -> AreaScore:
    threshold = secure_threshold(framework)
    counts = {level.code: 0 for level in framework.scale}
    scores: list[int] = []
    for statement in statements:
        level = level_of(framework, judgements.get(statement.id))
        if level is not None:
            counts[level.code] += 1
            scores.append(level.score)
    secure = sum(1 for s in scores if s >= threshold)
    return AreaScore(
        sheet_id=sheet_id,
        title=title,
        score=mean(scores),
        counts=counts,
        judged=len(scores),
        statements=len(statements),
        secure_share=secure / len(scores) if scores else None,
    )


def area_scores(framework: Framework, judgements: dict[str, str | None]) -> list[AreaScore]:
    """One AreaScore per judged sheet of the framework, in the framework's order."""
    return [
        _score_statements(framework, sheet.id, sheet.title, sheet.statements, judgements)
        for sheet in framework.sheets
        if sheet.judged
    ]


def overall_score(framework: Framework, judgements: dict[str, str | None]) -> AreaScore:
    """Every judged statement of the return taken together."""
    statements = [statement for _, statement in framework.judged_statements()]
    return _score_statements(framework, "", "All statements", statements, judgements)


def trust_area_means(
    framework: Framework, schools: Sequence[Sequence[AreaScore]]
) -> list[float | None]:
    """Per judged area, the mean of the schools' area scores (a school with no judged statement
    in an area is left out of that area's mean)."""
    areas = [sheet.id for sheet in framework.sheets if sheet.judged]
    by_area: dict[str, list[float | None]] = defaultdict(list)
    for scores in schools:
        for item in scores:
            by_area[item.sheet_id].append(item.score)
    return [mean(by_area[area]) for area in areas]


def statement_score(
    framework: Framework, judgements: dict[str, str | None], sid: str
) -> int | None:
    level = level_of(framework, judgements.get(sid))
    return level.score if level else None


def level_steps(framework: Framework, first: str | None, second: str | None) -> int | None:
    """How many levels ``second`` is above ``first`` (negative below); None if either is blank."""
    a, b = level_of(framework, first), level_of(framework, second)
    if a is None or b is None:
        return None
    ordered = [level.code for level in ordered_scale(framework)]
    return ordered.index(b.code) - ordered.index(a.code)


# --- which returns -----------------------------------------------------------------------------
def _newest(returns: Iterable[StoredReturn]) -> StoredReturn:
    return max(returns, key=lambda r: (r.arrived_at, r.id))


@dataclass
class SchoolHistory:
    """One school's returns of one framework: the latest per review round and judge."""

    template_id: str
    school_key: str
    rounds: dict[date, dict[str, StoredReturn]] = field(default_factory=dict)

    def add(self, stored: StoredReturn) -> None:
        round_ = self.rounds.setdefault(stored.review_date, {})
        held = round_.get(stored.judge)
        if held is None or (stored.arrived_at, stored.id) > (held.arrived_at, held.id):
            round_[stored.judge] = stored

    @property
    def newest(self) -> StoredReturn:
        """The most recently arrived return: where the school's name and trust come from."""
        return _newest(r for round_ in self.rounds.values() for r in round_.values())

    @property
    def school(self) -> str:
        return self.newest.school

    @property
    def urn(self) -> str | None:
        return self.newest.urn

    def dates(self) -> list[date]:
        return sorted(self.rounds)

    def primary(self, review_date: date) -> StoredReturn:
        """The round's reviewer judgement where there is one, else its self-evaluation."""
        round_ = self.rounds[review_date]
        for judge in REVIEWERS:
            if judge in round_:
                return round_[judge]
        if SELF in round_:
            return round_[SELF]
        return _newest(round_.values())

    @property
    def current(self) -> StoredReturn:
        return self.primary(self.dates()[-1])

    @property
    def previous(self) -> StoredReturn | None:
        dates = self.dates()
        return self.primary(dates[-2]) if len(dates) > 1 else None

    @property
    def comparison(self) -> tuple[StoredReturn, StoredReturn] | None:
        """(self-evaluation, review) of the latest round that has both."""
        for review_date in reversed(self.dates()):
            round_ = self.rounds[review_date]
            reviewer = next((round_[j] for j in REVIEWERS if j in round_), None)
            if reviewer is not None and SELF in round_:
                return round_[SELF], reviewer
        return None

    def used(self) -> list[tuple[StoredReturn, str]]:
        """Every return a school summary is built from, with what it is used for."""
        items = [(self.current, "Latest round: overview, next steps, strengths, data")]
        if self.previous is not None:
            items.append((self.previous, "Earlier round: progress"))
        pair = self.comparison
        if pair is not None:
            for stored in pair:
                if all(stored.id != item.id for item, _ in items):
                    items.append((stored, "Self-evaluation beside the review"))
        return items


def histories(returns: Iterable[StoredReturn]) -> dict[tuple[str, str], SchoolHistory]:
    """Group returns by (template id, school key), keeping the latest per round and judge."""
    grouped: dict[tuple[str, str], SchoolHistory] = {}
    for stored in returns:
        key = (stored.template_id, stored.school_key)
        grouped.setdefault(key, SchoolHistory(*key)).add(stored)
    return grouped


# --- trusts and the roster ---------------------------------------------------------------------
def trust_key(name: str | None) -> str:
    """Trust names typed by different people match ignoring case and spacing; "" is no trust."""
    return " ".join(name.casefold().split()) if name else ""


def roster_by_key(roster: Iterable[School]) -> dict[str, School]:
    """The roster's schools (``roster.csv``) by the store's school key (URN, else name)."""
    return {school_key(s.name, s.urn): s for s in roster}


def effective_trust(history: SchoolHistory, roster: dict[str, School]) -> str | None:
    """The roster's trust for the school, else the one its latest return names."""
    on_roster = roster.get(history.school_key)
    if on_roster is not None and on_roster.trust:
        return on_roster.trust
    return history.newest.trust


# --- where files go ----------------------------------------------------------------------------
def trust_folder(outbox: Path, trust: str | None) -> Path:
    return Path(outbox) / safe_filename(trust or NO_TRUST, suffix="", max_length=80)


def _school_stem(school: str, urn: str | None, template_id: str) -> str:
    # The school part is shortened on its own so a long name never loses the template id.
    name = safe_filename(school + (f" ({urn})" if urn else ""), suffix="", max_length=90)
    return f"{name} - {safe_filename(template_id, suffix='', max_length=60)}"


def school_summary_path(
    outbox: Path, trust: str | None, school: str, urn: str | None, template_id: str
) -> Path:
    return trust_folder(outbox, trust) / f"{_school_stem(school, urn, template_id)}.xlsx"


def school_chart_path(
    outbox: Path, trust: str | None, school: str, urn: str | None, template_id: str
) -> Path:
    return trust_folder(outbox, trust) / f"{_school_stem(school, urn, template_id)} - radar.png"


def trust_summary_path(outbox: Path, trust: str | None, template_id: str) -> Path:
    name = safe_filename(trust or NO_TRUST, suffix="", max_length=80)
    template = safe_filename(template_id, suffix="", max_length=60)
    return trust_folder(outbox, trust) / f"{name} - {template} - trust summary.xlsx"


# --- writing cells -----------------------------------------------------------------------------
# Summaries are write-only, so they are written with XlsxWriter, several times faster than
# openpyxl at writing new workbooks. A style is a tuple of XlsxWriter format properties; a cell's
# font, fill, alignment, number format and border are merged into one Format, made once per
# workbook for each combination used.
Style = tuple[tuple[str, object], ...]


def _style(**properties: object) -> Style:
    return tuple(sorted(properties.items()))


def _fill(colour: str) -> Style:
    return _style(pattern=1, bg_color=f"#{colour}")


_BOX: Style = _style(border=1, border_color="#BFBFBF")
_HEADER_FILL = _fill("1F4E79")
_BAND_FILL = _fill("F2F2F2")
_FLAG_FILL = _fill("FFE699")
_TITLE = _style(bold=True, font_size=14, font_color="#1F4E79")
_SUBTITLE = _style(italic=True, font_size=10, font_color="#404040")
_SECTION = _style(bold=True, font_size=12, font_color="#1F4E79")
_HEADER = _style(bold=True, font_color="#FFFFFF")
_BOLD = _style(bold=True)
_WRAP = _style(text_wrap=True, valign="top")
_TOP = _style(valign="top")
_LEFT = _style(align="left")
_CENTRE = _style(align="center", valign="top", text_wrap=True)
_ROTATED = _style(rotation=90, align="center")
_QUOTED = _style(quote_prefix=True)
_SCORE_FORMAT = "0.00"
_SHARE_FORMAT = "0%"
_CHANGE_FORMAT = "+0.00;-0.00;0.00"
_STEPS_FORMAT = "+0;-0;0"
_DATE_FORMAT = "dd/mm/yyyy"
_DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
# What a date or time shows without a format of its own (openpyxl's defaults).
_PLAIN_DATE_FORMAT = "yyyy-mm-dd"
_PLAIN_DATETIME_FORMAT = "yyyy-mm-dd h:mm:ss"
_POINTS_PER_LINE = 15
_AREA_WIDTH = 50
_WORKBOOK_OPTIONS = {
    "in_memory": True,
    # School text is data: never turned into a formula, number or link, whatever it looks like.
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}


def clean_text(value: str) -> str:
    """Text a cell can hold: no XML-illegal control characters, within Excel's length limit."""
    return ILLEGAL_CHARACTERS_RE.sub("", value)[:EXCEL_TEXT_LIMIT]


_UNMADE = object()


class SummaryBook:
    """An XlsxWriter workbook written to memory, with its formats made once each."""

    def __init__(self) -> None:
        self.buffer = BytesIO()
        self.book = XlsxWorkbook(self.buffer, _WORKBOOK_OPTIONS)
        self.formats: dict[tuple, Format | None] = {}

    def sheet(self, title: str) -> SummarySheet:
        return SummarySheet(self, self.book.add_worksheet(title), title)

    def format(self, key: tuple) -> Format | None:
        """The Format for (font, fill, alignment, number format, border, quote prefix)."""
        if key in self.formats:
            return self.formats[key]
        font, fill, alignment, number_format, border, quoted = key
        properties: dict[str, object] = {}
        for style in (font, fill, alignment, _BOX if border else None, _QUOTED if quoted else None):
            if style:
                properties.update(style)
        if number_format is not None:
            properties["num_format"] = number_format
        made = self.book.add_format(properties) if properties else None
        self.formats[key] = made
        return made

    def to_bytes(self, title: str) -> bytes:
        self.book.set_properties({"title": clean_text(title), "author": "sheet-tools"})
        self.book.close()
        return self.buffer.getvalue()


@dataclass
class SummarySheet:
    """One worksheet of a summary; rows and columns are numbered from 1, as in Excel."""

    owner: SummaryBook
    ws: XlsxWorksheet
    title: str


def put(
    ws: SummarySheet,
    row: int,
    column: int,
    value: object,
    *,
    font: Style | None = None,
    fill: Style | None = None,
    alignment: Style | None = None,
    number_format: str | None = None,
    border: bool = False,
) -> None:
    """Write one cell. Any str is stored as a string cell, never a formula or an error value,
    whatever it starts with: school text is data, not instructions."""
    sheet, r, c = ws.ws, row - 1, column - 1
    if isinstance(value, str):
        value = clean_text(value)
        key = (font, fill, alignment, number_format, border, value.startswith(_FORMULA_STARTS))
        fmt = ws.owner.formats.get(key, _UNMADE)
        if fmt is _UNMADE:
            fmt = ws.owner.format(key)
        if value:
            sheet.write_string(r, c, value, fmt)
        elif fmt is not None:
            sheet.write_blank(r, c, None, fmt)
        return
    if isinstance(value, (datetime, date)):
        if isinstance(value, datetime):
            if value.tzinfo is not None:
                value = value.astimezone(UTC).replace(tzinfo=None)
            number_format = number_format or _PLAIN_DATETIME_FORMAT
        else:
            number_format = number_format or _PLAIN_DATE_FORMAT
        fmt = ws.owner.format((font, fill, alignment, number_format, border, False))
        sheet.write_datetime(r, c, value, fmt)
        return
    fmt = ws.owner.format((font, fill, alignment, number_format, border, False))
    if value is None:
        if fmt is not None:
            sheet.write_blank(r, c, None, fmt)
    elif isinstance(value, bool):
        sheet.write_boolean(r, c, value, fmt)
    elif isinstance(value, (int, float)):
        sheet.write_number(r, c, value, fmt)
    else:
        put(
            ws,
            row,
            column,
            str(value),
            font=font,
            fill=fill,
            alignment=alignment,
            number_format=number_format,
            border=border,
        )


def _title(ws: SummarySheet, title: str, subtitle: str = "") -> int:
    """Title and subtitle in rows 1-2; returns the first free row (4)."""
    put(ws, 1, 1, title, font=_TITLE)
    if subtitle:
        put(ws, 2, 1, subtitle, font=_SUBTITLE)
    return 4


def _section(ws: SummarySheet, row: int, text: str) -> int:
    put(ws, row, 1, text, font=_SECTION)
    return row + 1


def _header(ws: SummarySheet, row: int, labels: Sequence[str], first_column: int = 1) -> int:
    for offset, label in enumerate(labels):
        put(
            ws,
            row,
            first_column + offset,
            label,
            font=_HEADER,
            fill=_HEADER_FILL,
            alignment=_CENTRE if offset else _WRAP,
            border=True,
        )
    return row + 1


def _widths(ws: SummarySheet, widths: Sequence[float]) -> None:
    for index, width in enumerate(widths):
        ws.ws.set_column(index, index, width)


def _fit_row(ws: SummarySheet, row: int, texts: Sequence[tuple[str, float]]) -> None:
    """Tall enough for the longest wrapped text (Excel does not re-fit rows when opening)."""
    lines = 1
    for text, width in texts:
        per_line = max(
            int(width * 1.15) - 2, 8
        )  # a column width unit is one "0"; text runs narrower
        count = sum(max(1, -(-len(part) // per_line)) for part in text.split("\n"))
        lines = max(lines, count)
    if lines > 1:
        ws.ws.set_row(row - 1, min(lines * _POINTS_PER_LINE + 2, 409))


def _landscape(ws: SummarySheet, title_rows: bool = False, *, one_page: bool = False) -> None:
    """Landscape A4, one page wide (and one page tall with ``one_page``); ``title_rows``
    repeats row 1 on every printed page."""
    ws.ws.set_landscape()
    ws.ws.set_paper(9)  # A4
    ws.ws.fit_to_pages(1, 1 if one_page else 0)
    ws.ws.set_margins(left=0.4, right=0.4)
    if title_rows:
        ws.ws.repeat_rows(0)


def _freeze(ws: SummarySheet, row: int, column: int) -> None:
    """Freeze the rows above ``row`` and the columns left of ``column``."""
    ws.ws.freeze_panes(row - 1, column - 1)


@functools.cache
def _level_fill(level: Level) -> Style:
    return _fill(level.colour)


def _level_cell(ws: SummarySheet, row: int, column: int, level: Level | None) -> None:
    """A judgement in words, coloured by its level; "Not judged" when blank."""
    if level is None:
        put(ws, row, column, "Not judged", border=True, alignment=_CENTRE)
        return
    put(ws, row, column, level.label, border=True, alignment=_CENTRE, fill=_level_fill(level))


def _fmt_date(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def _judge_label(judge: str) -> str:
    return JUDGE_LABELS.get(judge, judge)


def _score_cell(
    ws: SummarySheet, row: int, column: int, value: float | None, font: Style | None = None
) -> None:
    put(
        ws,
        row,
        column,
        value,
        number_format=_SCORE_FORMAT,
        border=True,
        font=font,
        alignment=_CENTRE,
    )


def _boxes(framework: Framework, role: str) -> list[tuple[Sheet, list]]:
    return [
        (sheet, [box for box in sheet.boxes if box.role == role])
        for sheet in framework.sheets
        if any(box.role == role for box in sheet.boxes)
    ]


def _box_text(stored: StoredReturn, boxes: Sequence) -> str:
    parts = [stored.texts.get(box.id, "").strip() for box in boxes]
    return "\n\n".join(p for p in parts if p)


def _notes(sheet: Sheet, statement: Statement, stored: StoredReturn) -> str:
    """The free-text columns written beside a statement (evidence, notes)."""
    parts = []
    for column in sheet.columns:
        text = stored.texts.get(f"{statement.id}.{column.id}", "").strip()
        if text:
            parts.append(text if len(sheet.columns) == 1 else f"{column.label}: {text}")
    return "\n".join(parts)


def _framework_for(registry: Registry, stored: StoredReturn) -> Framework | None:
    """The framework version the return was made against, else the newest version."""
    return registry.get(stored.template_id, stored.template_version) or registry.get(
        stored.template_id
    )


# --- the school summary ------------------------------------------------------------------------
def _area_table(
    ws: SummarySheet, row: int, framework: Framework, stored: StoredReturn
) -> tuple[int, int, int]:
    """The area scores table; returns (header row, first area row, last area row)."""
    scale = list(framework.scale)
    labels = ["Area", "Score", *(level.label for level in scale), "Not judged", "Secure or better"]
    header_row = row
    row = _header(ws, row, labels)
    first = row
    items = [(item, None) for item in area_scores(framework, stored.judgements)]
    items.append((overall_score(framework, stored.judgements), _BOLD))
    for item, font in items:
        put(ws, row, 1, item.title, font=font, border=True, alignment=_WRAP)
        _fit_row(ws, row, [(item.title, _AREA_WIDTH)])
        _score_cell(ws, row, 2, item.score, font=font)
        for offset, level in enumerate(scale):
            put(ws, row, 3 + offset, item.counts[level.code], border=True, alignment=_CENTRE)
        put(ws, row, 3 + len(scale), item.not_judged, border=True, alignment=_CENTRE)
        put(
            ws,
            row,
            4 + len(scale),
            item.secure_share,
            number_format=_SHARE_FORMAT,
            border=True,
            alignment=_CENTRE,
        )
        row += 1
    return header_row, first, row - 2


def _overview(
    book: SummaryBook,
    framework: Framework,
    history: SchoolHistory,
    trust: str | None,
    png: bytes | None,
) -> None:
    stored = history.current
    ws = book.sheet("Overview")
    subtitle = (
        f"{framework.title}. Review of {_fmt_date(stored.review_date)}; "
        f"judgements by: {_judge_label(stored.judge)}."
    )
    row = _title(ws, f"{stored.school}: {framework.short_title}", subtitle)
    row = _section(ws, row, "About this return")
    for cover_field in framework.cover:
        value: object = stored.cover.get(cover_field.id, "")
        if cover_field.role == "trust" and not value and trust:
            value = trust
        if cover_field.role == "review_date":
            value = stored.review_date
        put(ws, row, 1, cover_field.label, font=_BOLD, border=True, alignment=_WRAP)
        put(ws, row, 2, value, number_format=_DATE_FORMAT, alignment=_LEFT)
        row += 1
    row += 1
    if not framework.judged:
        put(ws, row, 1, "This form has no judgements: the school's answers are on Responses.")
        _widths(ws, [_AREA_WIDTH, 16, 16, 16, 16])
        _landscape(ws, one_page=True)
        return
    row = _section(ws, row, "Area scores")
    header_row, first, last = _area_table(ws, row, framework, stored)
    row = last + 3
    scale = ordered_scale(framework)
    note = (
        "Score: the mean level of the judged statements ("
        + ", ".join(f"{level.label} {level.score}" for level in scale)
        + "). Statements not judged are left out, never counted as zero."
    )
    put(ws, row, 1, note, font=_SUBTITLE)
    row += 2
    charts.native_radar(
        book.book,
        ws.ws,
        categories=charts.cells(ws.title, first, 1, last, 1),
        series=[charts.column_series(ws.title, 2, header_row, last)],
        scale=framework.scale,
        anchor=(row, 1),
        title="Area scores",
    )
    if png is not None:
        charts.embed_png(ws.ws, png, row, 5)
    _widths(ws, [_AREA_WIDTH, 11, *([12] * len(framework.scale)), 12, 15])
    _landscape(ws, one_page=True)


def _priorities_table(
    ws: SummarySheet,
    row: int,
    framework: Framework,
    stored: StoredReturn,
    levels: Sequence[Level],
    empty: str,
) -> int:
    wanted = {level.code for level in levels}
    found = []
    for order, (sheet, statement) in enumerate(framework.judged_statements()):
        level = level_of(framework, stored.judgements.get(statement.id))
        if level is not None and level.code in wanted:
            found.append((level.score, order, sheet, statement, level))
    found.sort(key=lambda item: (item[0], item[1]))
    row = _header(ws, row, ["Area", "Statement", "Level", "ID", "Evidence / notes"])
    if not found:
        put(ws, row, 1, empty, font=_SUBTITLE)
        return row + 1
    for _, _, sheet, statement, level in found:
        notes = _notes(sheet, statement, stored)
        put(ws, row, 1, sheet.title, border=True, alignment=_WRAP)
        put(ws, row, 2, statement.text, border=True, alignment=_WRAP)
        put(ws, row, 3, level.label, border=True, alignment=_CENTRE, fill=_level_fill(level))
        put(ws, row, 4, statement.id, border=True, alignment=_CENTRE)
        put(ws, row, 5, notes, border=True, alignment=_WRAP)
        _fit_row(ws, row, [(statement.text, 70), (notes, 45), (sheet.title, 28)])
        row += 1
    return row


def _box_section(
    ws: SummarySheet,
    row: int,
    framework: Framework,
    stored: StoredReturn,
    role: str,
    heading: str,
) -> int:
    row = _header(ws, row, ["Area", heading])
    for sheet, boxes in _boxes(framework, role):
        text = _box_text(stored, boxes)
        put(ws, row, 1, sheet.title, border=True, alignment=_WRAP, font=_BOLD)
        put(ws, row, 2, text or "(none written)", border=True, alignment=_WRAP)
        _fit_row(ws, row, [(text, 70), (sheet.title, 26)])
        row += 1
    return row


def _next_steps(book: SummaryBook, framework: Framework, stored: StoredReturn) -> None:
    ws = book.sheet("Next steps")
    row = _title(
        ws,
        f"{stored.school}: next steps",
        f"From the {_judge_label(stored.judge).lower()} of {_fmt_date(stored.review_date)}.",
    )
    if _boxes(framework, "next_steps"):
        row = _section(ws, row, "Next steps the school recorded for each area")
        row = _box_section(ws, row, framework, stored, "next_steps", "Next steps") + 1
    if framework.judged:
        names = " or ".join(level.label for level in priority_levels(framework))
        row = _section(ws, row, f"Priorities: statements judged {names}, lowest first")
        _priorities_table(
            ws, row, framework, stored, priority_levels(framework), f"No statement judged {names}."
        )
    _widths(ws, [28, 70, 14, 9, 45])
    _landscape(ws)


def _strengths(book: SummaryBook, framework: Framework, stored: StoredReturn) -> None:
    ws = book.sheet("Strengths")
    row = _title(
        ws,
        f"{stored.school}: strengths",
        f"From the {_judge_label(stored.judge).lower()} of {_fmt_date(stored.review_date)}.",
    )
    if _boxes(framework, "strengths"):
        row = _section(ws, row, "Strengths the school recorded for each area")
        row = _box_section(ws, row, framework, stored, "strengths", "Strengths") + 1
    if framework.judged:
        top = top_level(framework)
        row = _section(ws, row, f"Statements judged {top.label}")
        _priorities_table(ws, row, framework, stored, [top], f"No statement judged {top.label}.")
    _widths(ws, [28, 70, 14, 9, 45])
    _landscape(ws)


def _progress(book: SummaryBook, framework: Framework, history: SchoolHistory) -> None:
    current, earlier = history.current, history.previous
    assert earlier is not None
    ws = book.sheet("Progress")
    row = _title(
        ws,
        f"{current.school}: progress since {_fmt_date(earlier.review_date)}",
        f"The {_judge_label(earlier.judge).lower()} of {_fmt_date(earlier.review_date)} beside "
        f"the {_judge_label(current.judge).lower()} of {_fmt_date(current.review_date)}.",
    )
    row = _section(ws, row, "Area scores")
    before_label = f"Earlier ({earlier.review_date:%d/%m/%Y})"
    after_label = f"Latest ({current.review_date:%d/%m/%Y})"
    header_row = row
    row = _header(ws, row, ["Area", before_label, after_label, "Change"])
    first = row
    before = [*area_scores(framework, earlier.judgements)]
    after = [*area_scores(framework, current.judgements)]
    before.append(overall_score(framework, earlier.judgements))
    after.append(overall_score(framework, current.judgements))
    for old, new in zip(before, after, strict=True):
        bold = _BOLD if not old.sheet_id else None
        put(ws, row, 1, new.title, border=True, alignment=_WRAP, font=bold)
        _score_cell(ws, row, 2, old.score)
        _score_cell(ws, row, 3, new.score)
        change = None if old.score is None or new.score is None else new.score - old.score
        put(ws, row, 4, change, number_format=_CHANGE_FORMAT, border=True, alignment=_CENTRE)
        row += 1
    last = row - 2
    row += 1
    charts.native_radar(
        book.book,
        ws.ws,
        categories=charts.cells(ws.title, first, 1, last, 1),
        series=[charts.column_series(ws.title, c, header_row, last) for c in (2, 3)],
        scale=framework.scale,
        anchor=(row, 1),
        title="Area scores, both rounds",
    )
    row += 24
    row = _section(ws, row, "Statements whose judgement changed, declines first")
    row = _header(ws, row, ["Area", "Earlier", "Latest", "Change (levels)", "ID", "Statement"])
    changes = []
    for order, (sheet, statement) in enumerate(framework.judged_statements()):
        old_value = earlier.judgements.get(statement.id)
        new_value = current.judgements.get(statement.id)
        old_level, new_level = level_of(framework, old_value), level_of(framework, new_value)
        if old_level == new_level:
            continue
        steps = level_steps(framework, old_value, new_value)
        changes.append((steps or 0, order, sheet, statement, old_level, new_level, steps))
    changes.sort(key=lambda item: (item[0], item[1]))
    if not changes:
        put(ws, row, 1, "No statement's judgement changed.", font=_SUBTITLE)
    for *_, sheet, statement, old_level, new_level, steps in changes:
        put(ws, row, 1, sheet.title, border=True, alignment=_WRAP)
        for column, level in ((2, old_level), (3, new_level)):
            _level_cell(ws, row, column, level)
        put(ws, row, 4, steps, border=True, alignment=_CENTRE, number_format=_STEPS_FORMAT)
        put(ws, row, 5, statement.id, border=True, alignment=_CENTRE)
        put(ws, row, 6, statement.text, border=True, alignment=_WRAP)
        _fit_row(ws, row, [(statement.text, 80), (sheet.title, _AREA_WIDTH)])
        row += 1
    _widths(ws, [_AREA_WIDTH, 16, 16, 14, 9, 80])
    _landscape(ws)


def _comparison(
    book: SummaryBook, framework: Framework, own: StoredReturn, review: StoredReturn
) -> None:
    ws = book.sheet("Self-evaluation vs review")
    reviewer = _judge_label(review.judge)
    rows = []
    for sheet, statement in framework.judged_statements():
        steps = level_steps(
            framework, own.judgements.get(statement.id), review.judgements.get(statement.id)
        )
        rows.append((sheet, statement, steps))
    flagged = sum(1 for *_, steps in rows if steps is not None and abs(steps) >= 1)
    row = _title(
        ws,
        f"{own.school}: self-evaluation beside the review",
        f"Round of {_fmt_date(own.review_date)}: the school's self-evaluation beside the "
        f"{reviewer.lower()}'s judgements. {flagged} statement(s) differ by a level or more "
        "(highlighted): the conversation the review visit is for.",
    )
    row = _section(ws, row, "Area scores")
    row = _header(ws, row, ["Area", "Self-evaluation", reviewer, "Difference"])
    own_scores = [*area_scores(framework, own.judgements), overall_score(framework, own.judgements)]
    review_scores = [
        *area_scores(framework, review.judgements),
        overall_score(framework, review.judgements),
    ]
    for mine, theirs in zip(own_scores, review_scores, strict=True):
        put(
            ws,
            row,
            1,
            mine.title,
            border=True,
            alignment=_WRAP,
            font=None if mine.sheet_id else _BOLD,
        )
        _score_cell(ws, row, 2, mine.score)
        _score_cell(ws, row, 3, theirs.score)
        diff = None if mine.score is None or theirs.score is None else theirs.score - mine.score
        put(ws, row, 4, diff, number_format=_CHANGE_FORMAT, border=True, alignment=_CENTRE)
        row += 1
    row += 1
    row = _section(ws, row, "Every statement")
    row = _header(
        ws,
        row,
        ["Area", "Self-evaluation", reviewer, "Difference (levels)", "Flag", "ID", "Statement"],
    )
    for sheet, statement, steps in rows:
        flag = steps is not None and abs(steps) >= 1
        fill = _FLAG_FILL if flag else None
        put(ws, row, 1, sheet.title, border=True, alignment=_WRAP, fill=fill)
        _level_cell(ws, row, 2, level_of(framework, own.judgements.get(statement.id)))
        _level_cell(ws, row, 3, level_of(framework, review.judgements.get(statement.id)))
        put(
            ws,
            row,
            4,
            steps,
            border=True,
            alignment=_CENTRE,
            number_format=_STEPS_FORMAT,
            fill=fill,
        )
        label = f"Differs by {abs(steps)} level{'s' if abs(steps) > 1 else ''}" if flag else ""
        put(ws, row, 5, label, border=True, alignment=_CENTRE, fill=fill, font=_BOLD)
        put(ws, row, 6, statement.id, border=True, alignment=_CENTRE, fill=fill)
        put(ws, row, 7, statement.text, border=True, alignment=_WRAP, fill=fill)
        _fit_row(ws, row, [(statement.text, 80), (sheet.title, _AREA_WIDTH)])
        row += 1
    _widths(ws, [_AREA_WIDTH, 16, 18, 13, 18, 9, 80])
    _landscape(ws)


def _responses(
    book: SummaryBook, framework: Framework, returns: Sequence[StoredReturn], with_school: bool
) -> int:
    """Every text answer, one per row: tidy, so it filters and pivots. Returns rows written."""
    ws = book.sheet("Responses")
    labels = ["area", "item_id", "item", "question", "answer"]
    if with_school:
        labels = ["school", "urn", *labels]
    for column, label in enumerate(labels, start=1):
        put(ws, 1, column, label, font=_BOLD)
    row = 2
    for stored in returns:
        for sheet in framework.sheets:
            items: list[tuple[str, str, str, str]] = []
            for statement in sheet.statements:
                for column in sheet.columns:
                    text = stored.texts.get(f"{statement.id}.{column.id}", "").strip()
                    if text:
                        items.append((statement.id, statement.text, column.label, text))
            for box in sheet.boxes:
                text = stored.texts.get(box.id, "").strip()
                if text:
                    items.append((box.id, box.label, box.label, text))
            for item_id, item, question, text in items:
                values: list[object] = [sheet.title, item_id, item, question, text]
                if with_school:
                    values = [stored.school, stored.urn, *values]
                for column, value in enumerate(values, start=1):
                    put(ws, row, column, value, alignment=_WRAP)
                row += 1
    widths = [24, 10, 50, 30, 80]
    _widths(ws, [30, 10, *widths] if with_school else widths)
    _freeze(ws, 2, 1)
    _landscape(ws, title_rows=True)
    return row - 2


def data_rows(framework: Framework, stored: StoredReturn, trust: str | None) -> list[list[object]]:
    """The tidy Data rows for one return: one per judged statement, blank when not judged."""
    rows: list[list[object]] = []
    for sheet, statement in framework.judged_statements():
        level = level_of(framework, stored.judgements.get(statement.id))
        rows.append(
            [
                stored.school,
                stored.urn,
                trust,
                stored.template_id,
                stored.template_version,
                stored.review_date,
                sheet.title,
                statement.id,
                statement.text,
                level.label if level else None,
                level.score if level else None,
            ]
        )
    return rows


def _data(book: SummaryBook, framework: Framework, stored: StoredReturn, trust: str | None) -> None:
    """Plain on purpose: trusts build pivot tables and Power Query reports on this sheet."""
    ws = book.sheet("Data")
    for column, label in enumerate(DATA_HEADERS, start=1):
        put(ws, 1, column, label, font=_BOLD)
    rows = data_rows(framework, stored, trust)
    for row, values in enumerate(rows, start=2):
        for column, value in enumerate(values, start=1):
            put(ws, row, column, value, number_format=_DATE_FORMAT if column == 6 else None)
    _widths(ws, [30, 9, 30, 26, 10, 12, 30, 12, 60, 12, 7])
    _freeze(ws, 2, 1)
    ws.ws.autofilter(0, 0, len(rows), len(DATA_HEADERS) - 1)


PROVENANCE_HEADERS = (
    "School",
    "Used for",
    "Judgements by",
    "Review date",
    "File name",
    "SHA-256",
    "Framework version",
    "Arrived at (UTC)",
)


def _provenance(book: SummaryBook, items: Sequence[tuple[StoredReturn, str]]) -> None:
    """Which return every number came from: a trust can trace any figure to a file."""
    ws = book.sheet("Provenance")
    for column, label in enumerate(PROVENANCE_HEADERS, start=1):
        put(ws, 1, column, label, font=_BOLD)
    for row, (stored, purpose) in enumerate(items, start=2):
        values: list[object] = [
            stored.school,
            purpose,
            _judge_label(stored.judge),
            stored.review_date,
            stored.file_name,
            stored.sha256,
            stored.template_version,
            stored.arrived_at,
        ]
        for column, value in enumerate(values, start=1):
            fmt = {4: _DATE_FORMAT, 8: _DATETIME_FORMAT}.get(column)
            put(ws, row, column, value, number_format=fmt)
    _widths(ws, [30, 50, 18, 12, 40, 66, 10, 17])
    _freeze(ws, 2, 1)
    _landscape(ws, title_rows=True)


def _area_labels(framework: Framework) -> list[str]:
    return [sheet.title for sheet in framework.sheets if sheet.judged]


def school_radar_png(framework: Framework, stored: StoredReturn) -> bytes:
    scores = area_scores(framework, stored.judgements)
    return charts.radar_png(
        _area_labels(framework),
        [(_judge_label(stored.judge), [item.score for item in scores])],
        framework.scale,
        title=f"{stored.school}: {framework.short_title}, {_fmt_date(stored.review_date)}",
    )


def build_school_workbook(
    framework: Framework, history: SchoolHistory, trust: str | None
) -> tuple[bytes, bytes | None]:
    """One school's summary of one framework as .xlsx bytes, and its radar PNG (None for a
    text-only form)."""
    current = history.current
    png = school_radar_png(framework, current) if framework.judged else None
    book = SummaryBook()
    _overview(book, framework, history, trust, png)
    if framework.judged or _boxes(framework, "next_steps"):
        _next_steps(book, framework, current)
    if framework.judged or _boxes(framework, "strengths"):
        _strengths(book, framework, current)
    if framework.judged and history.previous is not None:
        _progress(book, framework, history)
    pair = history.comparison
    if framework.judged and pair is not None:
        _comparison(book, framework, *pair)
    _responses(book, framework, [current], with_school=False)
    if framework.judged:
        _data(book, framework, current, trust)
    _provenance(book, history.used())
    return book.to_bytes(f"{current.school}: {framework.short_title}"), png


def write_school_summary(
    outbox: Path, framework: Framework, history: SchoolHistory, trust: str | None
) -> list[Path]:
    """Write (atomically) one school's workbook and radar PNG; returns the paths written."""
    current = history.current
    target = school_summary_path(outbox, trust, current.school, history.urn, framework.id)
    target.parent.mkdir(parents=True, exist_ok=True)
    book, png = build_school_workbook(framework, history, trust)
    written = []
    if png is not None:
        chart = school_chart_path(outbox, trust, current.school, history.urn, framework.id)
        written.append(write_bytes_atomically(png, chart))
    written.insert(0, write_bytes_atomically(book, target))
    return written


# --- the trust summary -------------------------------------------------------------------------
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


_STATUS_ORDER = {"Rejected": 0, "Outstanding": 1, "Returned": 2}


def _utc(moment: datetime) -> datetime:
    """Comparable times: the store's are UTC; one without a zone is taken as UTC too."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


_STATUS_FILLS = {
    "Returned": _fill("D9EAD3"),
    "Outstanding": _fill("FFF2CC"),
    "Rejected": _fill("F4CCCC"),
}


def returns_log(
    framework: Framework,
    members: Sequence[SchoolHistory],
    roster_schools: Sequence[School],
    rejections: Sequence[Rejection],
) -> list[LogEntry]:
    """Every school on the trust's roster or seen in its returns or rejections, with its status:
    returned (when), outstanding, or rejected (with the reason)."""
    by_key_rejections: dict[str, list[Rejection]] = defaultdict(list)
    for rejection in rejections:
        if rejection.template_id not in (None, framework.id) or not rejection.school:
            continue
        by_key_rejections[school_key(rejection.school, rejection.urn)].append(rejection)
    entries: dict[str, LogEntry] = {}
    names: dict[str, tuple[str, str | None]] = {
        school_key(s.name, s.urn): (s.name, s.urn) for s in roster_schools
    }
    for history in members:
        names.setdefault(history.school_key, (history.school, history.urn))
    for rejection_key, items in by_key_rejections.items():
        newest = max(items, key=lambda r: _utc(r.arrived_at))
        names.setdefault(rejection_key, (newest.school or "", newest.urn))
    by_history = {h.school_key: h for h in members}
    for key, (name, urn) in names.items():
        history = by_history.get(key)
        rejected = by_key_rejections.get(key, [])
        last_rejection = max(rejected, key=lambda r: _utc(r.arrived_at)) if rejected else None
        if history is not None:
            newest = history.newest
            current = history.current
            round_ = history.rounds[current.review_date]
            detail = ""
            if last_rejection is not None and _utc(last_rejection.arrived_at) > _utc(
                newest.arrived_at
            ):
                detail = (
                    f"A later file ({last_rejection.file_name}) was rejected on "
                    f"{last_rejection.arrived_at:%d/%m/%Y}: {last_rejection.reason}"
                )
            entries[key] = LogEntry(
                school=history.school,
                urn=history.urn,
                status="Returned",
                when=newest.arrived_at,
                review_date=current.review_date,
                judges=", ".join(_judge_label(j) for j in sorted(round_)),
                detail=detail,
            )
        elif last_rejection is not None:
            entries[key] = LogEntry(
                school=name,
                urn=urn,
                status="Rejected",
                when=last_rejection.arrived_at,
                review_date=None,
                judges="",
                detail=f"{last_rejection.file_name}: {last_rejection.reason}",
            )
        else:
            entries[key] = LogEntry(
                school=name,
                urn=urn,
                status="Outstanding",
                when=None,
                review_date=None,
                judges="",
                detail="",
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

    def __post_init__(self) -> None:
        self.members = sorted(self.members, key=lambda h: (h.school.casefold(), h.school_key))
        if self.framework.judged:
            self.scores = [area_scores(self.framework, h.current.judgements) for h in self.members]
            self.averages = trust_area_means(self.framework, self.scores)


def _area_scores_sheet(book: SummaryBook, data: TrustData) -> None:
    framework = data.framework
    ws = book.sheet("Area scores")
    areas = _area_labels(framework)
    labels = ["School", *areas, "Review date", "Judgements by", "URN"]
    _header(ws, 1, labels)
    row = 2
    for history, scores in zip(data.members, data.scores, strict=True):
        current = history.current
        put(ws, row, 1, history.school, border=True, alignment=_WRAP)
        for offset, item in enumerate(scores):
            _score_cell(ws, row, 2 + offset, item.score)
        put(ws, row, 2 + len(areas), current.review_date, number_format=_DATE_FORMAT, border=True)
        put(ws, row, 3 + len(areas), _judge_label(current.judge), border=True)
        put(ws, row, 4 + len(areas), history.urn, border=True)
        row += 1
    put(ws, row, 1, "Trust average", font=_BOLD, border=True, fill=_BAND_FILL)
    for offset, value in enumerate(data.averages):
        _score_cell(ws, row, 2 + offset, value, font=_BOLD)
    scale = ordered_scale(framework)
    ws.ws.conditional_format(
        1,
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
        "A school's area score is the mean level of its judged statements (blanks left out).",
        "The trust average is the mean of the schools' scores: each school weighs the same.",
        "Where a reviewer judged a school's latest round, the reviewer's judgements are used.",
    )
    for offset, note in enumerate(notes, start=2):
        put(ws, row + offset, 1, note, font=_SUBTITLE)
    _widths(ws, [34, *([16] * len(areas)), 12, 18, 9])
    _fit_row(ws, 1, [(title, 12) for title in areas])  # bold header text runs wider
    _freeze(ws, 2, 2)
    _landscape(ws, title_rows=True)


def _heat_map(book: SummaryBook, data: TrustData) -> None:
    framework = data.framework
    ws = book.sheet("Statement heat map")
    statements = list(framework.judged_statements())
    put(ws, 1, 1, "School", font=_HEADER, fill=_HEADER_FILL, border=True)
    for offset, (sheet, statement) in enumerate(statements):
        put(ws, 1, 2 + offset, statement.id, font=_HEADER, fill=_HEADER_FILL, alignment=_ROTATED)
        ws.ws.write_comment(
            0,
            1 + offset,
            clean_text(f"{sheet.title}\n{statement.text}"),
            {"author": "sheet-tools", "width": 320, "height": 160},
        )
    fills = {level.code: _level_fill(level) for level in framework.scale}
    row = 2
    for history in data.members:
        judgements = history.current.judgements
        put(ws, row, 1, history.school, border=True)
        for offset, (_, statement) in enumerate(statements):
            level = level_of(framework, judgements.get(statement.id))
            if level is None:
                put(ws, row, 2 + offset, None, border=True)
                continue
            put(
                ws,
                row,
                2 + offset,
                level.code,
                fill=fills[level.code],
                border=True,
                alignment=_CENTRE,
            )
        row += 1
    row += 1
    put(ws, row, 1, "Key (hover over a statement id for its text)", font=_BOLD)
    for level in ordered_scale(framework):
        row += 1
        put(ws, row, 1, f"{level.code}: {level.label} ({level.score})", fill=fills[level.code])
    _widths(ws, [34, *([5] * len(statements))])
    ws.ws.set_row(0, 42)
    _freeze(ws, 2, 2)
    _landscape(ws, title_rows=True)


def statement_priorities(data: TrustData) -> list[dict[str, object]]:
    """Statements across the trust, weakest first: lowest mean level, then the smallest share
    Secure or better, then the framework's order."""
    framework = data.framework
    threshold = secure_threshold(framework)
    result = []
    for order, (sheet, statement) in enumerate(framework.judged_statements()):
        scores = [
            statement_score(framework, h.current.judgements, statement.id) for h in data.members
        ]
        judged = [s for s in scores if s is not None]
        counts = {
            level.code: sum(1 for s in judged if s == level.score) for level in framework.scale
        }
        share = sum(1 for s in judged if s >= threshold) / len(judged) if judged else None
        result.append(
            {
                "order": order,
                "area": sheet.title,
                "id": statement.id,
                "statement": statement.text,
                "mean": mean(judged),
                "judged": len(judged),
                "counts": counts,
                "share": share,
            }
        )
    result.sort(
        key=lambda p: (
            p["mean"] is None,
            p["mean"] if p["mean"] is not None else 0,
            p["share"] if p["share"] is not None else 0,
            p["order"],
        )
    )
    return result


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
        "Secure or better",
    ]
    _header(ws, 1, labels)
    for row, item in enumerate(statement_priorities(data), start=2):
        put(ws, row, 1, row - 1, border=True, alignment=_CENTRE)
        put(ws, row, 2, item["area"], border=True, alignment=_WRAP)
        put(ws, row, 3, item["statement"], border=True, alignment=_WRAP)
        put(ws, row, 4, item["id"], border=True, alignment=_CENTRE)
        _score_cell(ws, row, 5, item["mean"])
        put(ws, row, 6, item["judged"], border=True, alignment=_CENTRE)
        counts = item["counts"]
        assert isinstance(counts, dict)
        for offset, level in enumerate(scale):
            put(ws, row, 7 + offset, counts[level.code], border=True, alignment=_CENTRE)
        put(
            ws,
            row,
            7 + len(scale),
            item["share"],
            number_format=_SHARE_FORMAT,
            border=True,
            alignment=_CENTRE,
        )
        _fit_row(ws, row, [(str(item["statement"]), 70), (str(item["area"]), 26)])
    _widths(ws, [6, 26, 70, 8, 10, 10, *([11] * len(scale)), 11])
    _freeze(ws, 2, 1)
    _landscape(ws, title_rows=True)


_CHARTS_PER_ROW = 2
_CHART_ROWS = 22
_CHART_COLUMNS = (1, 4)  # A and D


def _radar_sheet(book: SummaryBook, data: TrustData) -> None:
    """The trust average beside each school: a table (schools as rows, like Area scores), then
    one chart per school, two to a printed page."""
    framework = data.framework
    ws = book.sheet("Radar charts")
    areas = _area_labels(framework)
    _header(ws, 1, ["School", *areas])
    put(ws, 2, 1, "Trust average", font=_BOLD, border=True, fill=_BAND_FILL)
    for offset, value in enumerate(data.averages):
        _score_cell(ws, 2, 2 + offset, value, font=_BOLD)
    for index, (history, scores) in enumerate(zip(data.members, data.scores, strict=True)):
        row = 3 + index
        put(ws, row, 1, history.school, border=True)
        for offset, item in enumerate(scores):
            _score_cell(ws, row, 2 + offset, item.score)
    last_column = 1 + len(areas)
    categories = charts.cells(ws.title, 1, 2, 1, last_column)
    top = 4 + len(data.members)
    breaks = []
    for index, history in enumerate(data.members):
        row = top + (index // _CHARTS_PER_ROW) * _CHART_ROWS
        if index % _CHARTS_PER_ROW == 0:
            breaks.append(row - 1)
        school_row = 3 + index
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
                    charts.cells(ws.title, 2, 1),
                    charts.cells(ws.title, 2, 2, 2, last_column),
                ),
            ],
            scale=framework.scale,
            anchor=(row, _CHART_COLUMNS[index % _CHARTS_PER_ROW]),
            title=history.school,
            width_cm=13.5,
            height_cm=10.5,
        )
    ws.ws.set_h_pagebreaks(breaks)
    _widths(ws, [34, *([16] * len(areas))])
    _fit_row(ws, 1, [(title, 12) for title in areas])  # bold header text runs wider
    _landscape(ws)


def _collated_next_steps(book: SummaryBook, data: TrustData) -> None:
    framework = data.framework
    ws = book.sheet("Next steps")
    _header(ws, 1, ["Area", "School", "Next steps"])
    row = 2
    for sheet, boxes in _boxes(framework, "next_steps"):
        for history in data.members:
            text = _box_text(history.current, boxes)
            if not text:
                continue
            put(ws, row, 1, sheet.title, border=True, alignment=_WRAP)
            put(ws, row, 2, history.school, border=True, alignment=_WRAP)
            put(ws, row, 3, text, border=True, alignment=_WRAP)
            _fit_row(ws, row, [(text, 90), (history.school, 28), (sheet.title, 28)])
            row += 1
    if row == 2:
        put(ws, row, 1, "No school has written next steps yet.", font=_SUBTITLE)
    _widths(ws, [28, 30, 90])
    _freeze(ws, 2, 1)
    _landscape(ws, title_rows=True)


def _returns_log_sheet(book: SummaryBook, data: TrustData) -> None:
    ws = book.sheet("Returns log")
    labels = ["School", "URN", "Status", "Date", "Review date", "Judgements by", "Detail"]
    _header(ws, 1, labels)
    fills = _STATUS_FILLS
    for row, entry in enumerate(data.log, start=2):
        put(ws, row, 1, entry.school, border=True, alignment=_WRAP)
        put(ws, row, 2, entry.urn, border=True, alignment=_TOP)
        put(
            ws,
            row,
            3,
            entry.status,
            border=True,
            fill=fills[entry.status],
            font=_BOLD,
            alignment=_TOP,
        )
        put(ws, row, 4, entry.when, number_format=_DATE_FORMAT, border=True, alignment=_TOP)
        put(ws, row, 5, entry.review_date, number_format=_DATE_FORMAT, border=True, alignment=_TOP)
        put(ws, row, 6, entry.judges, border=True, alignment=_WRAP)
        put(ws, row, 7, entry.detail, border=True, alignment=_WRAP)
        _fit_row(ws, row, [(entry.detail, 70)])
    counts = {status: sum(1 for e in data.log if e.status == status) for status in _STATUS_ORDER}
    row = len(data.log) + 3
    put(
        ws,
        row,
        1,
        f"{counts['Returned']} returned, {counts['Outstanding']} outstanding, "
        f"{counts['Rejected']} rejected.",
        font=_BOLD,
    )
    _widths(ws, [34, 9, 13, 12, 12, 30, 70])
    _freeze(ws, 2, 1)
    ws.ws.autofilter(0, 0, len(data.log), 6)
    _landscape(ws, title_rows=True)


def build_trust_workbook(data: TrustData) -> bytes:
    """A trust's consolidated workbook of one framework, as .xlsx bytes."""
    framework = data.framework
    book = SummaryBook()
    if framework.judged and data.members:
        _area_scores_sheet(book, data)
        _heat_map(book, data)
        _priorities_sheet(book, data)
        _radar_sheet(book, data)
    if _boxes(framework, "next_steps"):
        _collated_next_steps(book, data)
    if not framework.judged:
        _responses(book, framework, [h.current for h in data.members], with_school=True)
    _returns_log_sheet(book, data)
    _provenance(book, [(h.current, "Trust roll-up (latest round)") for h in data.members])
    return book.to_bytes(f"{data.name or NO_TRUST}: {framework.short_title}")


def write_trust_summary(outbox: Path, data: TrustData) -> Path:
    target = trust_summary_path(outbox, data.name, data.framework.id)
    target.parent.mkdir(parents=True, exist_ok=True)
    return write_bytes_atomically(build_trust_workbook(data), target)


def _rejection_trust(rejection: Rejection, roster: dict[str, School]) -> str:
    """The trust a rejected file belongs to: the roster's for its school, else the one it names."""
    if rejection.school:
        listed = roster.get(school_key(rejection.school, rejection.urn))
        if listed is not None and listed.trust:
            return trust_key(listed.trust)
    return trust_key(rejection.trust)


# --- rebuilding --------------------------------------------------------------------------------
# Below this many workbooks a rebuild runs in-process; above it, on every core, since each
# workbook is independent and a full rebuild of a large workspace is thousands of them.
PARALLEL_MIN_JOBS = 24

# ("school", (outbox, framework, history, trust)) or ("trust", (outbox, trust data))
Job = tuple[str, tuple]


def _write_jobs(jobs: Sequence[Job]) -> list[Path]:
    written: list[Path] = []
    for kind, args in jobs:
        if kind == "school":
            written.extend(write_school_summary(*args))
        else:
            written.append(write_trust_summary(*args))
    return written


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _run_jobs(jobs: Sequence[Job], workers: int | None) -> list[Path]:
    """Write the workbooks, in worker processes when there are many. Workers are spawned, not
    forked: the watcher that calls this runs threads."""
    count = min(workers if workers is not None else _cpus(), 8)
    if count <= 1 or len(jobs) < PARALLEL_MIN_JOBS:
        return _write_jobs(jobs)
    # small chunks, so no core idles at the end while another finishes a long one
    size = max(1, len(jobs) // (count * 32))
    chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    context = multiprocessing.get_context("spawn")
    written: list[Path] = []
    with ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
        for paths in pool.map(_write_jobs, chunks):
            written.extend(paths)
    return written


def summarise_returns(
    returns: Iterable[StoredReturn],
    registry: Registry,
    outbox: Path | str,
    *,
    roster: Iterable[School] | None = None,
    rejections: Sequence[Rejection] = (),
    schools: Collection[tuple[str, str]] | None = None,
    trusts: Collection[tuple[str, str]] | None = None,
    workers: int | None = None,
) -> list[Path]:
    """Write summaries from plain data. ``schools`` ((template id, school key)) and ``trusts``
    ((template id, trust key)) limit what is written; None writes everything. ``returns`` must
    hold every return of each school and trust written. ``workers``: processes to write with
    (default: one per core, used only for large rebuilds). Returns the paths written: trust
    workbooks first, then each school's workbook and picture."""
    outbox = Path(outbox)
    roster_list = list(roster or ())
    on_roster = roster_by_key(roster_list)
    school_jobs: list[Job] = []
    members: dict[tuple[str, str], list[tuple[SchoolHistory, str | None]]] = defaultdict(list)
    for (template_id, key), history in sorted(histories(returns).items()):
        framework = _framework_for(registry, history.current)
        if framework is None:
            continue
        trust = effective_trust(history, on_roster)
        members[(template_id, trust_key(trust))].append((history, trust))
        if schools is None or (template_id, key) in schools:
            school_jobs.append(("school", (outbox, framework, history, trust)))
    roster_trusts = {trust_key(s.trust): s.trust for s in roster_list if s.trust}
    # each trust's roster, grouped once: a roster lists thousands of schools in hundreds of trusts
    roster_of: dict[str, list[School]] = defaultdict(list)
    for listed in roster_list:
        roster_of[trust_key(listed.trust)].append(listed)
    rejection_trusts = [(r, _rejection_trust(r, on_roster)) for r in rejections]
    trust_jobs: list[Job] = []
    for tkey in sorted(members):
        template_id, key = tkey
        framework = registry.get(template_id)
        if framework is None or (trusts is not None and tkey not in trusts):
            continue
        in_trust = [history for history, _ in members[tkey]]
        # the roster's spelling of the trust, else the one the latest return used
        name = (
            roster_trusts.get(key)
            or max(members[tkey], key=lambda item: (item[0].newest.arrived_at, item[0].newest.id))[
                1
            ]
        )
        member_keys = {h.school_key for h in in_trust}
        trust_rejections = [
            r
            for r, its_trust in rejection_trusts
            if its_trust == key or (r.school and school_key(r.school, r.urn) in member_keys)
        ]
        on_list = roster_of.get(key, [])
        log = returns_log(framework, in_trust, on_list, trust_rejections)
        data = TrustData(framework=framework, name=name, members=in_trust, log=log)
        trust_jobs.append(("trust", (outbox, data)))
    return _run_jobs([*trust_jobs, *school_jobs], workers)


def summarise_all(
    store: Store,
    registry: Registry,
    outbox: Path | str,
    roster: Iterable[School] | None = None,
    *,
    workers: int | None = None,
) -> list[Path]:
    """Rebuild every school and trust summary from the store (``sheet-tools summarise``)."""
    return summarise_returns(
        store.returns(),
        registry,
        outbox,
        roster=roster,
        rejections=store.rejections(),
        workers=workers,
    )


def summarise_affected(
    store: Store,
    registry: Registry,
    outbox: Path | str,
    affected: Iterable[tuple[str, str, str | None]],
    roster: Iterable[School] | None = None,
) -> list[Path]:
    """Rebuild only what new returns change: each (template id, school key, trust) names a
    school whose summary is redrawn, and its trust whose consolidated workbook is redrawn."""
    roster_list = list(roster or ())
    on_roster = roster_by_key(roster_list)
    schools: set[tuple[str, str]] = set()
    trusts: set[tuple[str, str]] = set()
    trust_queries: set[tuple[str, str]] = set()
    for template_id, key, trust in affected:
        schools.add((template_id, key))
        listed = on_roster.get(key)
        effective = listed.trust if listed is not None and listed.trust else trust
        trusts.add((template_id, trust_key(effective)))
        for name in {trust, effective}:
            if name:
                trust_queries.add((template_id, name))
    if not schools:
        return []
    found: dict[int, StoredReturn] = {}

    def gather(items: Iterable[StoredReturn]) -> None:
        for stored in items:
            found[stored.id] = stored

    for template_id, key in schools:
        gather(store.returns(template_id, school_key=key))
    for template_id, name in trust_queries:
        gather(store.returns(template_id, trust=name))
    for template_id, tkey in trusts:
        if not tkey:  # returns naming no trust cannot be asked for by name
            gather(s for s in store.returns(template_id) if not trust_key(s.trust))
    for template_id, tkey in trusts:
        for school in roster_list:
            if trust_key(school.trust) == tkey:
                gather(store.returns(template_id, school_key=school_key(school.name, school.urn)))
    # The trust query finds the returns naming the trust; each member's other returns (an
    # earlier round that named the trust differently, say) complete its history.
    seen_keys = {(s.template_id, s.school_key) for s in found.values()}
    for template_id, key in seen_keys - schools:
        gather(store.returns(template_id, school_key=key))
    return summarise_returns(
        found.values(),
        registry,
        outbox,
        roster=roster_list,
        rejections=store.rejections(),
        schools=schools,
        trusts=trusts,
    )


ROSTER_NAMES = ("roster.csv", "roster.xlsx")


class SummariseError(Exception):
    """Summaries could not be built; the message says why in plain words."""


def workspace_roster(root: Path | str) -> list[School] | None:
    """The workspace's roster (``roster.csv`` or ``roster.xlsx``), or None when it has none."""
    for name in ROSTER_NAMES:
        path = Path(root) / name
        if path.is_file():
            try:
                return read_roster(path)
            except GenerateError as exc:
                raise SummariseError(str(exc)) from None
    return None


def summarise_workspace(
    root: Path | str,
    registry: Registry,
    *,
    outbox: Path | str | None = None,
    roster: Path | str | None = None,
    workers: int | None = None,
) -> list[Path]:
    """``sheet-tools summarise``: rebuild every summary from the workspace's database into its
    outbox, listing outstanding schools from the roster (given, else the workspace's own)."""
    space = Workspace.at(root, outbox=outbox)
    if not space.database.is_file():
        raise SummariseError(
            f"no returns database at {space.database}: ingest some returns first "
            "(sheet-tools ingest or sheet-tools watch)"
        )
    if roster is not None:
        try:
            schools = read_roster(roster)
        except (GenerateError, OSError) as exc:
            raise SummariseError(str(exc)) from None
    else:
        schools = workspace_roster(space.root)
    space.outbox.mkdir(parents=True, exist_ok=True)
    try:
        with Store(space.database) as store:
            return summarise_all(store, registry, space.outbox, schools, workers=workers)
    except StoreError as exc:
        raise SummariseError(str(exc)) from None
