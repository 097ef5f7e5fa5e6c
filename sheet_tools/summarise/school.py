"""One school's summary workbook: Overview (cover fields, area scores and a native radar chart;
the same chart as a picture goes beside the workbook, for e-mails and slides), Next steps,
Strengths, Progress (when there is an earlier round), Self-evaluation vs review (when both exist
for a round), Responses, Data (one plain row per statement, for pivot tables) and Provenance."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from ..base import clock
from ..base.clock import long_date, uk_date
from ..definitions.frameworks import NOT_APPLICABLE_LABEL, Framework, Level
from ..definitions.rounds import SELF, judge_label
from ..store.facade import Correction, StoredReturn
from . import charts
from .actions import plan_of, school_action_plan
from .cells import (
    AREA_WIDTH,
    BOLD,
    CENTRE,
    CHANGE_FORMAT,
    DATE_FORMAT,
    FLAG_FILL,
    LEFT,
    SHARE_FORMAT,
    STEPS_FORMAT,
    SUBTITLE,
    WRAP,
    SummaryBook,
    SummarySheet,
    fit_row,
    freeze,
    landscape,
    level_cell,
    level_fill,
    machine_sheet,
    put,
    score_cell,
    set_widths,
    write_header,
    write_section,
    write_title,
)
from .queries import queries_sheet, round_returns
from .review import Companions, companions_of, next_steps_section, report_sheet, visits_sheet
from .scores import SchoolHistory, area_scores, level_steps, overall_score
from .sheets import (
    area_labels,
    boxes_with_role,
    provenance_sheet,
    responses_sheet,
    statement_notes,
)
from .voices import author, box_sections, round_voices, sources, voices_sheet

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
    # after the first eleven, which trusts' Power Query steps rely on
    "round",
    "judge",
)


_COUNT_WIDTH = 15
_CHART_ROWS = 23  # rows of 15pt under a chart 11.5 cm tall, and one blank row


def _area_table(
    ws: SummarySheet, row: int, framework: Framework, stored: StoredReturn
) -> tuple[int, int, int]:
    """The area scores table; returns (header row, first area row, last area row)."""
    scale = list(framework.scale)
    extra = [NOT_APPLICABLE_LABEL] if framework.not_applicable else []
    labels = ["Area", "Score", *(level.label for level in scale), *extra, "Not judged"]
    labels.append("Secure or better")
    header_row = row
    row = write_header(ws, row, labels)
    first = row
    items = [(item, None) for item in area_scores(framework, stored.judgements)]
    items.append((overall_score(framework, stored.judgements), BOLD))
    for item, font in items:
        put(ws, row, 1, item.title, font=font, border=True, alignment=WRAP)
        fit_row(ws, row, [(item.title, AREA_WIDTH)])
        score_cell(ws, row, 2, item.score, font=font)
        counts = [item.counts[level.code] for level in scale]
        counts += [item.not_applicable] if extra else []
        for offset, count in enumerate([*counts, item.not_judged]):
            put(ws, row, 3 + offset, count, border=True, alignment=CENTRE)
        put(
            ws,
            row,
            4 + len(counts),
            item.secure_share,
            number_format=SHARE_FORMAT,
            border=True,
            alignment=CENTRE,
        )
        row += 1
    return header_row, first, row - 2


def _overview(
    book: SummaryBook,
    framework: Framework,
    history: SchoolHistory,
    trust: str | None,
) -> None:
    stored = history.current
    ws = book.sheet("Overview")
    whose = "judgements by" if framework.judged else "written by"
    subtitle = (
        f"{framework.title}. {stored.round} round, review of {long_date(stored.review_date)}; "
        f"{whose}: {judge_label(stored.judge)}."
    )
    row = write_title(ws, f"{stored.school}: {framework.short_title}", subtitle)
    row = write_section(ws, row, "About this return")
    put(ws, row, 1, "Review round", font=BOLD, border=True, alignment=WRAP)
    put(ws, row, 2, stored.round, alignment=LEFT)
    row += 1
    for cover_field in framework.cover:
        value: object = stored.cover.get(cover_field.id, "")
        if cover_field.role == "trust" and not value and trust:
            value = trust
        if cover_field.role == "review_date":
            value = stored.review_date
        put(ws, row, 1, cover_field.label, font=BOLD, border=True, alignment=WRAP)
        put(ws, row, 2, value, number_format=DATE_FORMAT, alignment=LEFT)
        row += 1
    row += 1
    if not framework.judged:
        answers = "the school's" if stored.judge == SELF else f"{author(stored)}'s"
        put(ws, row, 1, f"This form has no judgements: {answers} answers are on Responses.")
        set_widths(ws, [AREA_WIDTH, 16, 16, 16, 16])
        landscape(ws, one_page=True)
        return
    row = write_section(ws, row, "Area scores")
    header_row, _, last = _area_table(ws, row, framework, stored)
    row = last + 3
    scale = framework.levels
    note = (
        "Score: the mean level of the judged statements ("
        + ", ".join(f"{level.label} {level.score}" for level in scale)
        + "). Statements not judged are left out, never counted as zero"
        + (
            f", and so are those judged {NOT_APPLICABLE_LABEL}."
            if framework.not_applicable
            else "."
        )
    )
    put(ws, row, 1, note, font=SUBTITLE)
    row += 2
    # the chart's labels are the areas broken into lines, below it, the table's kept whole
    labels_row = row + _CHART_ROWS
    categories = charts.axis_labels(ws, labels_row, area_labels(framework))[0]
    charts.native_radar(
        book.book,
        ws.ws,
        categories=categories,
        series=[charts.column_series(ws.title, 2, header_row, last)],
        scale=framework.scale,
        anchor=(row, 1),
        title="Area scores",
    )
    counted = len(framework.scale) + (1 if framework.not_applicable else 0)
    # wide enough for "Not applicable" and "Secure or better" on one line, in bold
    widths = [AREA_WIDTH, 11, *([_COUNT_WIDTH] * counted), _COUNT_WIDTH, 17]
    set_widths(ws, widths)
    landscape(ws, one_page=True)
    charts.print_above(ws, labels_row, len(widths))


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
        level = framework.level(stored.judgements.get(statement.id))
        if level is not None and level.code in wanted:
            found.append((level.score, order, sheet, statement, level))
    found.sort(key=lambda item: (item[0], item[1]))
    row = write_header(ws, row, ["Area", "Statement", "Level", "ID", "Evidence / notes"])
    if not found:
        put(ws, row, 1, empty, font=SUBTITLE)
        return row + 1
    for _, _, sheet, statement, level in found:
        notes = statement_notes(sheet, statement, stored)
        put(ws, row, 1, sheet.title, border=True, alignment=WRAP)
        put(ws, row, 2, statement.text, border=True, alignment=WRAP)
        put(ws, row, 3, level.label, border=True, alignment=CENTRE, fill=level_fill(level))
        put(ws, row, 4, statement.id, border=True, alignment=CENTRE)
        put(ws, row, 5, notes, border=True, alignment=WRAP)
        fit_row(ws, row, [(statement.text, 70), (notes, 45), (sheet.title, 28)])
        row += 1
    return row


def _next_steps(
    book: SummaryBook,
    framework: Framework,
    voices: list[StoredReturn],
    found: Companions | None,
) -> None:
    stored = voices[-1]
    ws = book.sheet("Next steps")
    row = write_title(
        ws,
        f"{stored.school}: next steps",
        sources(voices),
    )
    if found:
        row = next_steps_section(ws, row, found)
    if boxes_with_role(framework, "next_steps"):
        row = box_sections(ws, row, framework, voices, "next_steps", "Next steps")
    if framework.judged:
        names = " or ".join(level.label for level in framework.priority_levels)
        row = write_section(ws, row, f"Priorities: statements judged {names}, lowest first")
        _priorities_table(
            ws, row, framework, stored, framework.priority_levels, f"No statement judged {names}."
        )
    set_widths(ws, [28, 70, 14, 9, 45])
    landscape(ws)


def _strengths(book: SummaryBook, framework: Framework, voices: list[StoredReturn]) -> None:
    stored = voices[-1]
    ws = book.sheet("Strengths")
    row = write_title(
        ws,
        f"{stored.school}: strengths",
        sources(voices),
    )
    if boxes_with_role(framework, "strengths"):
        row = box_sections(ws, row, framework, voices, "strengths", "Strengths")
    if framework.judged:
        top = framework.top_level
        row = write_section(ws, row, f"Statements judged {top.label}")
        _priorities_table(ws, row, framework, stored, [top], f"No statement judged {top.label}.")
    set_widths(ws, [28, 70, 14, 9, 45])
    landscape(ws)


def _progress(book: SummaryBook, framework: Framework, history: SchoolHistory) -> None:
    current, earlier = history.current, history.previous
    assert earlier is not None
    ws = book.sheet("Progress")
    row = write_title(
        ws,
        f"{current.school}: progress since {long_date(earlier.review_date)}",
        f"The {judge_label(earlier.judge).lower()} of {long_date(earlier.review_date)} beside "
        f"the {judge_label(current.judge).lower()} of {long_date(current.review_date)}.",
    )
    row = write_section(ws, row, "Area scores")
    before_label = f"Earlier ({uk_date(earlier.review_date)})"
    after_label = f"Latest ({uk_date(current.review_date)})"
    header_row = row
    row = write_header(ws, row, ["Area", before_label, after_label, "Change"])
    before = [*area_scores(framework, earlier.judgements)]
    after = [*area_scores(framework, current.judgements)]
    before.append(overall_score(framework, earlier.judgements))
    after.append(overall_score(framework, current.judgements))
    for old, new in zip(before, after, strict=True):
        bold = BOLD if not old.sheet_id else None
        put(ws, row, 1, new.title, border=True, alignment=WRAP, font=bold)
        score_cell(ws, row, 2, old.score)
        score_cell(ws, row, 3, new.score)
        change = None if old.score is None or new.score is None else new.score - old.score
        put(ws, row, 4, change, number_format=CHANGE_FORMAT, border=True, alignment=CENTRE)
        row += 1
    last = row - 2
    row += 1
    chart_row = row  # the chart is made last, once its labels' block below has a place
    row += 24
    row = write_section(ws, row, "Statements whose judgement changed, declines first")
    row = write_header(ws, row, ["Area", "Earlier", "Latest", "Change (levels)", "ID", "Statement"])
    changes = []
    for order, (sheet, statement) in enumerate(framework.judged_statements()):
        old_value = earlier.judgements.get(statement.id)
        new_value = current.judgements.get(statement.id)
        old_level, new_level = framework.level(old_value), framework.level(new_value)
        old_na, new_na = (
            framework.is_not_applicable(old_value),
            framework.is_not_applicable(new_value),
        )
        if (old_level, old_na) == (new_level, new_na):
            continue
        steps = level_steps(framework, old_value, new_value)
        was, now = (old_level, old_na), (new_level, new_na)
        changes.append((steps or 0, order, sheet, statement, was, now, steps))
    changes.sort(key=lambda item: (item[0], item[1]))
    if not changes:
        put(ws, row, 1, "No statement's judgement changed.", font=SUBTITLE)
    for *_, sheet, statement, was, now, steps in changes:
        put(ws, row, 1, sheet.title, border=True, alignment=WRAP)
        for column, (level, not_applicable) in ((2, was), (3, now)):
            level_cell(ws, row, column, level, not_applicable=not_applicable)
        put(ws, row, 4, steps, border=True, alignment=CENTRE, number_format=STEPS_FORMAT)
        put(ws, row, 5, statement.id, border=True, alignment=CENTRE)
        put(ws, row, 6, statement.text, border=True, alignment=WRAP)
        fit_row(ws, row, [(statement.text, 80), (sheet.title, AREA_WIDTH)])
        row += 1
    # the chart's labels are the areas broken into lines, at the foot; the table's kept whole
    labels_row = row + 2
    charts.native_radar(
        book.book,
        ws.ws,
        categories=charts.axis_labels(ws, labels_row, area_labels(framework))[0],
        series=[charts.column_series(ws.title, c, header_row, last) for c in (2, 3)],
        scale=framework.scale,
        anchor=(chart_row, 1),
        title="Area scores, both rounds",
    )
    widths = [AREA_WIDTH, 16, 16, 14, 9, 80]
    set_widths(ws, widths)
    landscape(ws)
    charts.print_above(ws, labels_row, len(widths))


def _comparison(
    book: SummaryBook, framework: Framework, own: StoredReturn, review: StoredReturn
) -> None:
    ws = book.sheet("Self-evaluation vs review")
    reviewer = judge_label(review.judge)
    rows = []
    for sheet, statement in framework.judged_statements():
        steps = level_steps(
            framework, own.judgements.get(statement.id), review.judgements.get(statement.id)
        )
        rows.append((sheet, statement, steps))
    flagged = sum(1 for *_, steps in rows if steps is not None and abs(steps) >= 1)
    row = write_title(
        ws,
        f"{own.school}: self-evaluation beside the review, {own.round}",
        f"{own.round} round: the school's self-evaluation of {long_date(own.review_date)} "
        f"beside the {reviewer.lower()}'s judgements of {long_date(review.review_date)}. "
        f"{flagged} statement(s) differ by a level or more "
        "(highlighted): the conversation the review visit is for.",
    )
    row = write_section(ws, row, "Area scores")
    row = write_header(ws, row, ["Area", "Self-evaluation", reviewer, "Difference"])
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
            alignment=WRAP,
            font=None if mine.sheet_id else BOLD,
        )
        score_cell(ws, row, 2, mine.score)
        score_cell(ws, row, 3, theirs.score)
        diff = None if mine.score is None or theirs.score is None else theirs.score - mine.score
        put(ws, row, 4, diff, number_format=CHANGE_FORMAT, border=True, alignment=CENTRE)
        row += 1
    row += 1
    row = write_section(ws, row, "Every statement")
    row = write_header(
        ws,
        row,
        ["Area", "Self-evaluation", reviewer, "Difference (levels)", "Flag", "ID", "Statement"],
    )
    for sheet, statement, steps in rows:
        flag = steps is not None and abs(steps) >= 1
        fill = FLAG_FILL if flag else None
        put(ws, row, 1, sheet.title, border=True, alignment=WRAP, fill=fill)
        for column, stored in ((2, own), (3, review)):
            value = stored.judgements.get(statement.id)
            na = framework.is_not_applicable(value)
            level_cell(ws, row, column, framework.level(value), not_applicable=na)
        put(
            ws,
            row,
            4,
            steps,
            border=True,
            alignment=CENTRE,
            number_format=STEPS_FORMAT,
            fill=fill,
        )
        label = f"Differs by {abs(steps)} level{'s' if abs(steps) > 1 else ''}" if flag else ""
        put(ws, row, 5, label, border=True, alignment=CENTRE, fill=fill, font=BOLD)
        put(ws, row, 6, statement.id, border=True, alignment=CENTRE, fill=fill)
        put(ws, row, 7, statement.text, border=True, alignment=WRAP, fill=fill)
        fit_row(ws, row, [(statement.text, 80), (sheet.title, AREA_WIDTH)])
        row += 1
    set_widths(ws, [AREA_WIDTH, 16, 18, 13, 18, 9, 80])
    landscape(ws)


def data_rows(framework: Framework, stored: StoredReturn, trust: str | None) -> list[list[object]]:
    """The tidy Data rows for one return: one per judged statement, blank when not judged,
    "Not applicable" without a score where it was judged so."""
    rows: list[list[object]] = []
    for sheet, statement in framework.judged_statements():
        value = stored.judgements.get(statement.id)
        level = framework.level(value)
        label = level.label if level else None
        if level is None and framework.is_not_applicable(value):
            label = NOT_APPLICABLE_LABEL
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
                label,
                level.score if level else None,
                stored.round,
                stored.judge,
            ]
        )
    return rows


def _data(
    book: SummaryBook, framework: Framework, voices: list[StoredReturn], trust: str | None
) -> None:
    """Plain on purpose: trusts build pivot tables and Power Query reports on this sheet. Every
    role's judgements of the round, its ``judge`` column saying whose each row is."""
    stored = voices[-1]
    ws = book.sheet("Data")
    for column, label in enumerate(DATA_HEADERS, start=1):
        put(ws, 1, column, label, font=BOLD)
    rows = [row for voice in voices for row in data_rows(framework, voice, trust)]
    for row, values in enumerate(rows, start=2):
        for column, value in enumerate(values, start=1):
            put(ws, row, column, value, number_format=DATE_FORMAT if column == 6 else None)
    set_widths(ws, [30, 9, 30, 26, 10, 12, 30, 12, 60, 12, 7, 14, 16])
    freeze(ws, 2, 1)
    ws.ws.autofilter(0, 0, len(rows), len(DATA_HEADERS) - 1)
    machine_sheet(
        ws,
        len(DATA_HEADERS),
        f"Data: {stored.school}",
        "One plain row per statement, for pivot tables and Power Query; not for printing "
        "(the other sheets show the same judgements).",
    )


def school_radar_png(framework: Framework, stored: StoredReturn) -> bytes:
    scores = area_scores(framework, stored.judgements)
    return charts.radar_png(
        area_labels(framework),
        [(judge_label(stored.judge), [item.score for item in scores])],
        framework.scale,
        title=f"{stored.school}: {framework.short_title}, {long_date(stored.review_date)}",
    )


def build_school_workbook(
    framework: Framework,
    history: SchoolHistory,
    trust: str | None,
    corrections: Sequence[Correction] = (),
    family: Sequence[tuple[Framework, SchoolHistory]] = (),
    today: date | None = None,
) -> tuple[bytes, bytes | None]:
    """One school's summary of one framework as .xlsx bytes, and its radar PNG (None for a
    text-only form). ``family``: the school's other forms of the same review (the Diagnostic
    Review's report and follow-up visits), shown with the current round."""
    current = history.current
    png = school_radar_png(framework, current) if framework.judged else None
    book = SummaryBook(f"{current.school}, {current.round} round")
    found = companions_of(current.round, list(family)) if family else None
    voices = round_voices(history)
    _overview(book, framework, history, trust)
    if framework.judged or boxes_with_role(framework, "next_steps") or found:
        _next_steps(book, framework, voices, found)
    plan = plan_of(history)
    if plan is not None:
        school_action_plan(book, plan, today or clock.today())
    if framework.judged or boxes_with_role(framework, "strengths"):
        _strengths(book, framework, voices)
    if framework.judged and history.previous is not None:
        _progress(book, framework, history)
    pair = history.comparison
    if framework.judged and pair is not None:
        _comparison(book, framework, *pair)
    voices_sheet(book, framework, voices)
    if found:
        report_sheet(book, current.school, found)
        visits_sheet(book, current.school, found)
    responses_sheet(book, framework, [current], with_school=False)
    if framework.judged:
        _data(book, framework, voices, trust)
    queried = round_returns(history)
    if any(r.warnings for r in queried):
        queries_sheet(book, queried, with_school=False, empty="")
    used = history.used()
    if plan is not None and all(plan.id != item.id for item, _ in used):
        used.append((plan, "Action plan of the latest round"))
    if found:
        used += [
            (r, "Review report of the round") for _, r in ([found.report] if found.report else [])
        ]
        used += [(r, "Follow-up visit of the round") for _, r in found.visits]
    provenance_sheet(book, used, corrections)
    return book.to_bytes(f"{current.school}: {framework.short_title}"), png
