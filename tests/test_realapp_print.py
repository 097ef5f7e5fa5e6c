"""What schools and trusts print: the reference summaries and a generated workbook, converted to
PDF by LibreOffice and read back with pdftotext, as a trust's director of SEND would read them.
Only LibreOffice's printing can be tried here; Excel's cannot."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.realapp import (
    libreoffice_to_pdf,
    pdf_page_texts,
    pdf_summary,
    require_libreoffice,
    require_pdftotext,
)
from tests.support.reference_cases import build_summaries, tiny_workbook

pytestmark = [pytest.mark.realapp, pytest.mark.slow]

# Page bounds: one page per sheet of the reference summaries as they stand (the school's has 8
# sheets, the trust's 9, the tiny workbook 5), with room for one sheet running onto a second.
BOUNDS = {"school-summary.xlsx": (8, 9), "trust-summary.xlsx": (9, 10), "tiny.xlsx": (5, 6)}


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    require_libreoffice()
    require_pdftotext()
    folder = tmp_path_factory.mktemp("printed")
    files = {**build_summaries(), "tiny.xlsx": tiny_workbook()}
    pages: dict[str, list[str]] = {}
    for name, data in files.items():
        if name not in BOUNDS:
            continue
        path = folder / name
        path.write_bytes(data)
        pdf = libreoffice_to_pdf(path, folder)
        pages[name] = pdf_page_texts(pdf)
        low, high = BOUNDS[name]
        assert low <= pdf_summary(pdf).pages <= high, (name, pdf_summary(pdf).pages)
    return pages


def test_every_page_carries_its_footer_and_no_cell_shows_hashes(printed) -> None:
    for name, footer in (
        ("school-summary.xlsx", "Oakfield Primary School, Autumn 2026 round"),
        ("trust-summary.xlsx", "Northern Lights Learning Trust, Autumn 2026 round"),
    ):
        pages = printed[name]
        for number, page in enumerate(pages, start=1):
            assert footer in page, (name, number)
            assert f"Page {number} of {len(pages)}" in page, (name, number)
            assert "###" not in page, (name, number)
    assert not any("###" in page for page in printed["tiny.xlsx"])


def test_column_headers_and_long_texts_print_whole(printed) -> None:
    school = " ".join(printed["school-summary.xlsx"])
    for header in ("Not judged", "Secure or better", "Framework version", "Arrived at (UTC)"):
        assert header in school, header
    trust = " ".join(printed["trust-summary.xlsx"])
    # the rejected school's reason, on the Returns log, word for word
    assert "Hill Top School" in trust
    for statement in (
        "Governors check the impact of SEND provision & funding.",
        'The SENCO has time, training and a voice in decisions "that matter".',
    ):
        assert statement in trust


def test_heat_map_prints_its_statement_key_and_no_mouse_instruction(printed) -> None:
    heat = next(page for page in printed["trust-summary.xlsx"] if "Statement heat map" in page)
    assert "L1: Leaders know the needs of every pupil with SEND." in heat
    assert "T2: Support staff are deployed where they make the most difference." in heat
    assert "Beg: Beginning (1)" in heat
    assert "hover" not in heat


def test_data_and_about_sheets_print_one_page_and_no_data_row(printed) -> None:
    school = printed["school-summary.xlsx"]
    data = [page for page in school if "Data: Oakfield Primary School" in page]
    assert len(data) == 1
    # the header row, never a row of judgements (every data row names the template id)
    assert "statement_id" in data[0] and "reference-review" not in data[0]
    about = [page for page in printed["tiny.xlsx"] if "sheet-tools workbook" in page]
    assert len(about) == 1
    assert "Please do not change this sheet" in about[0]
    for key in ("template_id", "generated_at", "issue_id", "sheet:lead"):
        assert key not in about[0], key


def test_every_table_sheet_prints_its_title_first(printed) -> None:
    """The title in A1 (the GSS checklist) is the first thing on the sheet's first page."""
    for name, whose, sheets in (
        ("school-summary.xlsx", "Oakfield Primary School", ("Responses", "Provenance")),
        (
            "trust-summary.xlsx",
            "Northern Lights Learning Trust",
            ("Area scores", "Priorities", "Radar charts", "Next steps", "Returns log", "Queries"),
        ),
    ):
        starts = [page.lstrip() for page in printed[name]]
        for sheet in sheets:
            title = f"{sheet}: {whose}, Autumn 2026 round"
            assert sum(page.startswith(title) for page in starts) == 1, (name, sheet)


def test_the_radar_charts_first_page_holds_charts_as_well_as_the_table(printed) -> None:
    [page] = [p for p in printed["trust-summary.xlsx"] if "Radar charts:" in p]
    # the table's header names each area once; each of the two charts labels its axes with them
    assert page.count("1. Leadership") == 3 and page.count("2. Teaching") == 3
    assert "Brook Lane Academy" in page and "Trust average" in page


def test_the_weakest_statements_print_as_a_plain_table(printed) -> None:
    overview = printed["trust-summary.xlsx"][0]
    assert "Statement Trust mean Schools judged ID Area" in " ".join(overview.split())
    assert "Governors check the impact of SEND provision & funding." in overview


REASON = (
    "Sent the draft by mistake before the governors' meeting; the final version follows from "
    "the SENCO this week"
)


def test_a_withdrawal_reason_prints_whole(tmp_path: Path, registry, spr) -> None:
    """Provenance lists every correction with its reason: on paper, word for word."""
    from sheet_tools.summarise import school_summary_path, summarise_all
    from tests.test_summarise import SPR, TRUST, Workspace, make_valid

    require_libreoffice()
    require_pdftotext()
    (tmp_path / "ws").mkdir()
    ws = Workspace(tmp_path / "ws")
    ws.add(make_valid(spr, "Oakfield", "140101", TRUST, seed=5))
    draft = ws.add(make_valid(spr, "Oakfield", "140101", TRUST, seed=6))
    found = next(r for r in ws.store.returns() if r.file_name == draft)
    ws.store.withdraw(found.id, REASON, "Trust data manager")
    summarise_all(ws.store, registry, ws.outbox)
    ws.store.close()
    pdf = libreoffice_to_pdf(
        school_summary_path(ws.outbox, TRUST, "Oakfield", "140101", SPR), tmp_path
    )
    text = " ".join(pdf_page_texts(pdf))
    # wrapped in its cell, so other columns' lines interleave: every word, in order, none cut
    printed = text[text.index("Corrections") :]  # pdftotext may join a word to its neighbour
    missing = [word for word in REASON.split() if word not in printed]
    assert not missing, f"the reason is cut: {missing}"
    assert "Withdrawn" in text and "###" not in text
