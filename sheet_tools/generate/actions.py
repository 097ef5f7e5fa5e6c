"""The action plan sheet: the earlier round's actions, locked, then blank rows for the school's
own; owner, due date, status and progress note are the school's to fill in."""

from __future__ import annotations

from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from ..definitions import cell_layout
from ..definitions.carried import ACTION_STATUSES, EXTRA_ACTION_ROWS, Action, Carried
from .style import (
    BOX,
    HEADER_FILL,
    HEADER_FONT,
    ID_WIDTH,
    LABEL_FONT,
    LOCKED_FILL,
    WRAP_TOP,
    date_validation,
    header_row,
    id_cell,
    input_cell,
    print_setup,
    protect,
    put,
    row_height,
    sheet_title,
)

ACTION_WIDTHS = (ID_WIDTH, 60, 26, 20, 13, 14, 45)


def _status_validation() -> DataValidation:
    statuses = ", ".join(ACTION_STATUSES)
    return DataValidation(
        type="list",
        formula1='"' + ",".join(ACTION_STATUSES) + '"',
        allow_blank=True,
        showDropDown=False,
        showInputMessage=True,
        promptTitle="Status",
        prompt=f"Choose from the list: {statuses}.",
        showErrorMessage=True,
        errorStyle="stop",
        errorTitle="Not a status",
        error=f"Please choose one of: {statuses}.",
    )


def write_action_plan(ws: Worksheet, carried: Carried) -> None:
    """The earlier round's actions, one locked row each, then blank rows for the school's own;
    owner, due date, status and progress note are the school's to fill in."""
    ws.title = cell_layout.ACTION_SHEET
    last = len(cell_layout.ACTION_HEADERS)
    sheet_title(
        ws,
        f"Action plan (from {carried.round})",
        "The actions agreed in the last round. For each, fill in who owns it, when it is due, "
        "its status (a drop-down) and a note on progress. Add your own actions in the empty "
        "rows at the bottom.",
        last,
    )
    id_cell(ws, cell_layout.TITLE_ROW, cell_layout.ACTION_SHEET_ID)
    for column, width in enumerate(ACTION_WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(column)].width = width
    header_row(ws, cell_layout.ACTION_HEADERS)
    cols = cell_layout.ACTION_COLS
    own = [Action(id=f"S{n:02d}", action="") for n in range(1, EXTRA_ACTION_ROWS + 1)]
    row = cell_layout.FIRST_ROW
    for action in [*carried.actions, *own]:
        id_cell(ws, row, action.id)
        text = action.action
        if not text:  # the school's own: every cell an input
            input_cell(ws, row, cols["action"])
            input_cell(ws, row, cols["area"])
        else:
            for column, value in ((cols["action"], text), (cols["area"], action.area)):
                cell = put(ws, row, column, value or None)
                cell.fill = LOCKED_FILL
                cell.border = BOX
                cell.alignment = WRAP_TOP
        # an earlier action not yet finished keeps what the school wrote about it
        for key in ("owner", "due", "status", "note"):
            input_cell(ws, row, cols[key], getattr(action, key) or None)
        ws.cell(row=row, column=cols["due"]).number_format = "dd/mm/yyyy"
        ws.row_dimensions[row].height = max(row_height(text, ACTION_WIDTHS[1]), 30)
        row += 1
    end = row - 1
    due = get_column_letter(cols["due"])
    dates = date_validation("Due date", "31/03/2027")
    ws.add_data_validation(dates)
    dates.add(f"{due}{cell_layout.FIRST_ROW}:{due}{end}")
    status = get_column_letter(cols["status"])
    statuses = _status_validation()
    ws.add_data_validation(statuses)
    statuses.add(f"{status}{cell_layout.FIRST_ROW}:{status}{end}")
    if carried.noted:
        _write_noted(ws, end + 2, carried)
    ws.freeze_panes = ws.cell(row=cell_layout.FIRST_ROW, column=1)
    print_setup(ws, f"{cell_layout.HEADER_ROW}:{cell_layout.HEADER_ROW}")
    protect(ws)


NOTED_HEADERS = ("Area for development", "Area", "Noted by")


def _write_noted(ws: Worksheet, row: int, carried: Carried) -> None:
    """The earlier round's areas for development under the plan, locked, for context: they
    describe problems, not actions, so column A stays empty and intake never reads them as rows
    of the plan (it reads the plan by the ids in column A)."""
    put(ws, row, 2, f"Areas for development noted in {carried.round} (for context: not actions)")
    ws.cell(row=row, column=2).font = LABEL_FONT
    row += 1
    for offset, label in enumerate(NOTED_HEADERS):
        cell = put(ws, row, 2 + offset, label)
        cell.font, cell.fill, cell.border = HEADER_FONT, HEADER_FILL, BOX
    for note in carried.noted:
        row += 1
        for offset, value in enumerate((note.text, note.area, note.by)):
            cell = put(ws, row, 2 + offset, value)
            cell.fill, cell.border, cell.alignment = LOCKED_FILL, BOX, WRAP_TOP
        ws.row_dimensions[row].height = max(row_height(note.text, ACTION_WIDTHS[1]), 30)
