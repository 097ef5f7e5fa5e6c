"""What a trust prints of the SEND Diagnostic Review: its one trust workbook (Stages, Judgements,
Recommendations, Follow-up actions, Returns log), converted to PDF by LibreOffice and read back
with pdftotext. Every sheet starts with its title, every page names the trust and round and
numbers itself, long recommendations and action points print whole, and no cell shows hashes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from sheet_tools.definitions.frameworks import Registry
from tests.support.realapp import (
    libreoffice_to_pdf,
    pdf_page_texts,
    require_libreoffice,
    require_pdftotext,
)
from tests.support.trust import AUTUMN, Trust, run

pytestmark = [pytest.mark.realapp, pytest.mark.slow]

MAINSTREAM, REPORT, VISIT = "send-review-mainstream", "send-review-report", "send-review-follow-up"
SCHOOL = ("St Aidan's C of E Primary", "140201", "Tyne & Wear Learning Trust")
BOOK = f"{SCHOOL[2]} - send-diagnostic-review - trust summary.xlsx"
RECOMMENDATION = (
    "Map the graduated approach for every pupil on SEN support, with dated reviews that the "
    "SENCO and class teachers hold together each half term, and share it with parents"
)
POINTS = (
    "1. Complete the provision map for Years 3 to 6 before the spring half term\n"
    "2. Train the four teaching assistants in precision teaching, with follow-up observations"
)


def _issue(trust: Trust, template: str, *extra: str) -> Path:
    out = trust.root / "issued" / template
    before = set(out.glob("*.xlsx")) if out.exists() else set()
    name, urn, trust_name = SCHOOL
    run(
        "generate", template, "--school", name, "--urn", urn, "--trust", trust_name,
        "--round", AUTUMN, "--workspace", str(trust.root), "--out", str(out), *extra,
    )  # fmt: skip
    [path] = set(out.glob("*.xlsx")) - before
    return path


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    require_libreoffice()
    require_pdftotext()
    from sheet_tools.definitions.frameworks import load_registry

    registry: Registry = load_registry()
    trust = Trust(tmp_path_factory.mktemp("review-print") / "workspace", registry)
    report = registry.latest(REPORT)
    focus = [st for sheet, st in report.statements() if sheet.columns]
    files = [
        trust.fill(_issue(trust, MAINSTREAM, "--judge", "self-evaluation"), MAINSTREAM,
                   cover={"review_date": date(2026, 9, 20)}),
        trust.fill(_issue(trust, MAINSTREAM, "--judge", "external-reviewer"), MAINSTREAM,
                   seed=2, cover={"review_date": date(2026, 10, 3)}),
        trust.fill(_issue(trust, REPORT), REPORT,
                   texts={f"{focus[0].id}.recommendations": RECOMMENDATION},
                   cover={"review_date": date(2026, 10, 20)}),
        trust.fill(_issue(trust, VISIT, "--visit-date", "03/12/2026"), VISIT,
                   texts={"V.actions_school": POINTS}, cover={"review_date": date(2026, 12, 3)}),
    ]  # fmt: skip
    reports = trust.ingest(*files)
    assert [r["status"] for r in reports] == ["accepted"] * len(files), reports
    trust.summarise()
    book = trust.outbox / SCHOOL[2] / BOOK
    return pdf_page_texts(libreoffice_to_pdf(book, book.parent))


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_every_page_names_the_trust_and_round_and_numbers_itself(printed: list[str]) -> None:
    for number, page in enumerate(printed, start=1):
        assert f"{SCHOOL[2]}, {AUTUMN} round" in page, number
        assert f"Page {number} of {len(printed)}" in page, number
        assert "###" not in page, number


def test_every_sheet_prints_its_title_first(printed: list[str]) -> None:
    starts = [page.lstrip() for page in printed]
    for sheet in ("Stages", "Judgements", "Recommendations", "Follow-up actions", "Returns log"):
        title = f"{sheet}: {SCHOOL[2]}, {AUTUMN} round"
        assert sum(page.startswith(title) for page in starts) == 1, (sheet, starts)


def test_stages_and_long_texts_print_whole(printed: list[str]) -> None:
    stages = _flat(next(page for page in printed if page.lstrip().startswith("Stages")))
    for header in ("Identification", "Self-evaluation", "Preparation", "School visit", "Report"):
        assert header in stages, header
    assert SCHOOL[0] in stages and SCHOOL[1] in stages
    for day in ("20/09/2026", "03/10/2026", "20/10/2026", "1: 03/12/2026"):
        assert day in stages, day
    everything = _flat(" ".join(printed))
    assert _flat(RECOMMENDATION) in everything
    for line in POINTS.splitlines():
        assert _flat(line) in everything, line
