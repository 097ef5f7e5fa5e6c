"""The cover sheet: the workbook's title and instructions, then one row per cover field (school,
URN, trust, dates, names), each with its help and a drop-down or check where one fits, prefilled
from the roster, the issue and the earlier round; then the judgement scale as a key."""

from __future__ import annotations

from openpyxl.styles import PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from ..definitions import cell_layout
from ..definitions.carried import Carried
from ..definitions.frameworks import (
    NOT_APPLICABLE_CODE,
    NOT_APPLICABLE_COLOUR,
    NOT_APPLICABLE_LABEL,
    CoverField,
    Framework,
)
from ..definitions.roster import School
from ..definitions.rounds import judge_label
from .issue import Issued
from .style import (
    ID_WIDTH,
    LABEL_FONT,
    LEFT_TOP,
    SUBTITLE_FONT,
    TITLE_FONT,
    WRAP_TOP,
    date_validation,
    header_row,
    id_cell,
    input_cell,
    print_setup,
    protect,
    put,
    row_height,
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


def _required(framework: Framework, field: CoverField, issued: Issued | None) -> bool:
    """Whether a blank field rejects the return, as validate and identity judge it: a field
    marked required, and "Judgements made by" when the workbook is issued to no role and the
    form is not a reviewer's (nothing else says whose judgements they are)."""
    if field.required or field.role in ("school", "review_date"):
        return True
    asks = field.role == "judge" and not framework.reviewer_form
    return asks and (issued is None or issued.judge is None)


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
    if field.role == "review_date" and issued is not None and issued.visit_date is not None:
        return issued.visit_date
    if school is None:
        return None
    if field.role == "school":
        return school.name
    if field.role == "urn" and school.urn:
        return int(school.urn)
    if field.role == "trust":
        return school.trust
    return None


def write_cover(
    ws: Worksheet,
    framework: Framework,
    school: School | None,
    issued: Issued | None,
    carried: Carried | None = None,
) -> None:
    ws.title = cell_layout.COVER_SHEET
    ws.column_dimensions["A"].width = ID_WIDTH
    ws.column_dimensions["B"].width = 28
    ws.column_dimensions["C"].width = 45
    ws.column_dimensions["D"].width = 50
    put(ws, 1, 2, framework.title).font = TITLE_FONT
    ws.merge_cells("B1:D1")
    ws.row_dimensions[1].height = row_height(framework.title, 90) + 4
    put(ws, 2, 2, framework.instructions).alignment = WRAP_TOP
    ws.merge_cells("B2:D2")
    ws.row_dimensions[2].height = row_height(framework.instructions, 118)
    header_row(ws, [cell_layout.ID_HEADER, "Field", "Your answer", "Help"])
    validations: dict[str, DataValidation] = {}
    row = cell_layout.FIRST_ROW
    for field in framework.cover:
        id_cell(ws, row, field.id)
        label = field.label + (" (required)" if _required(framework, field, issued) else "")
        label_cell = put(ws, row, cell_layout.COVER_LABEL_COL, label)
        label_cell.font = LABEL_FONT
        label_cell.alignment = WRAP_TOP
        input_cell(ws, row, cell_layout.COVER_VALUE_COL, _prefill(field, school, issued, carried))
        ws.cell(row=row, column=cell_layout.COVER_VALUE_COL).alignment = LEFT_TOP
        if field.kind == "date":
            ws.cell(row=row, column=cell_layout.COVER_VALUE_COL).number_format = "dd/mm/yyyy"
        help_cell = put(ws, row, cell_layout.COVER_HELP_COL, field.help or None)
        help_cell.alignment = WRAP_TOP
        help_cell.font = SUBTITLE_FONT
        ws.row_dimensions[row].height = max(row_height(field.help, 50), 20)
        validation = _cover_validation(field)
        if validation is not None:
            key = f"{field.kind}:{field.id}"
            validations[key] = validation
            ws.add_data_validation(validation)
            validation.add(ws.cell(row=row, column=cell_layout.COVER_VALUE_COL).coordinate)
        row += 1
    if framework.judged:
        row += 1
        put(ws, row, 2, "Judgement scale").font = LABEL_FONT
        for level in framework.scale:
            row += 1
            put(ws, row, 2, f"{level.label} ({level.code})").fill = PatternFill(
                "solid", start_color=level.colour, end_color=level.colour
            )
        if framework.not_applicable:
            row += 1
            text = f"{NOT_APPLICABLE_LABEL} ({NOT_APPLICABLE_CODE}), not scored"
            put(ws, row, 2, text).fill = PatternFill(
                "solid", start_color=NOT_APPLICABLE_COLOUR, end_color=NOT_APPLICABLE_COLOUR
            )
    ws.freeze_panes = ws.cell(row=cell_layout.FIRST_ROW, column=1)
    protect(ws)
    print_setup(ws, None)
