"""One key per identity, and every stage agreeing on it: a school or trust typed as people type
it (apostrophes, "&", "St.", commas as in the register's "Bristol, City of", accents, double
spaces, curly quotes) is the same school or trust in the store, the summaries' grouping, the
outbox plan and the identity checks."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from sheet_tools.base.keys import name_key, school_key, trust_key
from sheet_tools.cli import main
from sheet_tools.definitions.frameworks import Framework
from sheet_tools.definitions.roster import School
from sheet_tools.demo import make_return
from sheet_tools.intake.identity import Known
from sheet_tools.summarise.cells import TABLE_TOP
from sheet_tools.summarise.outbox import trust_names
from tests.support.helpers import workspace

# Spellings of one name, as different people type it: each group must share one key.
SAME = [
    [
        "Dales & Moors Education Trust",
        "Dales and Moors Education Trust",
        "DALES & MOORS  EDUCATION TRUST",
    ],
    [
        "St. Cuthbert's Catholic Academy Trust",
        "St Cuthbert’s Catholic Academy Trust",
        "St Cuthberts Catholic Academy Trust",
        "st. cuthbert's catholic academy trust.",
    ],
    ["Bristol, City of", "Bristol City of", "Bristol,  City of"],
    ["Brontë Primary School", "Bronte Primary School", "Bronte\u0308 Primary School"],
    [
        "St Mary's C of E Academy",
        "St. Mary’s C. of E. Academy",
        "St Mary\u2019s C of E\u00a0Academy",
    ],
]
# Different trusts and schools that a careless key would merge.
DIFFERENT = [
    ("Dales Trust", "Moors Trust"),
    ("St Mary's Primary", "St Mark's Primary"),
    ("Bristol, City of", "City of Bristol Academy"),
]


@pytest.mark.parametrize("spellings", SAME, ids=lambda group: group[0])
def test_spellings_of_one_name_share_a_key(spellings: list[str]) -> None:
    assert len({name_key(s) for s in spellings}) == 1
    assert len({trust_key(s) for s in spellings}) == 1
    assert len({school_key(s, None) for s in spellings}) == 1


@pytest.mark.parametrize(("one", "other"), DIFFERENT)
def test_different_names_keep_different_keys(one: str, other: str) -> None:
    assert name_key(one) != name_key(other)


def test_a_urn_identifies_a_school_whatever_its_name() -> None:
    assert school_key("Oakfield School", "100004") == school_key("Oakfield Academy", " 100004 ")
    assert school_key("Oakfield School", "100004") != school_key("Oakfield School", "100005")
    assert trust_key(None) == trust_key("") == trust_key("  ") == ""


def test_identity_and_the_outbox_plan_know_a_trust_by_any_spelling() -> None:
    """What identity matches a typed trust against, and the outbox plan's trust names, are
    keyed by the one key: every spelling finds the roster's own."""
    roster = [
        School(name="Brontë Primary School", urn="100001", trust=SAME[0][0]),
        School(name="Oakfield School", urn="100004", trust=SAME[1][0]),
    ]
    known = Known(roster=roster).trust_names()
    planned = trust_names([], {school_key(s.name, s.urn): s for s in roster})
    for group in SAME[:2]:
        for spelling in group:
            assert known[trust_key(spelling)] == group[0]
            assert planned[trust_key(spelling)] == group[0]


ROSTER = [
    ("Brontë Primary School", "100001", "Dales & Moors Education Trust"),
    ("St Mary's C of E Academy", "100002", "Dales & Moors Education Trust"),
    ("Bristol, City of Learning", "100003", "St. Cuthbert's Catholic Academy Trust"),
    ("Oakfield School", "100004", "St. Cuthbert's Catholic Academy Trust"),
]


def _trust_workbooks(outbox: Path) -> dict[str, list[str]]:
    """Each trust workbook's folder -> the schools its Returns log lists."""
    found: dict[str, list[str]] = {}
    for path in sorted(outbox.glob("*/*trust summary.xlsx")):
        book = load_workbook(path, read_only=True)
        rows = list(book["Returns log"].iter_rows(min_row=TABLE_TOP + 1, values_only=True))
        found[path.parent.name] = sorted(row[0] for row in rows if row[1])  # schools have URNs
        book.close()
    return found


def _run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("with_roster", [True, False], ids=["roster", "as-typed"])
def test_trusts_with_punctuation_get_their_own_workbooks(
    tmp_path: Path, spr: Framework, with_roster: bool
) -> None:
    """Through the CLI: "Dales & Moors Education Trust" and "St. Cuthbert's Catholic Academy
    Trust" each get a trust workbook listing exactly their schools; nothing is filed under "No
    trust recorded". Without a roster the trust comes from each return's cover, typed by each
    school its own way."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    if with_roster:
        with (tmp_path / "roster.csv").open("w", newline="", encoding="utf-8") as out:
            csv.writer(out).writerows([("school", "urn", "trust"), *ROSTER])
    typed = {
        "100002": "Dales and Moors Education Trust",
        "100004": "St Cuthbert’s Catholic Academy Trust",
    }
    for seed, (name, urn, trust) in enumerate(ROSTER, start=1):
        school = School(name=name, urn=urn, trust=trust)
        make_return(spr, inbox, school, seed=seed, cover={"trust": typed.get(urn, trust)})
    workspace(tmp_path)
    _run("ingest", "--workspace", str(tmp_path), *map(str, sorted(inbox.iterdir())))
    _run("summarise", "--workspace", str(tmp_path))

    outbox = tmp_path / "outbox"
    expected = {
        "Dales & Moors Education Trust": ["Brontë Primary School", "St Mary's C of E Academy"],
        "St. Cuthbert's Catholic Academy Trust": ["Bristol, City of Learning", "Oakfield School"],
    }
    assert _trust_workbooks(outbox) == expected
    assert not (outbox / "No trust recorded").exists()
    # one folder per trust, holding exactly its schools' workbooks
    folders = {p.name for p in outbox.iterdir() if p.is_dir()}
    assert folders == set(expected)
    for trust, schools in expected.items():
        school_books = sorted(p.name for p in (outbox / trust).glob("*review.xlsx"))
        assert [b.split(" (")[0] for b in school_books] == schools

    # the store keeps the one key for each return, whatever was typed
    with sqlite3.connect(tmp_path / "sheet-tools.db") as db:
        stored = set(db.execute("SELECT trust_key FROM returns"))
    assert stored == {(trust_key(t),) for t in expected}
