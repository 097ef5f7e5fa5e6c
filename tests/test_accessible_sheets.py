"""The summary sheets meant to be read follow the UK Government Statistical Service's
accessible-spreadsheet checklist where it fits: a title in A1, no merged cells, no blank row
inside a table. Read straight from the reference summaries' cells (the PDF is
test_realapp_print's); the Data sheet is for Power Query and keeps its header in row 1."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from sheet_tools.summarise import charts
from sheet_tools.summarise.cells import TABLE_TOP
from tests.support.reference_cases import build_summaries

MACHINE_SHEETS = {"Data"}
# the sheets that are one table under their title and a line on what it holds
TABLE_SHEETS = {
    "school-summary.xlsx": {"Responses", "Provenance"},
    "trust-summary.xlsx": {
        "Area scores",
        "Priorities",
        "Radar charts",
        "Next steps",
        "Returns log",
        "Queries",
        "Provenance",
    },
}


@pytest.fixture(scope="module")
def books() -> dict[str, object]:
    return {
        name: load_workbook(io.BytesIO(data))
        for name, data in build_summaries().items()
        if name in TABLE_SHEETS
    }


def reading_sheets(books) -> list[tuple[str, Worksheet]]:
    return [
        (name, ws)
        for name, book in books.items()
        for ws in book.worksheets
        if ws.title not in MACHINE_SHEETS
    ]


def filled(ws: Worksheet, row: int) -> list[int]:
    return [c.column for c in ws[row] if c.value not in (None, "")]


def test_every_reading_sheet_has_its_title_in_a1_and_no_merged_cells(books) -> None:
    sheets = reading_sheets(books)
    assert len(sheets) == 17  # 8 of the school's 9 sheets (all but Data), all 9 of the trust's
    for name, ws in sheets:
        title = ws["A1"].value
        assert isinstance(title, str) and len(title) > 10, (name, ws.title)
        assert ws["A1"].font.b, (name, ws.title)  # a title, not a header cell
        assert not ws.merged_cells.ranges, (name, ws.title, ws.merged_cells.ranges)


def test_a_table_sheet_names_whose_it_is_and_its_header_sits_under_the_title(books) -> None:
    whose = {
        "school-summary.xlsx": "Oakfield Primary School, Autumn 2026 round",
        "trust-summary.xlsx": "Northern Lights Learning Trust, Autumn 2026 round",
    }
    for name, titles in TABLE_SHEETS.items():
        for title in titles:
            ws = books[name][title]
            assert ws["A1"].value == f"{title}: {whose[name]}"
            assert ws["A2"].value and filled(ws, 2) == [1]  # what the sheet holds, in A2
            header = [ws.cell(TABLE_TOP, c).value for c in filled(ws, TABLE_TOP)]
            assert len(header) >= 3 and all(isinstance(h, str) for h in header), (name, title)
            assert ws.cell(TABLE_TOP, 1).font.b, (name, title)
            # the header row repeats on every printed page, and the panes freeze under it (the
            # Radar charts sheet's later pages are charts, under no header)
            if title != "Radar charts":
                assert ws.print_title_rows == f"$1:${TABLE_TOP}", (name, title)
                assert ws.freeze_panes.startswith("A") or ws.freeze_panes.startswith("B")
                assert ws.freeze_panes.endswith(str(TABLE_TOP + 1)), (name, title)


def test_no_blank_row_inside_a_table(books) -> None:
    """A table runs from its header to its first blank row: what follows a blank row is a note
    in column A alone, or a new heading or header (bold), never the table going on."""
    checked = 0
    for name, ws in reading_sheets(books):
        for row in range(2, ws.max_row):
            if filled(ws, row):
                continue
            after = filled(ws, row + 1)
            if not after:
                continue
            first = ws.cell(row + 1, 1)
            continuing = after != [1] and not first.font.b
            assert not continuing, f"{name} {ws.title}: a blank row {row} inside a table"
            checked += 1
    assert checked > 10


def test_the_table_of_a_sheet_is_whole_from_header_to_end(books) -> None:
    """Each table sheet's body has no blank row between its header and its last row."""
    ws = books["trust-summary.xlsx"]["Returns log"]
    body = [filled(ws, r) for r in range(TABLE_TOP + 1, TABLE_TOP + 5)]
    assert all(cells and cells[0] == 1 for cells in body)  # four schools, one to a row
    assert not filled(ws, TABLE_TOP + 5)  # then one blank row before the count line
    assert str(ws.cell(TABLE_TOP + 6, 1).value).startswith("2 returned, 1 outstanding")


def test_the_radar_charts_axis_labels_are_broken_into_lines() -> None:
    label = "2. Assessment, planning, review and outcomes"
    lines = charts.label_lines(label).split("\n")
    assert " ".join(lines) == label
    assert len(lines) > 1 and all(len(line) <= charts.LABEL_WIDTH for line in lines)
    assert charts.label_lines("1. Leadership") == "1. Leadership"


def test_the_trust_overviews_weakest_statements_are_a_plain_table(books) -> None:
    ws = books["trust-summary.xlsx"]["Overview"]
    header = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Statement")
    assert [ws.cell(header, c).value for c in range(1, 6)] == [
        "Statement",
        "Trust mean",
        "Schools judged",
        "ID",
        "Area",
    ]
    statement = ws.cell(header + 1, 1)
    assert statement.value == "Governors check the impact of SEND provision & funding."
    assert statement.alignment.wrap_text
    assert ws.cell(header + 1, 4).value == "L2"


@pytest.mark.parametrize("name", ["school-summary.xlsx", "trust-summary.xlsx"])
def test_the_overview_charts_read_their_axis_labels_broken_into_lines(books, name) -> None:
    """The Overview's charts point at their own block of area names broken into lines, outside
    the print area; the table people read keeps each area name on one unbroken line."""
    ws = books[name]["Overview"]
    assert [type(c).__name__ for c in ws._charts if type(c).__name__ == "RadarChart"] == [
        "RadarChart"
    ]
    refs = {series.cat.strRef.f for chart in ws._charts for series in chart.series}
    [ref] = refs  # the radar and (trust) the level bars share the one block of labels
    sheet, span = ref.rsplit("!", 1)
    assert sheet.strip("'") == "Overview"
    start, end = span.replace("$", "").split(":")
    labels = [row[0].value for row in ws[f"{start}:{end}"]]
    header = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Area")
    areas = [ws.cell(header + 1 + i, 1).value for i in range(len(labels))]
    assert len(labels) >= 2 and all(isinstance(a, str) and "\n" not in a for a in areas)
    assert [label.replace("\n", " ") for label in labels] == areas
    assert labels == [charts.label_lines(area) for area in areas]
    # (the reference framework's names are short: test_overview's real ones are broken)
    assert all(len(line) <= 18 for label in labels for line in label.split("\n"))
    assert ws.cell(ws[start].row - 2, 1).value == "Chart axis labels"
    # printed down to the charts and the tables, not the block that feeds the charts' labels
    printed_to = int(ws.print_area.rsplit("$", 1)[1])
    assert printed_to < ws[start].row - 2
