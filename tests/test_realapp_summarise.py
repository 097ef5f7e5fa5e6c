"""Summary workbooks in a real spreadsheet application: LibreOffice prints them and keeps school
text as text. Skips only where LibreOffice is missing (CI installs it, so there it runs)."""

from __future__ import annotations

import re
import zipfile
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from sheet_tools.summarise import school_summary_path, summarise_all, trust_summary_path
from tests.support.realapp import (
    libreoffice_resave,
    libreoffice_to_pdf,
    pdf_page_texts,
    pdf_summary,
    require_libreoffice,
    require_pdftotext,
)
from tests.test_summarise import SPR, TRUST, Workspace, judgements_for, make_valid

pytestmark = [pytest.mark.realapp, pytest.mark.slow]

INJECTED = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, registry, spr):
    """A trust of three schools; Oakfield has an earlier round and a review beside its
    self-evaluation, so its summary has every sheet. Its next step is a formula-looking text."""
    ws = Workspace(tmp_path_factory.mktemp("realapp-summaries"))
    texts = {"LM.next_steps": INJECTED, "EN.next_steps": "+44 1234 567890 is the SENCO's line"}
    judgements = judgements_for(spr, 7)
    judgements["LM01"] = "Beg"
    ws.add(make_valid(spr, "Oakfield", "140101", TRUST, seed=5, review_date=date(2025, 10, 1)))
    ws.add(make_valid(spr, "Oakfield", "140101", TRUST, judgements=judgements, texts=texts))
    ws.add(
        make_valid(spr, "Oakfield", "140101", TRUST, seed=8, judge="external-review", texts=texts)
    )
    ws.add(make_valid(spr, "Riverside", "140102", TRUST, seed=9))
    ws.add(make_valid(spr, "St Hilda's", "140103", TRUST, seed=10))
    summarise_all(ws.store, registry, ws.outbox)
    ws.store.close()
    return ws


def _chart_and_picture(path: Path) -> tuple[bool, bool]:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        radar = any(
            re.fullmatch(r"xl/charts/chart\d+\.xml", n) and b"radarChart" in archive.read(n)
            for n in names
        )
        picture = any(re.fullmatch(r"xl/media/[^/]+\.png", n) for n in names)
    return radar, picture


def test_libreoffice_prints_the_school_summary(built: Workspace, tmp_path: Path) -> None:
    require_libreoffice()
    require_pdftotext()
    path = school_summary_path(built.outbox, TRUST, "Oakfield", "140101", SPR)
    assert _chart_and_picture(path) == (True, False)  # one radar: the native chart
    pdf = libreoffice_to_pdf(path, tmp_path)
    sheets = load_workbook(path).sheetnames
    assert {"Overview", "Progress", "Self-evaluation vs review", "Data"} <= set(sheets)
    assert pdf_summary(pdf).pages >= len(sheets)
    text = " ".join(pdf_page_texts(pdf))
    assert "Oakfield: Specialist Provision Review" in text
    assert "1. Leadership and management" in text
    # printed as the school wrote it, not run as a formula
    assert 'HYPERLINK("http://evil.example","click")' in text.replace(" ", "")
    assert "+44 1234 567890 is the SENCO's line" in text


def test_libreoffice_prints_the_trust_summary(built: Workspace, tmp_path: Path) -> None:
    require_libreoffice()
    require_pdftotext()
    path = trust_summary_path(built.outbox, TRUST, SPR)
    assert _chart_and_picture(path)[0]
    pdf = libreoffice_to_pdf(path, tmp_path)
    assert pdf_summary(pdf).pages >= len(load_workbook(path).sheetnames)
    text = " ".join(pdf_page_texts(pdf))
    for expected in ("Trust average", "Riverside", "St Hilda's", "Returned"):
        assert expected in text


def test_libreoffice_prints_the_trust_overview_on_one_page(
    built: Workspace, tmp_path: Path
) -> None:
    """The Overview is the first printed page, whole: the returns, the area table and the five
    weakest statements on it, and nothing of it on the next page."""
    require_libreoffice()
    require_pdftotext()
    pdf = libreoffice_to_pdf(trust_summary_path(built.outbox, TRUST, SPR), tmp_path)
    first, second = pdf_page_texts(pdf)[:2]
    for expected in ("Returns received", "Returns expected", "Levels per area", "five weakest"):
        assert expected in first, expected
    assert "Returns received" not in second and "five weakest" not in second


def test_libreoffice_keeps_school_text_as_text(built: Workspace, tmp_path: Path) -> None:
    require_libreoffice()
    for path in (
        school_summary_path(built.outbox, TRUST, "Oakfield", "140101", SPR),
        trust_summary_path(built.outbox, TRUST, SPR),
    ):
        resaved = libreoffice_resave(path, tmp_path / path.name)
        book = load_workbook(resaved)
        cells = [
            cell
            for sheet in book.worksheets
            for row in sheet.iter_rows()
            for cell in row
            if cell.value == INJECTED
        ]
        assert cells, f"the next step is missing from {path.name} after LibreOffice"
        assert all(cell.data_type == "s" for cell in cells)
        with zipfile.ZipFile(resaved) as archive:
            for name in archive.namelist():
                if name.startswith("xl/worksheets/sheet"):
                    xml = archive.read(name)
                    assert not re.search(rb"<f[ >][^<]*HYPERLINK", xml), name
