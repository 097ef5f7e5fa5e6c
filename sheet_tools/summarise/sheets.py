"""What both workbooks share: reading text answers from a return, the Responses sheet and the
Provenance sheet."""

from __future__ import annotations

from collections.abc import Sequence

from ..definitions.frameworks import Framework, Sheet, Statement
from ..definitions.rounds import judge_label
from ..store.facade import Correction, StoredReturn
from .cells import (
    BOLD,
    DATE_FORMAT,
    DATETIME_FORMAT,
    WRAP,
    SummaryBook,
    freeze,
    landscape,
    put,
    set_widths,
    table_title,
)


def boxes_with_role(framework: Framework, role: str) -> list[tuple[Sheet, list]]:
    return [
        (sheet, [box for box in sheet.boxes if box.role == role])
        for sheet in framework.sheets
        if any(box.role == role for box in sheet.boxes)
    ]


def box_text(stored: StoredReturn, boxes: Sequence) -> str:
    parts = [stored.texts.get(box.id, "").strip() for box in boxes]
    return "\n\n".join(p for p in parts if p)


def statement_notes(sheet: Sheet, statement: Statement, stored: StoredReturn) -> str:
    """The free-text columns written beside a statement (evidence, notes)."""
    parts = []
    for column in sheet.columns:
        text = stored.texts.get(f"{statement.id}.{column.id}", "").strip()
        if text:
            parts.append(text if len(sheet.columns) == 1 else f"{column.label}: {text}")
    return "\n".join(parts)


def responses_sheet(
    book: SummaryBook, framework: Framework, returns: Sequence[StoredReturn], with_school: bool
) -> int:
    """Every text answer, one per row: tidy, so it filters and pivots. Returns rows written."""
    ws = book.sheet("Responses")
    top = table_title(
        ws,
        "Every text answer, one to a row, with the area, item and question it answers.",
    )
    labels = ["area", "item_id", "item", "question", "answer"]
    if with_school:
        labels = ["school", "urn", *labels]
    for column, label in enumerate(labels, start=1):
        put(ws, top, column, label, font=BOLD, alignment=WRAP)
    row = top + 1
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
                    put(ws, row, column, value, alignment=WRAP)
                row += 1
    widths = [24, 10, 50, 30, 80]
    set_widths(ws, [30, 10, *widths] if with_school else widths)
    freeze(ws, top + 1, 1)
    landscape(ws, title_rows=top)
    return row - top - 1


PROVENANCE_HEADERS = (
    "School",
    "Used for",
    "Completed by",  # a report or a visit has no judgements
    "Review date",
    "File name",
    "SHA-256",
    "Framework version",
    "Arrived at (UTC)",
)


CORRECTION_HEADERS = ("Corrections", "Return", "File name", "Reason", "By", "At (UTC)")
_ACTIONS = {"withdraw": "Withdrawn", "restore": "Restored"}


def provenance_sheet(
    book: SummaryBook,
    items: Sequence[tuple[StoredReturn, str]],
    corrections: Sequence[Correction] = (),
) -> None:
    """Which return every number came from, and every return withdrawn or restored (who, when,
    why): a trust can trace any figure to a file."""
    ws = book.sheet("Provenance")
    top = table_title(
        ws,
        "The return every figure came from, with its SHA-256; returns withdrawn or restored "
        "are listed below.",
    )
    for column, label in enumerate(PROVENANCE_HEADERS, start=1):
        put(ws, top, column, label, font=BOLD, alignment=WRAP)
    row = top
    for row, (stored, purpose) in enumerate(items, start=top + 1):
        values: list[object] = [
            stored.school,
            purpose,
            judge_label(stored.judge),
            stored.review_date,
            stored.file_name,
            stored.sha256,
            stored.template_version,
            stored.arrived_at,
        ]
        for column, value in enumerate(values, start=1):
            fmt = {4: DATE_FORMAT, 8: DATETIME_FORMAT}.get(column)
            put(ws, row, column, value, number_format=fmt, alignment=WRAP)
    if corrections:
        row += 2
        for column, label in enumerate(CORRECTION_HEADERS, start=1):
            put(ws, row, column, label, font=BOLD, alignment=WRAP)
        for item in corrections:
            row += 1
            values = [
                _ACTIONS[item.action],
                item.return_id,
                item.file_name,
                item.reason,
                item.by_whom,
                item.at,
            ]
            for column, value in enumerate(values, start=1):
                fmt = DATETIME_FORMAT if column == 6 else None
                put(ws, row, column, value, number_format=fmt, alignment=WRAP)
    # every text wraps (a file name, a hash, a reason), so none is cut; the reason of a correction
    # sits under Review date, so that column is wider than a date needs
    set_widths(ws, [28, 26, 16, 22, 30, 34, 11, 17])
    freeze(ws, top + 1, 1)
    landscape(ws, title_rows=top)


def area_labels(framework: Framework) -> list[str]:
    return [sheet.title for sheet in framework.sheets if sheet.judged]
