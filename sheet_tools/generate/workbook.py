"""Framework definition -> the workbook a school fills in.

Every choice here is for a person using Excel (or LibreOffice, or Google Sheets): drop-downs with
an input message and an error alert, colours by level, protected sheets where only the white input
cells can be edited, sensible widths and print setup, and ids in cells so the return can be read
back whatever application re-saved it.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import BaseModel, Field

from .. import __version__
from ..base.files import safe_filename, save_workbook
from ..base.keys import school_key
from ..definitions import cell_layout
from ..definitions.carried import ACTION_STATUSES, EXTRA_ACTION_ROWS, Action, Carried
from ..definitions.frameworks import (
    NOT_APPLICABLE_CODE,
    NOT_APPLICABLE_COLOUR,
    NOT_APPLICABLE_LABEL,
    CoverField,
    Framework,
    Sheet,
)
from ..definitions.roster import School
from ..definitions.rounds import Judge, clean_round, judge_label, round_problem, term_of
from ..exceptions import GenerateError

# --- styles, built once ------------------------------------------------------------------------
_INPUT_FILL = PatternFill("solid", start_color="FFFFFF", end_color="FFFFFF")
_LOCKED_FILL = PatternFill("solid", start_color="F2F2F2", end_color="F2F2F2")
_HEADER_FILL = PatternFill("solid", start_color="1F4E79", end_color="1F4E79")
_THIN = Side(style="thin", color="A6A6A6")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP_TOP = Alignment(wrap_text=True, vertical="top")
_LEFT_TOP = Alignment(horizontal="left", vertical="top", wrap_text=True)
_CENTRE = Alignment(horizontal="center", vertical="top", wrap_text=True)
_TITLE = Font(bold=True, size=14, color="1F4E79")
_SUBTITLE = Font(italic=True, size=10, color="404040")
_HEADER = Font(bold=True, color="FFFFFF")
_LABEL = Font(bold=True)
_ID = Font(size=8, color="808080")
_UNLOCKED = Protection(locked=False)

_ID_WIDTH = 9
_STATEMENT_WIDTH = 70
_JUDGEMENT_WIDTH = 16
_POINTS_PER_LINE = 15


# --- helpers ------------------------------------------------------------------------------------
def _height(text: str, width: int) -> float:
    """Row height that shows wrapped text in full (Excel does not re-fit rows when opening)."""
    chars_per_line = max(width - 2, 8)
    lines = sum(max(1, math.ceil(len(part) / chars_per_line)) for part in text.split("\n"))
    return max(1, lines) * _POINTS_PER_LINE + 3


def _protect(ws: Worksheet) -> None:
    """Protect without a password; people may still resize rows and columns to read long text."""
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.selectLockedCells = False
    ws.protection.selectUnlockedCells = False


def _print_setup(ws: Worksheet, title_rows: str | None) -> None:
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    if title_rows:
        ws.print_title_rows = title_rows


def _input_cell(ws: Worksheet, row: int, column: int, value: object = None) -> None:
    cell = ws.cell(row=row, column=column, value=value)
    cell.protection = _UNLOCKED
    cell.fill = _INPUT_FILL
    cell.border = _BOX
    cell.alignment = _WRAP_TOP


def _id_cell(ws: Worksheet, row: int, value: str) -> None:
    cell = ws.cell(row=row, column=cell_layout.ID_COL, value=value)
    cell.font = _ID
    cell.alignment = _WRAP_TOP


def _title(ws: Worksheet, title: str, subtitle: str, last_column: int) -> None:
    ws.cell(row=cell_layout.TITLE_ROW, column=2, value=title).font = _TITLE
    ws.cell(row=cell_layout.TITLE_ROW + 1, column=2, value=subtitle).font = _SUBTITLE
    ws.cell(row=cell_layout.TITLE_ROW + 1, column=2).alignment = _WRAP_TOP
    if last_column > 2:
        ws.merge_cells(start_row=2, start_column=2, end_row=2, end_column=last_column)
    width = _STATEMENT_WIDTH + 40
    ws.row_dimensions[cell_layout.TITLE_ROW + 1].height = _height(subtitle, width)


def _header(ws: Worksheet, labels: Iterable[str]) -> None:
    for column, label in enumerate(labels, start=1):
        cell = ws.cell(row=cell_layout.HEADER_ROW, column=column, value=label)
        cell.font = _HEADER
        cell.fill = _HEADER_FILL
        cell.alignment = _CENTRE if column > 1 else _WRAP_TOP
        cell.border = _BOX


def _scale_list(framework: Framework) -> str:
    return ",".join(framework.choices)


def _list_source(framework: Framework, lists: Worksheet | None) -> str:
    """An inline list while it fits Excel's 255-character limit, else a range on the Lists sheet."""
    if lists is None:
        return f'"{_scale_list(framework)}"'
    end = len(framework.choices) + 1
    return f"{quote_sheetname(cell_layout.LISTS_SHEET)}!$A$2:$A${end}"


def _needs_lists_sheet(framework: Framework) -> bool:
    return len(_scale_list(framework)) > cell_layout.INLINE_LIST_LIMIT - 2


def judgement_validation(framework: Framework, lists: Worksheet | None) -> DataValidation:
    """The judgement drop-down; public so ingest can rebuild it in an annotated copy."""
    labels = ", ".join(framework.choices)
    return DataValidation(
        type="list",
        formula1=_list_source(framework, lists),
        allow_blank=True,
        showDropDown=False,  # openpyxl's name is inverted: False shows the in-cell arrow
        showInputMessage=True,
        promptTitle="Judgement",
        prompt=f"Choose from the list: {labels}."[:255],
        showErrorMessage=True,
        errorStyle="stop",
        errorTitle="Not a judgement",
        error=f"Please choose one of: {labels}. Leave blank if not yet judged."[:255],
    )


def _colour_rule(colour: str, words: Iterable[str], first_cell: str) -> FormulaRule:
    fill = PatternFill("solid", start_color=colour, end_color=colour)
    tests = ",".join(f'TRIM({first_cell})="{word.replace(chr(34), chr(34) * 2)}"' for word in words)
    return FormulaRule(formula=[f"OR({tests})"], fill=fill)


def _level_colours(ws: Worksheet, framework: Framework, cell_range: str, first_cell: str) -> None:
    """Colour a judgement cell by its level, whether it holds the label or the code; Not
    applicable in a neutral grey."""
    for level in framework.scale:
        rule = _colour_rule(level.colour, (level.label, level.code), first_cell)
        ws.conditional_formatting.add(cell_range, rule)
    if framework.not_applicable:
        words = (NOT_APPLICABLE_LABEL, NOT_APPLICABLE_CODE)
        rule = _colour_rule(NOT_APPLICABLE_COLOUR, words, first_cell)
        ws.conditional_formatting.add(cell_range, rule)


# --- sheets ------------------------------------------------------------------------------------
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


def _cover_validation(field: CoverField) -> DataValidation | None:
    if field.kind == "date":
        return date_validation(field.label, "03/10/2026")
    if field.kind == "choice":
        return DataValidation(
            type="list",
            formula1='"' + ",".join(field.choices) + '"',
            allow_blank=True,
            showInputMessage=True,
            promptTitle=field.label,
            prompt="Choose from the list.",
            showErrorMessage=True,
            errorTitle="Please choose from the list",
            error="Choose one of: " + ", ".join(field.choices) + ".",
        )
    if field.kind == "urn":
        return DataValidation(
            type="whole",
            operator="between",
            formula1="10000",
            formula2="9999999",
            allow_blank=True,
            showInputMessage=True,
            promptTitle="URN",
            prompt="The school's six-digit Unique Reference Number.",
            showErrorMessage=True,
            errorTitle="Not a URN",
            error="A URN is a six-digit number, e.g. 123456.",
        )
    return None


class Issued(BaseModel):
    """What one workbook is issued for, written into its About sheet: the return is matched to
    it first, and what the school types is checked against it."""

    issue_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    round: str
    judge: Judge | None = None  # the role it was issued to; None lets the cover say


def issue_for(framework: Framework, round_name: str | None, judge: Judge | None) -> Issued:
    """A new issue of ``framework``: for ``round_name`` (default: the school term containing
    today) and, for a reviewer's form, always a reviewer's role."""
    name = clean_round(round_name) if round_name is not None else term_of(date.today())
    problem = round_problem(name)
    if problem:
        raise GenerateError(problem)
    if framework.reviewer_form:
        if judge == "self-evaluation":
            raise GenerateError(f"{framework.short_title} is for a reviewer, not the school")
        judge = judge or "external-review"
    return Issued(round=name, judge=judge)


def _prefill(
    field: CoverField,
    school: School | None,
    issued: Issued | None = None,
    carried: Carried | None = None,
) -> object:
    if field.role == "personnel" and carried is not None and carried.cover.get(field.id):
        return carried.cover[field.id]
    if field.role == "judge" and issued is not None and issued.judge is not None:
        label = judge_label(issued.judge)
        return next((c for c in field.choices if c.casefold() == label.casefold()), label)
    if school is None:
        return None
    if field.role == "school":
        return school.name
    if field.role == "urn" and school.urn:
        return int(school.urn)
    if field.role == "trust":
        return school.trust
    return None


def _write_cover(
    ws: Worksheet,
    framework: Framework,
    school: School | None,
    issued: Issued | None,
    carried: Carried | None = None,
) -> None:
    ws.title = cell_layout.COVER_SHEET
    ws.column_dimensions["A"].width = _ID_WIDTH
    ws.column_dimensions["B"].width = 28
    ws.column_dimensions["C"].width = 45
    ws.column_dimensions["D"].width = 50
    ws.cell(row=1, column=2, value=framework.title).font = _TITLE
    ws.merge_cells("B1:D1")
    ws.row_dimensions[1].height = _height(framework.title, 90) + 4
    ws.cell(row=2, column=2, value=framework.instructions).alignment = _WRAP_TOP
    ws.merge_cells("B2:D2")
    ws.row_dimensions[2].height = _height(framework.instructions, 118)
    _header(ws, [cell_layout.ID_HEADER, "Field", "Your answer", "Help"])
    validations: dict[str, DataValidation] = {}
    row = cell_layout.FIRST_ROW
    for field in framework.cover:
        _id_cell(ws, row, field.id)
        label = field.label + (" (required)" if field.required else "")
        label_cell = ws.cell(row=row, column=cell_layout.COVER_LABEL_COL, value=label)
        label_cell.font = _LABEL
        label_cell.alignment = _WRAP_TOP
        _input_cell(ws, row, cell_layout.COVER_VALUE_COL, _prefill(field, school, issued, carried))
        ws.cell(row=row, column=cell_layout.COVER_VALUE_COL).alignment = _LEFT_TOP
        if field.kind == "date":
            ws.cell(row=row, column=cell_layout.COVER_VALUE_COL).number_format = "dd/mm/yyyy"
        help_cell = ws.cell(row=row, column=cell_layout.COVER_HELP_COL, value=field.help or None)
        help_cell.alignment = _WRAP_TOP
        help_cell.font = _SUBTITLE
        ws.row_dimensions[row].height = max(_height(field.help, 50), 20)
        validation = _cover_validation(field)
        if validation is not None:
            key = f"{field.kind}:{field.id}"
            validations[key] = validation
            ws.add_data_validation(validation)
            validation.add(ws.cell(row=row, column=cell_layout.COVER_VALUE_COL).coordinate)
        row += 1
    if framework.judged:
        row += 1
        ws.cell(row=row, column=2, value="Judgement scale").font = _LABEL
        for level in framework.scale:
            row += 1
            ws.cell(row=row, column=2, value=f"{level.label} ({level.code})").fill = PatternFill(
                "solid", start_color=level.colour, end_color=level.colour
            )
        if framework.not_applicable:
            row += 1
            text = f"{NOT_APPLICABLE_LABEL} ({NOT_APPLICABLE_CODE}), not scored"
            ws.cell(row=row, column=2, value=text).fill = PatternFill(
                "solid", start_color=NOT_APPLICABLE_COLOUR, end_color=NOT_APPLICABLE_COLOUR
            )
    ws.freeze_panes = ws.cell(row=cell_layout.FIRST_ROW, column=1)
    _protect(ws)
    _print_setup(ws, None)


def _last_round_cell(ws: Worksheet, row: int, framework: Framework, code: str | None) -> None:
    """The earlier round's level: locked, grey unless coloured by its level."""
    level = framework.level(code) if code else None
    cell = ws.cell(row=row, column=cell_layout.LAST_ROUND_COL, value=level.label if level else None)
    colour = level.colour if level else "F2F2F2"
    cell.fill = PatternFill("solid", start_color=colour, end_color=colour)
    cell.border = _BOX
    cell.alignment = _CENTRE


def _write_area(
    ws: Worksheet,
    framework: Framework,
    sheet: Sheet,
    lists: Worksheet | None,
    carried: Carried | None = None,
) -> None:
    last_round = carried is not None and sheet.judged
    first_text = cell_layout.text_column(sheet.judged, last_round)
    last_column = max(first_text + len(sheet.columns) - 1, cell_layout.STATEMENT_COL)
    hint = sheet.intro or (
        "Choose a judgement from the drop-down for each statement. "
        "White cells are for you to fill in."
        if sheet.judged
        else "White cells are for you to fill in."
    )
    _title(ws, sheet.title, hint, last_column)
    _id_cell(ws, cell_layout.TITLE_ROW, sheet.id)
    ws.column_dimensions["A"].width = _ID_WIDTH
    ws.column_dimensions[get_column_letter(cell_layout.STATEMENT_COL)].width = _STATEMENT_WIDTH
    if sheet.judged:
        ws.column_dimensions[get_column_letter(cell_layout.JUDGEMENT_COL)].width = _JUDGEMENT_WIDTH
    if last_round:
        ws.column_dimensions[get_column_letter(cell_layout.LAST_ROUND_COL)].width = _JUDGEMENT_WIDTH
    for offset, column in enumerate(sheet.columns):
        ws.column_dimensions[get_column_letter(first_text + offset)].width = column.width

    row = cell_layout.FIRST_ROW
    if sheet.statements:
        labels = [cell_layout.ID_HEADER, sheet.statement_heading]
        if sheet.judged:
            labels.append(cell_layout.JUDGEMENT_HEADER)
        if last_round:
            assert carried is not None
            labels.append(f"{cell_layout.LAST_ROUND_HEADER} ({carried.round})")
        labels.extend(column.label for column in sheet.columns)
        _header(ws, labels)
        if last_round:  # "Last round (Autumn 2026)" wraps onto two lines
            ws.row_dimensions[cell_layout.HEADER_ROW].height = 2 * _POINTS_PER_LINE + 3
        for statement in sheet.statements:
            _id_cell(ws, row, statement.id)
            text_cell = ws.cell(row=row, column=cell_layout.STATEMENT_COL, value=statement.text)
            text_cell.alignment = _WRAP_TOP
            text_cell.border = _BOX
            if sheet.judged:
                _input_cell(ws, row, cell_layout.JUDGEMENT_COL)
                ws.cell(row=row, column=cell_layout.JUDGEMENT_COL).alignment = _CENTRE
            if last_round:
                assert carried is not None
                _last_round_cell(ws, row, framework, carried.levels.get(statement.id))
            for offset in range(len(sheet.columns)):
                _input_cell(ws, row, first_text + offset)
            ws.row_dimensions[row].height = max(_height(statement.text, _STATEMENT_WIDTH), 30)
            row += 1
        if sheet.judged:
            last = row - 1
            column = get_column_letter(cell_layout.JUDGEMENT_COL)
            cell_range = f"{column}{cell_layout.FIRST_ROW}:{column}{last}"
            validation = judgement_validation(framework, lists)
            ws.add_data_validation(validation)
            validation.add(cell_range)
            _level_colours(ws, framework, cell_range, f"{column}{cell_layout.FIRST_ROW}")
        ws.freeze_panes = ws.cell(row=cell_layout.FIRST_ROW, column=1)
        _print_setup(ws, f"{cell_layout.HEADER_ROW}:{cell_layout.HEADER_ROW}")
    else:
        _print_setup(ws, None)

    box_width = (
        sum(c.width for c in sheet.columns)
        + _STATEMENT_WIDTH
        + (_JUDGEMENT_WIDTH if sheet.judged else 0)
        + (_JUDGEMENT_WIDTH if last_round else 0)
    )
    for box in sheet.boxes:
        row += 1
        label = ws.cell(row=row, column=cell_layout.BOX_VALUE_COL, value=box.label)
        label.font = _LABEL
        label.alignment = _WRAP_TOP
        ws.row_dimensions[row].height = _height(box.label, box_width)
        row += 1
        _id_cell(ws, row, box.id)
        _input_cell(ws, row, cell_layout.BOX_VALUE_COL)
        if last_column > cell_layout.BOX_VALUE_COL:
            for column in range(cell_layout.BOX_VALUE_COL + 1, last_column + 1):
                _input_cell(ws, row, column)
            ws.merge_cells(
                start_row=row,
                start_column=cell_layout.BOX_VALUE_COL,
                end_row=row,
                end_column=last_column,
            )
        ws.row_dimensions[row].height = box.lines * _POINTS_PER_LINE
        row += 1
    _protect(ws)


def _write_about(
    ws: Worksheet,
    framework: Framework,
    school: School | None,
    issued: Issued | None,
    carried: Carried | None = None,
) -> None:
    """The workbook's identity, as plain cells any application keeps."""
    ws.title = cell_layout.ABOUT_SHEET
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 80
    rows: list[tuple[str, object]] = [
        (
            cell_layout.MARKER,
            "Please do not change this sheet: it tells sheet-tools what this workbook is.",
        ),
        (cell_layout.KEY_TEMPLATE, framework.id),
        (cell_layout.KEY_VERSION, framework.version),
        ("template_title", framework.title),
        (cell_layout.KEY_GENERATED, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("generator", f"sheet-tools {__version__}"),
        (cell_layout.KEY_SCHOOL, school.name if school else None),
        (cell_layout.KEY_URN, school.urn if school and school.urn else None),
        (cell_layout.KEY_TRUST, school.trust if school else None),
        ("source", framework.source or None),
    ]
    if issued is not None:
        rows += [
            (cell_layout.KEY_ISSUE_ID, issued.issue_id),
            (cell_layout.KEY_ROUND, issued.round),
            (cell_layout.KEY_ISSUED_TO, issued.judge),
        ]
    rows += [
        (cell_layout.SHEET_KEY_PREFIX + sheet.id, sheet.sheet_name) for sheet in framework.sheets
    ]
    if carried is not None:
        rows += [
            (cell_layout.KEY_CARRIED_FROM, carried.round),
            (cell_layout.KEY_LAST_ROUND_COLUMN, get_column_letter(cell_layout.LAST_ROUND_COL)),
            (cell_layout.KEY_ACTION_PLAN, cell_layout.ACTION_SHEET),
        ]
    for row, (key, value) in enumerate(rows, start=1):
        ws.cell(row=row, column=1, value=key).font = _LABEL
        ws.cell(row=row, column=2, value=value).alignment = _WRAP_TOP
    _protect(ws)


_ACTION_WIDTHS = (_ID_WIDTH, 60, 26, 20, 13, 14, 45)


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


def _write_action_plan(ws: Worksheet, carried: Carried) -> None:
    """The earlier round's actions, one locked row each, then blank rows for the school's own;
    owner, due date, status and progress note are the school's to fill in."""
    ws.title = cell_layout.ACTION_SHEET
    last = len(cell_layout.ACTION_HEADERS)
    _title(
        ws,
        f"Action plan (from {carried.round})",
        "The actions agreed in the last round. For each, fill in who owns it, when it is due, "
        "its status (a drop-down) and a note on progress. Add your own actions in the empty "
        "rows at the bottom.",
        last,
    )
    _id_cell(ws, cell_layout.TITLE_ROW, cell_layout.ACTION_SHEET_ID)
    for column, width in enumerate(_ACTION_WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(column)].width = width
    _header(ws, cell_layout.ACTION_HEADERS)
    cols = cell_layout.ACTION_COLS
    own = [Action(id=f"S{n:02d}", action="") for n in range(1, EXTRA_ACTION_ROWS + 1)]
    row = cell_layout.FIRST_ROW
    for action in [*carried.actions, *own]:
        _id_cell(ws, row, action.id)
        text = action.action
        if not text:  # the school's own: every cell an input
            _input_cell(ws, row, cols["action"])
            _input_cell(ws, row, cols["area"])
        else:
            for column, value in ((cols["action"], text), (cols["area"], action.area)):
                cell = ws.cell(row=row, column=column, value=value or None)
                cell.fill = _LOCKED_FILL
                cell.border = _BOX
                cell.alignment = _WRAP_TOP
        # an earlier action not yet finished keeps what the school wrote about it
        for key in ("owner", "due", "status", "note"):
            _input_cell(ws, row, cols[key], getattr(action, key) or None)
        ws.cell(row=row, column=cols["due"]).number_format = "dd/mm/yyyy"
        ws.row_dimensions[row].height = max(_height(text, _ACTION_WIDTHS[1]), 30)
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
    ws.freeze_panes = ws.cell(row=cell_layout.FIRST_ROW, column=1)
    _print_setup(ws, f"{cell_layout.HEADER_ROW}:{cell_layout.HEADER_ROW}")
    _protect(ws)


def _write_lists(ws: Worksheet, framework: Framework) -> None:
    ws.title = cell_layout.LISTS_SHEET
    ws.cell(row=1, column=1, value="Judgement").font = _LABEL
    for row, label in enumerate(framework.choices, start=2):
        ws.cell(row=row, column=1, value=label)
    _protect(ws)


def build_workbook(
    framework: Framework,
    school: School | None = None,
    issued: Issued | None = None,
    carried: Carried | None = None,
) -> Workbook:
    """The blank (or prefilled) workbook for one school, not yet saved; ``carried`` (the earlier
    round's levels, cover answers and actions) adds the Last round column and the Action plan."""
    wb = Workbook()
    _write_cover(wb.active, framework, school, issued, carried)
    lists = wb.create_sheet() if _needs_lists_sheet(framework) else None
    for sheet in framework.sheets:
        _write_area(wb.create_sheet(sheet.sheet_name), framework, sheet, lists, carried)
    if carried is not None:
        _write_action_plan(wb.create_sheet(), carried)
    if lists is not None:
        _write_lists(lists, framework)
        wb.move_sheet(lists, offset=len(wb.sheetnames))
    _write_about(wb.create_sheet(), framework, school, issued, carried)
    wb.security = WorkbookProtection(lockStructure=True)
    wb.properties.title = framework.title
    wb.properties.creator = "sheet-tools"
    wb.properties.subject = school.name if school else framework.short_title
    wb.custom_doc_props.append(StringProperty(name=cell_layout.KEY_TEMPLATE, value=framework.id))
    wb.custom_doc_props.append(
        StringProperty(name=cell_layout.KEY_VERSION, value=framework.version)
    )
    return wb


# --- files -------------------------------------------------------------------------------------
def workbook_filename(framework: Framework, school: School) -> str:
    stem = school.name + (f" ({school.urn})" if school.urn else "")
    return safe_filename(f"{stem} - {framework.id}")


def generate_workbook(
    framework: Framework,
    school: School,
    out_dir: Path | str,
    *,
    force: bool = False,
    round_name: str | None = None,
    judge: Judge | None = None,
    carried: Carried | None = None,
) -> Path:
    """Write one school's workbook, issued for a round (and a role), into ``out_dir``; with
    ``carried``, it starts from the earlier round's return."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    target = out / workbook_filename(framework, school)
    if target.exists() and not force:
        raise GenerateError(f"{target} already exists; use --force to replace it")
    issued = issue_for(framework, round_name, judge)
    return save_workbook(build_workbook(framework, school, issued, carried), target)


def generate_batch(
    framework: Framework,
    schools: Iterable[School],
    out_dir: Path | str,
    *,
    force: bool = False,
    progress: Callable[[Path], None] | None = None,
    round_name: str | None = None,
    judge: Judge | None = None,
    carried: Mapping[str, Carried] | None = None,
) -> list[Path]:
    """Write a workbook for every school; checks every target name before writing any.
    ``carried``: by ``carry_key``, what each school's workbook starts from (a school without an
    entry gets the ordinary workbook)."""
    issue_for(framework, round_name, judge)  # a bad round or role is said before any file
    out = Path(out_dir)
    schools = list(schools)
    names = [workbook_filename(framework, school) for school in schools]
    seen: set[str] = set()
    for school, name in zip(schools, names, strict=True):
        if name.casefold() in seen:
            raise GenerateError(
                f"two schools on the roster would both be written to {name!r} ({school.name}); "
                "give them different names or URNs"
            )
        seen.add(name.casefold())
        if (out / name).exists() and not force:
            raise GenerateError(f"{out / name} already exists; use --force to replace it")
    written = []
    for school in schools:
        path = generate_workbook(
            framework,
            school,
            out,
            force=force,
            round_name=round_name,
            judge=judge,
            carried=(carried or {}).get(school_key(school.name, school.urn)),
        )
        written.append(path)
        if progress is not None:
            progress(path)
    return written
