"""What every sheet of a generated workbook shares: its styles (built once), cells for input and
for ids, titles, headers, protection and print setup, and the date drop-down's validation."""

from __future__ import annotations

import math
from collections.abc import Iterable

from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from ..base.text import clean_text, looks_like_formula
from ..definitions import cell_layout

# --- styles, built once ------------------------------------------------------------------------
INPUT_FILL = PatternFill("solid", start_color="FFFFFF", end_color="FFFFFF")
LOCKED_FILL = PatternFill("solid", start_color="F2F2F2", end_color="F2F2F2")
HEADER_FILL = PatternFill("solid", start_color="1F4E79", end_color="1F4E79")
THIN = Side(style="thin", color="A6A6A6")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
LEFT_TOP = Alignment(horizontal="left", vertical="top", wrap_text=True)
CENTRE = Alignment(horizontal="center", vertical="top", wrap_text=True)
TITLE_FONT = Font(bold=True, size=14, color="1F4E79")
SUBTITLE_FONT = Font(italic=True, size=10, color="404040")
HEADER_FONT = Font(bold=True, color="FFFFFF")
LABEL_FONT = Font(bold=True)
ID_FONT = Font(size=8, color="808080")
UNLOCKED = Protection(locked=False)

ID_WIDTH = 9
STATEMENT_WIDTH = 70
JUDGEMENT_WIDTH = 16
POINTS_PER_LINE = 15


# --- cells and sheets ----------------------------------------------------------------------------
def put(ws: Worksheet, row: int, column: int, value: object = None) -> Cell:
    """Write one cell of an issued workbook: every cell the generator writes goes through here.
    Text is stored as a string whatever it starts with (openpyxl would make "=Review TA" a
    formula, which LibreOffice shows as Err:509): school text is data. Formula-like text keeps
    Excel's quote prefix, so it shows as typed and stays text when the school edits it."""
    cell = ws.cell(row=row, column=column)
    if isinstance(value, str):
        value = clean_text(value)
        cell.value = value
        cell.data_type = "s"
        if looks_like_formula(value):
            cell.quotePrefix = True
    else:
        cell.value = value
    return cell


def row_height(text: str, width: int) -> float:
    """Row height that shows wrapped text in full (Excel does not re-fit rows when opening)."""
    chars_per_line = max(width - 2, 8)
    lines = sum(max(1, math.ceil(len(part) / chars_per_line)) for part in text.split("\n"))
    return max(1, lines) * POINTS_PER_LINE + 3


def protect(ws: Worksheet) -> None:
    """Protect without a password; people may still resize rows and columns to read long text."""
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.selectLockedCells = False
    ws.protection.selectUnlockedCells = False


def print_setup(ws: Worksheet, title_rows: str | None) -> None:
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    if title_rows:
        ws.print_title_rows = title_rows


def print_only_first_row(ws: Worksheet, last_column: int) -> None:
    """A sheet for programs prints as one page of its first row (what the sheet is and what it
    is for), never the rows a program reads."""
    print_setup(ws, None)
    ws.print_area = f"A1:{get_column_letter(last_column)}1"
    ws.page_setup.fitToHeight = 1


def input_cell(ws: Worksheet, row: int, column: int, value: object = None) -> None:
    cell = put(ws, row, column, value)
    cell.protection = UNLOCKED
    cell.fill = INPUT_FILL
    cell.border = BOX
    cell.alignment = WRAP_TOP


def id_cell(ws: Worksheet, row: int, value: str) -> None:
    cell = put(ws, row, cell_layout.ID_COL, value)
    cell.font = ID_FONT
    cell.alignment = WRAP_TOP


def sheet_title(ws: Worksheet, title: str, subtitle: str, last_column: int) -> None:
    put(ws, cell_layout.TITLE_ROW, 2, title).font = TITLE_FONT
    put(ws, cell_layout.TITLE_ROW + 1, 2, subtitle).font = SUBTITLE_FONT
    ws.cell(row=cell_layout.TITLE_ROW + 1, column=2).alignment = WRAP_TOP
    if last_column > 2:
        ws.merge_cells(start_row=2, start_column=2, end_row=2, end_column=last_column)
    width = STATEMENT_WIDTH + 40
    ws.row_dimensions[cell_layout.TITLE_ROW + 1].height = row_height(subtitle, width)


def header_row(ws: Worksheet, labels: Iterable[str]) -> None:
    for column, label in enumerate(labels, start=1):
        cell = put(ws, cell_layout.HEADER_ROW, column, label)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = CENTRE if column > 1 else WRAP_TOP
        cell.border = BOX


def date_validation(title: str, example: str) -> DataValidation:
    """A date cell: any date after 1 January 2000 (36526 in Excel's day numbers)."""
    return DataValidation(
        type="date",
        operator="greaterThan",
        formula1="36526",
        allow_blank=True,
        showInputMessage=True,
        promptTitle=title,
        prompt=f"A date, e.g. {example}.",
        showErrorMessage=True,
        errorTitle="Not a date",
        error=f"Please type a date as day/month/year, e.g. {example}.",
    )
