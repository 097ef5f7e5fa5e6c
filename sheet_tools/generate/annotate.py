"""A rejected return's annotated copy: the school's own workbook with every located problem's
cell highlighted and commented, to send back for correcting.

openpyxl drops the drop-downs Excel stores as x14 extensions, so the judgement lists are rebuilt
from the framework definition with the generator's own validation.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.comments import Comment
from openpyxl.styles import Border, PatternFill, Side
from openpyxl.utils import get_column_letter, range_boundaries

from ..base.files import save_workbook
from ..definitions import cell_layout
from ..definitions.frameworks import Framework
from ..problems.report import FileReport, Issue, Severity
from .workbook import judgement_validation

# Far from every level colour of the scale (light oranges and blues), so a flagged cell stands out.
ERROR_FILL = "FF4D4D"
WARNING_FILL = "FFFF00"
_FLAG_SIDE = Side(style="medium", color="C00000")
_FLAG_BORDER = Border(left=_FLAG_SIDE, right=_FLAG_SIDE, top=_FLAG_SIDE, bottom=_FLAG_SIDE)


def annotate_workbook(source: Path, report: FileReport, framework: Framework, target: Path) -> None:
    """A copy of ``source`` with every located issue's cell filled and commented, and the
    judgement drop-downs rebuilt from the framework (openpyxl drops Excel's x14 validations)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Data Validation extension ... removed"
        book = load_workbook(source)
    notes: dict[tuple[str, str], list[Issue]] = {}
    for issue in report.errors:
        if issue.sheet and issue.cell and issue.sheet in book.sheetnames:
            notes.setdefault((issue.sheet, issue.cell), []).append(issue)
    for (sheet, cell_ref), issues in notes.items():
        try:
            cell = book[sheet][cell_ref]
        except (ValueError, KeyError, IndexError):
            continue
        if not isinstance(cell, Cell):  # a range, or inside a merged block
            continue
        is_error = any(i.severity is Severity.ERROR for i in issues)
        colour = ERROR_FILL if is_error else WARNING_FILL
        cell.fill = PatternFill("solid", start_color=colour, end_color=colour)
        cell.border = _FLAG_BORDER
        text = "\n\n".join(_note(issue) for issue in issues)
        cell.comment = Comment(text, "sheet-tools", width=320, height=160)
    _rebuild_judgement_lists(book, framework)
    save_workbook(book, target)
    shutil.copymode(source, target)  # readable by whoever may read the original


def _note(issue: Issue) -> str:
    if issue.severity is not Severity.ERROR:
        return f"Please check: {issue.message}"
    return f"Must fix: {issue.message}\n{issue.advice}"


def _rebuild_judgement_lists(book: Workbook, framework: Framework) -> None:
    lists = book[cell_layout.LISTS_SHEET] if cell_layout.LISTS_SHEET in book.sheetnames else None
    column = get_column_letter(cell_layout.JUDGEMENT_COL)
    for sheet in framework.sheets:
        if not sheet.judged or sheet.sheet_name not in book.sheetnames:
            continue
        ws = book[sheet.sheet_name]
        ids = {statement.id for statement in sheet.statements}
        cells = [
            f"{column}{row}"
            for row in range(1, ws.max_row + 1)
            if ws.cell(row=row, column=cell_layout.ID_COL).value in ids
        ]
        if not cells:
            continue
        wanted = set(cells)
        ws.data_validations.dataValidation = [
            dv for dv in ws.data_validations.dataValidation if not _covers(dv.sqref, wanted)
        ]
        validation = judgement_validation(framework, lists)
        ws.add_data_validation(validation)
        for cell in cells:
            validation.add(cell)


def _covers(sqref: object, cells: set[str]) -> bool:
    for part in str(sqref).split():
        min_col, min_row, max_col, max_row = range_boundaries(part)
        for row in range(min_row or 1, (max_row or min_row or 1) + 1):
            for col in range(min_col or 1, (max_col or min_col or 1) + 1):
                if f"{get_column_letter(col)}{row}" in cells:
                    return True
    return False
