"""Framework definition -> the workbook a school fills in.

Every choice here is for a person using Excel (or LibreOffice, or Google Sheets): drop-downs with
an input message and an error alert, colours by level, protected sheets where only the white input
cells can be edited, sensible widths and print setup, and ids in cells so the return can be read
back whatever application re-saved it.

One part of the output per module: ``style`` (what every sheet shares), ``cover`` (the cover
sheet), ``actions`` (the action plan sheet), ``issue`` (what a workbook is issued for); here the
framework's area sheets, the Lists and About sheets, and putting the workbook together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from .. import __version__
from ..base.clock import iso_stamp, long_date, utc_now
from ..base.files import safe_filename, save_workbook
from ..base.keys import school_key
from ..definitions import cell_layout
from ..definitions.carried import Carried
from ..definitions.frameworks import (
    NOT_APPLICABLE_CODE,
    NOT_APPLICABLE_COLOUR,
    NOT_APPLICABLE_LABEL,
    Framework,
    Sheet,
)
from ..definitions.roster import School
from ..definitions.rounds import Judge, judge_label
from ..exceptions import GenerateError
from .actions import write_action_plan
from .cover import write_cover
from .issue import Issued, issue_for
from .style import (
    BOX,
    CENTRE,
    ID_WIDTH,
    JUDGEMENT_WIDTH,
    LABEL_FONT,
    POINTS_PER_LINE,
    STATEMENT_WIDTH,
    WRAP_TOP,
    header_row,
    id_cell,
    input_cell,
    print_only_first_row,
    print_setup,
    protect,
    put,
    row_height,
    sheet_title,
)


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
def _last_round_header(carried: Carried) -> str:
    """The header: "Last round (Reviewer, Autumn 2026)" when every level is one role's; else
    each cell says whose it is and the header only the round."""
    owner = carried.level_owner()
    said = f"{owner}, {carried.round}" if owner else carried.round
    return f"{cell_layout.LAST_ROUND_HEADER} ({said})"


def _last_round_cell(
    ws: Worksheet, row: int, framework: Framework, carried: Carried, statement_id: str
) -> None:
    """The earlier round's level: locked, grey unless coloured by its level. A statement judged
    Not applicable says so: a blank would read as "not judged". Where the header names no one
    role, the cell names whose level it is ("Secure (reviewer)")."""
    code = carried.levels.get(statement_id)
    level = framework.level(code) if code else None
    if framework.is_not_applicable(code):
        label, colour = NOT_APPLICABLE_LABEL, NOT_APPLICABLE_COLOUR
    else:
        label, colour = (level.label, level.colour) if level else (None, "F2F2F2")
    by = carried.level_by.get(statement_id)
    if label and by and carried.level_owner() is None:
        label = f"{label} ({by.lower()})"
    cell = put(ws, row, cell_layout.LAST_ROUND_COL, label)
    cell.fill = PatternFill("solid", start_color=colour, end_color=colour)
    cell.border = BOX
    cell.alignment = CENTRE


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
    sheet_title(ws, sheet.title, hint, last_column)
    id_cell(ws, cell_layout.TITLE_ROW, sheet.id)
    ws.column_dimensions["A"].width = ID_WIDTH
    ws.column_dimensions[get_column_letter(cell_layout.STATEMENT_COL)].width = STATEMENT_WIDTH
    if sheet.judged:
        ws.column_dimensions[get_column_letter(cell_layout.JUDGEMENT_COL)].width = JUDGEMENT_WIDTH
    if last_round:
        ws.column_dimensions[get_column_letter(cell_layout.LAST_ROUND_COL)].width = JUDGEMENT_WIDTH
    for offset, column in enumerate(sheet.columns):
        ws.column_dimensions[get_column_letter(first_text + offset)].width = column.width

    row = cell_layout.FIRST_ROW
    if sheet.statements:
        labels = [cell_layout.ID_HEADER, sheet.statement_heading]
        if sheet.judged:
            labels.append(cell_layout.JUDGEMENT_HEADER)
        if last_round:
            assert carried is not None
            labels.append(_last_round_header(carried))
        labels.extend(column.label for column in sheet.columns)
        header_row(ws, labels)
        if last_round:  # "Last round (Reviewer, Autumn 2026)" wraps onto two or three lines
            lines = 2 if carried.level_owner() is None else 3
            ws.row_dimensions[cell_layout.HEADER_ROW].height = lines * POINTS_PER_LINE + 3
        for statement in sheet.statements:
            id_cell(ws, row, statement.id)
            text_cell = put(ws, row, cell_layout.STATEMENT_COL, statement.text)
            text_cell.alignment = WRAP_TOP
            text_cell.border = BOX
            if sheet.judged:
                input_cell(ws, row, cell_layout.JUDGEMENT_COL)
                ws.cell(row=row, column=cell_layout.JUDGEMENT_COL).alignment = CENTRE
            if last_round:
                assert carried is not None
                _last_round_cell(ws, row, framework, carried, statement.id)
            for offset in range(len(sheet.columns)):
                input_cell(ws, row, first_text + offset)
            ws.row_dimensions[row].height = max(row_height(statement.text, STATEMENT_WIDTH), 30)
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
        print_setup(ws, f"{cell_layout.HEADER_ROW}:{cell_layout.HEADER_ROW}")
    else:
        print_setup(ws, None)

    box_width = (
        sum(c.width for c in sheet.columns)
        + STATEMENT_WIDTH
        + (JUDGEMENT_WIDTH if sheet.judged else 0)
        + (JUDGEMENT_WIDTH if last_round else 0)
    )
    for box in sheet.boxes:
        row += 1
        label = put(ws, row, cell_layout.BOX_VALUE_COL, box.label)
        label.font = LABEL_FONT
        label.alignment = WRAP_TOP
        ws.row_dimensions[row].height = row_height(box.label, box_width)
        row += 1
        id_cell(ws, row, box.id)
        input_cell(ws, row, cell_layout.BOX_VALUE_COL)
        if last_column > cell_layout.BOX_VALUE_COL:
            for column in range(cell_layout.BOX_VALUE_COL + 1, last_column + 1):
                input_cell(ws, row, column)
            ws.merge_cells(
                start_row=row,
                start_column=cell_layout.BOX_VALUE_COL,
                end_row=row,
                end_column=last_column,
            )
        ws.row_dimensions[row].height = box.lines * POINTS_PER_LINE
        row += 1
    protect(ws)


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
        (cell_layout.KEY_GENERATED, iso_stamp(utc_now())),
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
        rows.append((cell_layout.KEY_CARRIED_FROM, carried.round))
        if framework.judged:
            column = get_column_letter(cell_layout.LAST_ROUND_COL)
            rows.append((cell_layout.KEY_LAST_ROUND_COLUMN, column))
        if carried.action_plan:
            rows.append((cell_layout.KEY_ACTION_PLAN, cell_layout.ACTION_SHEET))
    for row, (key, value) in enumerate(rows, start=1):
        put(ws, row, 1, key).font = LABEL_FONT
        put(ws, row, 2, value).alignment = WRAP_TOP
    print_only_first_row(ws, 2)
    protect(ws)


def _write_lists(ws: Worksheet, framework: Framework) -> None:
    ws.title = cell_layout.LISTS_SHEET
    put(ws, 1, 1, "Judgement").font = LABEL_FONT
    for row, label in enumerate(framework.choices, start=2):
        put(ws, row, 1, label)
    # the drop-down's choices, printed whole on one page, never empty pages after them
    print_setup(ws, None)
    ws.print_area = f"A1:A{len(framework.choices) + 1}"
    ws.page_setup.fitToHeight = 1
    protect(ws)


def build_workbook(
    framework: Framework,
    school: School | None = None,
    issued: Issued | None = None,
    carried: Carried | None = None,
) -> Workbook:
    """The blank (or prefilled) workbook for one school, not yet saved; ``carried`` (the earlier
    round's levels, cover answers and actions) adds the Last round column and the Action plan."""
    wb = Workbook()
    write_cover(wb.active, framework, school, issued, carried)
    lists = wb.create_sheet() if _needs_lists_sheet(framework) else None
    for sheet in framework.sheets:
        _write_area(wb.create_sheet(sheet.sheet_name), framework, sheet, lists, carried)
    if carried is not None and carried.action_plan:
        write_action_plan(wb.create_sheet(), carried)
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
def workbook_filename(framework: Framework, school: School, issued: Issued | None = None) -> str:
    """Whose and which: the school, the form, the role it is issued to and, for a follow-up
    visit issued with its date, the date; so a school's self-evaluation and the reviewer's
    workbook, or two visits, never share a name in one folder."""
    stem = school.name + (f" ({school.urn})" if school.urn else "")
    name = f"{stem} - {framework.id}"
    if issued is not None and issued.judge is not None:
        name += f" - {judge_label(issued.judge).lower()}"
    if issued is not None and issued.visit_date is not None:
        name += f" - visit {long_date(issued.visit_date)}"
    return safe_filename(name)


def already_issued(target: Path) -> GenerateError:
    """A workbook of the same school, form and role is in the folder: perhaps last round's, so
    the way to keep it comes first."""
    return GenerateError(
        f"{target} already exists (a workbook issued earlier, perhaps for another round): give "
        "another --out folder to keep it, or --force to replace it"
    )


def generate_workbook(
    framework: Framework,
    school: School,
    out_dir: Path | str,
    *,
    force: bool = False,
    round_name: str | None = None,
    judge: Judge | None = None,
    visit_date: date | None = None,
    carried: Carried | None = None,
    on_issue: Callable[[School, Issued], None] | None = None,
) -> Path:
    """Write one school's workbook, issued for a round (and a role), into ``out_dir``; with
    ``carried``, it starts from the earlier round's return. ``on_issue`` hears of each workbook
    written (to record it in a workspace)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    issued = issue_for(framework, round_name, judge, visit_date)
    target = out / workbook_filename(framework, school, issued)
    if target.exists() and not force:
        raise already_issued(target)
    path = save_workbook(build_workbook(framework, school, issued, carried), target)
    if on_issue is not None:
        on_issue(school, issued)
    return path


def generate_batch(
    framework: Framework,
    schools: Iterable[School],
    out_dir: Path | str,
    *,
    force: bool = False,
    progress: Callable[[Path], None] | None = None,
    round_name: str | None = None,
    judge: Judge | None = None,
    visit_date: date | None = None,
    carried: Mapping[str, Carried] | None = None,
    on_issue: Callable[[School, Issued], None] | None = None,
) -> list[Path]:
    """Write a workbook for every school; checks every target name before writing any.
    ``carried``: by ``keys.school_key``, what each school's workbook starts from (a school
    without an entry gets the ordinary workbook)."""
    # a bad round, role or visit date is said before any file
    probe = issue_for(framework, round_name, judge, visit_date)
    out = Path(out_dir)
    schools = list(schools)
    names = [workbook_filename(framework, school, probe) for school in schools]
    seen: set[str] = set()
    for school, name in zip(schools, names, strict=True):
        if name.casefold() in seen:
            raise GenerateError(
                f"two schools on the roster would both be written to {name!r} ({school.name}); "
                "give them different names or URNs"
            )
        seen.add(name.casefold())
        if (out / name).exists() and not force:
            raise already_issued(out / name)
    written = []
    for school in schools:
        path = generate_workbook(
            framework,
            school,
            out,
            force=force,
            round_name=round_name,
            judge=judge,
            visit_date=visit_date,
            carried=(carried or {}).get(school_key(school.name, school.urn)),
            on_issue=on_issue,
        )
        written.append(path)
        if progress is not None:
            progress(path)
    return written
