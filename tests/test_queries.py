"""Queries: the warnings on an accepted return reach the administrator, in ``<file>.queries.txt``
beside the archived original and in the Queries sheets of the trust and school summaries."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from openpyxl import load_workbook

from sheet_tools.base.clock import today, uk_date
from sheet_tools.definitions import cell_layout
from sheet_tools.definitions.rounds import term_of
from sheet_tools.problems.codes import CODES
from tests.support.trust import SPR, Trust, table_rows

OAK = "Oak Trust"


def cover_cell(workbook: Path, field_id: str) -> str:
    """The cover answer cell of ``field_id``, found in the issued workbook's id column."""
    ws = load_workbook(workbook)[cell_layout.COVER_SHEET]
    for row in ws.iter_rows(min_col=1, max_col=1):
        if row[0].value == field_id:
            return f"C{row[0].row}"
    raise AssertionError(f"{field_id} not on the cover")


def provoke(trust: Trust) -> tuple[Path, list[tuple[str, str, str]]]:
    """A return with three queries: a URN other than the one issued, a trust one letter off a
    known one, and a review date in the future. Returns the archived file and, per query, its
    code, cell and the sentence the school's administrator should read (written out here)."""
    future = today() + timedelta(days=10)
    round_name = term_of(future)
    first = trust.issue(SPR, "Ash Primary", urn="140001", trust=OAK, round_name=round_name)
    assert trust.ingest(trust.fill(first, SPR))[0]["status"] == "accepted"
    issued = trust.issue(
        SPR, "Birch Academy", urn="140002", trust="Oak Trst", round_name=round_name
    )
    filled = trust.fill(issued, SPR, cover={"urn": 140099, "review_date": future})
    [report] = trust.ingest(filled)
    assert report["status"] == "accepted"
    shown = uk_date(future)
    expected = [
        (
            "urn-mismatch",
            cover_cell(issued, "urn"),
            "The URN typed, 140099, is not the URN this workbook was issued for, 140002, so the "
            "return is filed under 140002.",
        ),
        (
            "similar-trust",
            cover_cell(issued, "trust"),
            "The trust 'Oak Trst' is not one sheet-tools knows. Did you mean Oak Trust? The "
            "return is filed under 'Oak Trst' as typed.",
        ),
        (
            "unlikely-review-date",
            cover_cell(issued, "review_date"),
            f"The review date {shown} is in the future.",
        ),
    ]
    got = sorted((w["code"], w["cell"]) for w in report["errors"])
    assert got == sorted((code, cell) for code, cell, _ in expected)
    return trust.root / "archive" / filled.name, expected


def test_an_accepted_return_with_warnings_has_its_queries_beside_it(trust: Trust) -> None:
    archived, expected = provoke(trust)
    assert archived.is_file()
    text = (archived.parent / f"{archived.name}.queries.txt").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == "sheet-tools accepted this return, with queries to check with the school."
    assert f"File:         {archived.name}" in lines
    assert "School:       Birch Academy (URN 140002)" in lines
    assert "3 queries (the return is stored and counts in the summaries meanwhile):" in lines
    numbered = [i for i, line in enumerate(lines) if line[:3] in ("1. ", "2. ", "3. ")]
    assert [lines[i][:3] for i in numbered] == ["1. ", "2. ", "3. "]
    queries = {(lines[i][3:], lines[i + 1], lines[i + 2]) for i in numbered}
    assert queries == {
        (f"Sheet 'Cover', cell {cell}", f"   {message}", f"   What to check: {CODES[code].advice}")
        for code, cell, message in expected
    }
    # the first return had no warnings: nothing beside it
    assert len(list((trust.root / "archive").glob("*.queries.txt"))) == 1


def test_the_trust_and_school_summaries_list_the_queries(trust: Trust) -> None:
    archived, expected = provoke(trust)
    trust.summarise()
    [oak_trst] = (trust.outbox / "Oak Trst").glob("* - trust summary.xlsx")
    rows = table_rows(oak_trst, "Queries")
    assert rows[0][:7] == ["School", "URN", "Sheet", "Cell", "Where", "Query", "What to check"]
    body = sorted((r[0], r[1], r[2], r[3], r[5], r[6], r[7]) for r in rows[1:])
    assert body == sorted(
        ("Birch Academy", "140002", "Cover", cell, message, CODES[code].advice, archived.name)
        for code, cell, message in expected
    )
    # Oak Trust's own school returned without a query
    [oak] = (trust.outbox / OAK).glob("* - trust summary.xlsx")
    assert table_rows(oak, "Queries")[1][0] == "No return has a query to check."
    # the school's summary shows its own, without the school columns
    [birch] = (trust.outbox / "Oak Trst").glob("Birch Academy*.xlsx")
    school_rows = table_rows(birch, "Queries")
    assert school_rows[0][:4] == ["Sheet", "Cell", "Where", "Query"]
    assert sorted((r[1], r[3]) for r in school_rows[1:]) == sorted(
        (cell, message) for _, cell, message in expected
    )
    [ash] = (trust.outbox / OAK).glob("Ash Primary*.xlsx")
    assert "Queries" not in load_workbook(ash).sheetnames
