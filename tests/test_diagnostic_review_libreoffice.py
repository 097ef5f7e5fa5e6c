"""Both voices of the Diagnostic Review through a real application: the school's self-evaluation
and the external reviewer's workbook of one school, each filled in LibreOffice (cover, judgements
chosen from the drop-downs, the written boxes), ingested and summarised through the CLI; the
school summary's Both voices, Strengths and Data sheets read back, each text under its author.

The cells are found from the generated workbook itself (the ID column, the cover's field ids and
the drop-downs' lists), as a person finds them on screen, so the test follows the layout."""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from sheet_tools.definitions import cell_layout
from sheet_tools.definitions.frameworks import Framework, Registry

from .support.realapp import libreoffice_fill, require_libreoffice
from .support.trust import AUTUMN, Trust, run, sheet_rows

MAINSTREAM = "send-review-mainstream"
SCHOOL, URN, TRUST = "St Mary's C of E Primary", "131542", "Faith & Hope Learning Trust"
OWN_DATE, REVIEW_DATE = date(2026, 9, 20), date(2026, 10, 3)
EXCEL_EPOCH = date(1899, 12, 30)
LEADS = ("=", "-", "")  # a leading "=" or "-" must stay text, never become a formula or number


def _generate(out: Path, judge: str) -> Path:
    before = set(out.glob("*.xlsx")) if out.exists() else set()
    output = run(
        "generate", MAINSTREAM, "--school", SCHOOL, "--urn", URN, "--trust", TRUST,
        "--round", AUTUMN, "--judge", judge, "--out", str(out),
    )  # fmt: skip
    assert "Wrote" in output, output
    [path] = set(out.glob("*.xlsx")) - before
    return path


def _row_of(ws: Worksheet, key: str) -> int:
    """The row whose ID column holds ``key`` (a statement, box or cover-field id)."""
    column = cell_layout.ID_COL
    [row] = [c.row for (c,) in ws.iter_rows(min_col=column, max_col=column) if c.value == key]
    return row


def _choices(ws: Worksheet, address: str) -> list[str]:
    """The entries of the drop-down offered at ``address``, as the workbook lists them."""
    [rule] = [dv for dv in ws.data_validations.dataValidation if address in dv.sqref]
    assert rule.type == "list", (ws.title, address, rule.type)
    return rule.formula1.strip('"').split(",")


def _address(column: int, row: int) -> str:
    return f"{get_column_letter(column)}{row}"


def _plan(
    path: Path, form: Framework, author: str, review_date: object, offset: int
) -> tuple[list[tuple[str, str, object]], dict[str, str], dict[str, str]]:
    """One author's edits, found in the generated workbook: the cover, two judgements per area
    chosen from each drop-down, and every written box. Returns the edits, the judgements typed
    by statement id and the texts typed by box id."""
    book = load_workbook(path)
    cover = book[cell_layout.COVER_SHEET]

    def cover_cell(field: str) -> str:
        return _address(cell_layout.COVER_VALUE_COL, _row_of(cover, field))

    [judge] = [c for c in _choices(cover, cover_cell("judge")) if c.startswith(author)]
    edits: list[tuple[str, str, object]] = [
        (cover.title, cover_cell("school"), SCHOOL),
        (cover.title, cover_cell("urn"), int(URN)),  # typed as a number, as LibreOffice keeps it
        (cover.title, cover_cell("trust"), TRUST),
        (cover.title, cover_cell("personnel"), f"Zoë Brontë ({author})"),
        (cover.title, cover_cell("review_date"), review_date),
        (cover.title, cover_cell("judge"), judge),
    ]
    judgements: dict[str, str] = {}
    texts: dict[str, str] = {}
    for sheet in form.sheets:
        ws = book[sheet.sheet_name]
        for index, statement in enumerate(sheet.statements[:2]):
            cell = _address(cell_layout.JUDGEMENT_COL, _row_of(ws, statement.id))
            choices = _choices(ws, cell)
            judgements[statement.id] = choices[(index + offset + len(judgements)) % len(choices)]
            edits.append((ws.title, cell, judgements[statement.id]))
        for box in sheet.boxes:
            lead = LEADS[len(texts) % len(LEADS)]
            texts[box.id] = f"{lead}{author} wrote for {box.id}: café naïveté {len(texts)}"
            cell = _address(cell_layout.BOX_VALUE_COL, _row_of(ws, box.id))
            edits.append((ws.title, cell, texts[box.id]))
    return edits, judgements, texts


def _fill(path: Path, edits: list[tuple[str, str, object]], out: Path) -> Path:
    """Every edit in one LibreOffice run; each lands in an unlocked cell, drop-down values come
    from the cell's own list as LibreOffice read it, and text shows as typed."""
    reports = libreoffice_fill(path, edits, out)
    for (_, _, value), report in zip(edits, reports, strict=True):
        assert not report.locked, report
        if report.validation == "LIST":
            assert report.show_list and str(value) in report.formula, report
        if isinstance(value, str):
            assert report.text == value, report
    return out


def _saved_by_libreoffice(path: Path) -> bool:
    with zipfile.ZipFile(path) as archive:
        return b"<Application>LibreOffice" in archive.read("docProps/app.xml")


def _text_cells(path: Path, sheet: str, texts: set[str]) -> dict[str, str]:
    """The cell type of each of ``texts`` found on a summary sheet: "s" is text, "f" a formula."""
    ws = load_workbook(path)[sheet]
    return {c.value: c.data_type for row in ws.iter_rows() for c in row if c.value in texts}


def _byline_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


@pytest.mark.realapp
def test_both_workbooks_filled_in_libreoffice_keep_both_voices(
    trust: Trust, registry: Registry
) -> None:
    require_libreoffice(uno=True)
    form = registry.latest(MAINSTREAM)
    out = trust.root / "issued" / "review"
    own_book, review_book = _generate(out, "self-evaluation"), _generate(out, "external-reviewer")
    assert own_book.parent == review_book.parent and own_book != review_book
    # the school types its date as text; the reviewer's is a real date cell
    own_edits, own_judged, own_words = _plan(own_book, form, "Self", "20/09/2026", 0)
    serial = (REVIEW_DATE - EXCEL_EPOCH).days
    review_edits, review_judged, review_words = _plan(review_book, form, "External", serial, 1)
    assert set(own_words.values()).isdisjoint(review_words.values())
    assert any(own_judged[s] != review_judged[s] for s in own_judged)
    own = _fill(own_book, own_edits, trust.filled / "own saved by LibreOffice.xlsx")
    review = _fill(review_book, review_edits, trust.filled / "review saved by LibreOffice.xlsx")

    assert _saved_by_libreoffice(own) and _saved_by_libreoffice(review)

    reports = trust.ingest(own, review)
    assert [r["status"] for r in reports] == ["accepted", "accepted"], reports
    trust.summarise()
    [summary] = trust.outbox.rglob(f"* ({URN}) - {MAINSTREAM}.xlsx")

    own_byline = f"The school's self-evaluation, {_byline_date(OWN_DATE)}"
    review_byline = f"External reviewer, {_byline_date(REVIEW_DATE)}"
    rows = sheet_rows(summary, "Both voices")
    headers = [row for row in rows if row[0] in ("", None) and row[1]]
    assert headers and all(row[1:3] == [own_byline, review_byline] for row in headers), headers
    labels = {box.id: box.label for sheet in form.sheets for box in sheet.boxes}
    beside = {(row[0], row[1], row[2]) for row in rows}
    for box, own_text in own_words.items():
        assert (labels[box], own_text, review_words[box]) in beside, box

    written = set(own_words.values()) | set(review_words.values())
    assert _text_cells(summary, "Both voices", written) == dict.fromkeys(written, "s")

    strengths = [(row[0], row[1]) for row in sheet_rows(summary, "Strengths")]
    firsts = [row[0] for row in strengths]
    heading = "Strengths recorded by {} for each area ({})"
    own_at = firsts.index(heading.format("the school", _byline_date(OWN_DATE)))
    review_at = firsts.index(heading.format("the external reviewer", _byline_date(REVIEW_DATE)))
    for sheet in form.sheets:
        for box in sheet.boxes:
            if box.id.endswith(".strengths"):
                assert strengths.index((sheet.title, own_words[box.id])) in range(own_at, review_at)
                assert strengths.index((sheet.title, review_words[box.id])) > review_at

    data = sheet_rows(summary, "Data")
    column = {name: index for index, name in enumerate(data[0])}
    typed = {"self-evaluation": own_judged, "external-review": review_judged}
    held = {
        (row[column["judge"]], row[column["statement_id"]]): row[column["judgement"]]
        for row in data[1:]
    }
    assert {judge for judge, _ in held} == set(typed)
    for judge, judgements in typed.items():
        for statement, label in judgements.items():
            assert held[judge, statement] == label, (judge, statement)
