"""The writing primitives every summary sheet uses: styles, formats and ``put``.

Summaries are write-only, so they are written with XlsxWriter, several times faster than openpyxl
at writing new workbooks. Text from schools is written as text cells, never as formulas.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from io import BytesIO

from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook as XlsxWorkbook
from xlsxwriter.worksheet import Worksheet as XlsxWorksheet

from ..base.text import clean_text, looks_like_formula
from ..definitions.frameworks import NOT_APPLICABLE_COLOUR, NOT_APPLICABLE_LABEL, Level

# Summaries are write-only, so they are written with XlsxWriter, several times faster than
# openpyxl at writing new workbooks. A style is a tuple of XlsxWriter format properties; a cell's
# font, fill, alignment, number format and border are merged into one Format, made once per
# workbook for each combination used.
Style = tuple[tuple[str, object], ...]


def _style(**properties: object) -> Style:
    return tuple(sorted(properties.items()))


def fill_style(colour: str) -> Style:
    return _style(pattern=1, bg_color=f"#{colour}")


_BOX: Style = _style(border=1, border_color="#BFBFBF")


HEADER_FILL = fill_style("1F4E79")


BAND_FILL = fill_style("F2F2F2")


FLAG_FILL = fill_style("FFE699")


_TITLE = _style(bold=True, font_size=14, font_color="#1F4E79")


SUBTITLE = _style(italic=True, font_size=10, font_color="#404040")


_SECTION = _style(bold=True, font_size=12, font_color="#1F4E79")


HEADER_FONT = _style(bold=True, font_color="#FFFFFF")


BOLD = _style(bold=True)


WRAP = _style(text_wrap=True, valign="top")


TOP = _style(valign="top")


LEFT = _style(align="left")


CENTRE = _style(align="center", valign="top", text_wrap=True)


ROTATED = _style(rotation=90, align="center")


_QUOTED = _style(quote_prefix=True)


_SCORE_FORMAT = "0.00"


SHARE_FORMAT = "0%"


CHANGE_FORMAT = "+0.00;-0.00;0.00"


STEPS_FORMAT = "+0;-0;0"


DATE_FORMAT = "dd/mm/yyyy"


DATETIME_FORMAT = "dd/mm/yyyy hh:mm"


# What a date or time shows without a format of its own: one format everywhere (03/10/2026).
_PLAIN_DATE_FORMAT = DATE_FORMAT


_PLAIN_DATETIME_FORMAT = DATETIME_FORMAT


_POINTS_PER_LINE = 15


_DEFAULT_WIDTH = 8.43  # Excel's default column width, in characters


AREA_WIDTH = 50


_WORKBOOK_OPTIONS = {
    "in_memory": True,
    # School text is data: never turned into a formula, number or link, whatever it looks like.
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}


_UNMADE = object()


class SummaryBook:
    """An XlsxWriter workbook written to memory, with its formats made once each. ``footer``
    (the school or trust, and the round) is printed at the foot of every page of every sheet."""

    def __init__(self, footer: str = "") -> None:
        self.buffer = BytesIO()
        self.book = XlsxWorkbook(self.buffer, _WORKBOOK_OPTIONS)
        self.formats: dict[tuple, Format | None] = {}
        self.footer = footer
        self.sheets: list[SummarySheet] = []

    def sheet(self, title: str) -> SummarySheet:
        made = SummarySheet(self, self.book.add_worksheet(title), title)
        self.sheets.append(made)
        return made

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
        for sheet in self.sheets:
            sheet.fit_rows()
        self.book.set_properties({"title": clean_text(title), "author": "sheet-tools"})
        self.book.close()
        return self.buffer.getvalue()


@dataclass
class SummarySheet:
    """One worksheet of a summary; rows and columns are numbered from 1, as in Excel.

    XlsxWriter does not fit rows to their text, nor does Excel when it opens a file, so every
    wrapped cell is remembered and, when the workbook is closed, each row is made tall enough
    for its longest wrapped text at its column's width."""

    owner: SummaryBook
    ws: XlsxWorksheet
    title: str
    widths: dict[int, float] = field(default_factory=dict)
    wrapped: dict[int, list[tuple[int, str, bool]]] = field(default_factory=dict)
    heights: dict[int, float] = field(default_factory=dict)

    def fit_rows(self) -> None:
        for row in sorted(set(self.wrapped) | set(self.heights)):
            lines = 1
            for column, text, bold in self.wrapped.get(row, ()):
                width = self.widths.get(column, _DEFAULT_WIDTH)
                lines = max(lines, wrapped_lines(text, width, bold=bold))
            height = max(self.heights.get(row, 0.0), lines * _POINTS_PER_LINE + 2)
            if height > _POINTS_PER_LINE + 2 or row in self.heights:
                self.ws.set_row(row - 1, min(height, 409))


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
        key = (font, fill, alignment, number_format, border, looks_like_formula(value))
        fmt = ws.owner.formats.get(key, _UNMADE)
        if fmt is _UNMADE:
            fmt = ws.owner.format(key)
        if value:
            sheet.write_string(r, c, value, fmt)
            if alignment is not None and ("text_wrap", True) in alignment:
                bold = font is not None and ("bold", True) in font
                ws.wrapped.setdefault(row, []).append((column, value, bold))
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


def put_written(
    ws: SummarySheet, row: int, column: int, text: str, missing: str, *, border: bool = False
) -> None:
    """Someone's written text, wrapped; where they wrote nothing, ``missing`` in grey, so an
    empty box reads as empty rather than as a cell left out."""
    put(
        ws,
        row,
        column,
        text or missing,
        border=border,
        alignment=WRAP,
        font=None if text else SUBTITLE,
    )


def write_title(ws: SummarySheet, title: str, subtitle: str = "") -> int:
    """Title and subtitle in rows 1-2; returns the first free row (4)."""
    put(ws, 1, 1, title, font=_TITLE)
    if subtitle:
        put(ws, 2, 1, subtitle, font=SUBTITLE)
    return 4


TABLE_TOP = 3


def table_title(ws: SummarySheet, about: str) -> int:
    """A1 a title (the sheet's name, whose it is and the round) and A2 what the sheet holds, as
    the GSS accessible-spreadsheet checklist asks of a sheet meant to be read, with the table
    below them; returns the row of the table's header (``TABLE_TOP``)."""
    footer = ws.owner.footer
    put(ws, 1, 1, f"{ws.title}: {footer}" if footer else ws.title, font=_TITLE)
    put(ws, 2, 1, about, font=SUBTITLE)
    return TABLE_TOP


def write_section(ws: SummarySheet, row: int, text: str) -> int:
    put(ws, row, 1, text, font=_SECTION)
    return row + 1


def write_header(ws: SummarySheet, row: int, labels: Sequence[str], first_column: int = 1) -> int:
    for offset, label in enumerate(labels):
        put(
            ws,
            row,
            first_column + offset,
            label,
            font=HEADER_FONT,
            fill=HEADER_FILL,
            alignment=CENTRE if offset else WRAP,
            border=True,
        )
    return row + 1


def set_widths(ws: SummarySheet, widths: Sequence[float]) -> None:
    for index, width in enumerate(widths):
        ws.ws.set_column(index, index, width)
        ws.widths[index + 1] = width


def wrapped_lines(text: str, width: float, *, bold: bool = False) -> int:
    """How many lines ``text`` takes when wrapped at word boundaries in a column ``width``
    characters wide (a width unit is one "0"; most text runs a little narrower, bold wider)."""
    per_line = max(int(width * (1.0 if bold else 1.15)) - 1, 4)
    lines = 0
    for paragraph in text.split("\n"):
        count, used = 1, 0
        for word in paragraph.split():
            if used and used + 1 + len(word) > per_line:
                count, used = count + 1, 0
            while len(word) > per_line:  # a word longer than the line breaks anywhere
                count, word = count + 1, word[per_line:]
            used = used + 1 + len(word) if used else len(word)
        lines += count
    return max(lines, 1)


def fit_row(ws: SummarySheet, row: int, texts: Sequence[tuple[str, float]]) -> None:
    """At least tall enough for the longest of ``texts`` (text, width), besides the wrapped
    cells the row holds, which are fitted when the workbook is closed."""
    lines = max((wrapped_lines(text, width) for text, width in texts if text), default=1)
    if lines > 1:
        ws.heights[row] = max(ws.heights.get(row, 0.0), lines * _POINTS_PER_LINE + 2)


def set_height(ws: SummarySheet, row: int, points: float) -> None:
    ws.heights[row] = points


def footer_text(text: str) -> str:
    """Text for a printed header or footer: "&" starts a code there, so a literal one is "&&"."""
    return clean_text(text).replace("&", "&&")


def landscape(
    ws: SummarySheet,
    title_rows: bool | int = False,
    *,
    one_page: bool = False,
    portrait: bool = False,
) -> None:
    """The print setup of a sheet meant to be read: A4, landscape unless ``portrait``, one page
    wide (and one page tall with ``one_page``), the sheet's name, the book's footer and the page
    number at the foot of every page. ``title_rows`` repeats the rows down to it (True: row 1,
    the header of a sheet whose table starts at the top) on every printed page."""
    if not portrait:
        ws.ws.set_landscape()
    ws.ws.set_paper(9)  # A4
    ws.ws.fit_to_pages(1, 1 if one_page else 0)
    ws.ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    if title_rows:
        ws.ws.repeat_rows(0, 0 if title_rows is True else int(title_rows) - 1)
    left = footer_text(ws.owner.footer)
    ws.ws.set_footer(f"&L&8{left}&C&8{footer_text(ws.title)}&R&8Page &P of &N", {"margin": 0.25})


def machine_sheet(ws: SummarySheet, last_column: int, title: str, purpose: str) -> None:
    """A sheet for programs (pivot tables, Power Query), whose cells stay a plain table from A1:
    printing it gives one page, its ``title`` and ``purpose`` in the page's header above the
    table's header row, never its data rows."""
    ws.ws.print_area(0, 0, 0, last_column - 1)
    landscape(ws, one_page=True)
    ws.ws.set_header(f"&L&12&B{footer_text(title)}&B&10\n{footer_text(purpose)}", {"margin": 0.2})
    ws.ws.set_margins(left=0.4, right=0.4, top=0.9, bottom=0.6)


def freeze(ws: SummarySheet, row: int, column: int) -> None:
    """Freeze the rows above ``row`` and the columns left of ``column``."""
    ws.ws.freeze_panes(row - 1, column - 1)


@functools.cache
def level_fill(level: Level) -> Style:
    return fill_style(level.colour)


NOT_APPLICABLE_FILL = fill_style(NOT_APPLICABLE_COLOUR)


def level_cell(
    ws: SummarySheet, row: int, column: int, level: Level | None, *, not_applicable: bool = False
) -> None:
    """A judgement in words, coloured by its level; "Not applicable" in grey (``not_applicable``,
    as the framework says); "Not judged" when blank."""
    if level is None and not_applicable:
        put(
            ws,
            row,
            column,
            NOT_APPLICABLE_LABEL,
            border=True,
            alignment=CENTRE,
            fill=NOT_APPLICABLE_FILL,
        )
        return
    if level is None:
        put(ws, row, column, "Not judged", border=True, alignment=CENTRE)
        return
    put(ws, row, column, level.label, border=True, alignment=CENTRE, fill=level_fill(level))


def score_cell(
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
        alignment=CENTRE,
    )
