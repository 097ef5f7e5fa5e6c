"""A rejection belongs to the round its file was for: an earlier round's rejection never put
right leaves the school Outstanding in the next round's Returns log (and chased by reminders),
while a file with no round that arrives during a round is that round's problem."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from openpyxl import Workbook

from sheet_tools.base.clock import uk_date
from sheet_tools.cli import main
from sheet_tools.definitions import cell_layout
from sheet_tools.definitions.frameworks import Framework, Registry
from sheet_tools.definitions.roster import read_roster
from sheet_tools.mail.reminders import outstanding
from sheet_tools.store.facade import Rejection
from sheet_tools.summarise.scores import histories
from sheet_tools.summarise.trust import returns_log

from .support import corpus
from .support.trust import AUTUMN, SPR, Trust, table_records

SPRING = "Spring 2027"
HEADER = ["school", "urn", "trust"]
ROWS = [("Oakfield Primary", "140101", "Oak Trust"), ("Ash Grove", "140102", "Oak Trust")]


def _log(trust: Trust) -> dict[str, dict[str, object]]:
    """The Oak Trust workbook's Returns log, by school."""
    book = trust.outbox / "Oak Trust" / f"Oak Trust - {SPR} - trust summary.xlsx"
    return {str(r["School"]): r for r in table_records(book, "Returns log") if r["URN"]}


def _library_log(trust: Trust, framework: Framework, round_name: str) -> dict[str, str]:
    """The Returns log of any round, from the store as the summaries read it."""
    with trust.store() as store:
        members = list(histories(store.returns(SPR)).values())
        rejections, issued = store.rejections(), store.issued(SPR)
    roster = read_roster(trust.root / "roster.csv")
    entries = returns_log(
        framework, members, roster, rejections, round_name=round_name, issued=issued
    )
    return {e.school: e.status for e in entries}


def _issue(trust: Trust, round_name: str) -> dict[str, Path]:
    """Every roster school's workbook for the round; the last round's are kept aside, as an
    administrator keeps each round's in its own folder."""
    earlier = trust.root / "issued-now"
    if earlier.exists():
        earlier.rename(trust.root / f"issued-{trust.count}")
        trust.count += 1
    return trust.issue_roster(SPR, HEADER, ROWS, round_name)


def _without_round(book: Workbook) -> None:
    """No round on the About sheet and no review date typed: nothing tells the file's round."""
    about = book[cell_layout.ABOUT_SHEET]
    for row in range(1, about.max_row + 1):
        if about.cell(row, 1).value == cell_layout.KEY_ROUND:
            about.cell(row, 2).value = None


def test_an_autumn_rejection_leaves_the_school_outstanding_for_spring(
    trust: Trust, spr: Framework, registry: Registry, tmp_path: Path
) -> None:
    autumn = _issue(trust, AUTUMN)
    bad = trust.fill(autumn["Oakfield Primary"], SPR, seed=1, cover={"judge": None})
    [rejected, accepted] = trust.ingest(bad, trust.fill(autumn["Ash Grove"], SPR, seed=2))
    assert (rejected["status"], rejected["round"], accepted["status"]) == (
        "rejected",
        AUTUMN,
        "accepted",
    )
    trust.summarise()
    log = _log(trust)
    assert {s: r["Status"] for s, r in log.items()} == {
        "Oakfield Primary": "Rejected",
        "Ash Grove": "Returned",
    }

    _issue(trust, SPRING)
    trust.summarise()
    log = _log(trust)
    assert {s: r["Status"] for s, r in log.items()} == {
        "Oakfield Primary": "Outstanding",
        "Ash Grove": "Outstanding",
    }
    with trust.store() as store:
        [stored] = store.rejections()
        assert stored.round == AUTUMN
        arrived = uk_date(stored.arrived_at)
    detail = str(log["Oakfield Primary"]["Detail"])
    assert Path(bad).name in detail and AUTUMN in detail and arrived in detail
    # the Autumn log is unchanged: its workbook is still owed, the rejection not put right
    assert _library_log(trust, spr, AUTUMN) == {
        "Oakfield Primary": "Rejected",
        "Ash Grove": "Returned",
    }
    # reminders chase exactly the schools the Spring log says are outstanding
    with trust.store() as store:
        owing = outstanding(store, registry, read_roster(trust.root / "roster.csv"), SPRING)
    assert {o.school for o in owing} == {s for s, r in log.items() if r["Status"] == "Outstanding"}

    # a store rebuilt from the ledger and rejected/ recovers the rejection's round
    for path in trust.root.glob("sheet-tools.db*"):
        path.unlink()
    result = CliRunner().invoke(main, ["store", "rebuild", "--workspace", str(trust.root)])
    assert result.exit_code == 0, result.output
    with trust.store() as store:
        assert [(r.file_name, r.round) for r in store.rejections()] == [(stored.file_name, AUTUMN)]


def test_a_file_with_no_round_counts_for_the_round_it_arrived_in(
    trust: Trust, spr: Framework, registry: Registry
) -> None:
    _issue(trust, AUTUMN)
    spring = _issue(trust, SPRING)
    filled = trust.fill(spring["Ash Grove"], SPR, seed=3, cover={"review_date": None})
    roundless = corpus.edited_copy(filled, trust.filled / "no round.xlsx", _without_round)
    damaged = corpus.truncated_copy(filled, trust.filled)
    reports = trust.ingest(roundless, damaged)
    assert [(r["status"], r["round"]) for r in reports] == [("rejected", None)] * 2
    with trust.store() as store:
        assert [(r.school, r.round) for r in store.rejections()] == [
            ("Ash Grove", None),
            (None, None),  # damaged: nothing could be read, not even the school
        ]
        # a rejection stored before rejections kept their round, two rounds ago
        store.add_rejection(
            Rejection(
                file_name="old.xlsx",
                sha256="0" * 64,
                arrived_at=datetime(2026, 2, 3, 9, 0, tzinfo=UTC),
                template_id=SPR,
                school="Oakfield Primary",
                urn="140101",
                trust="Oak Trust",
                reason="damaged",
            )
        )
    trust.summarise()
    log = _log(trust)
    assert {s: r["Status"] for s, r in log.items()} == {
        "Ash Grove": "Rejected",  # arrived while Spring was out: Spring's problem
        "Oakfield Primary": "Outstanding",  # February's file is not this round's
    }
    assert str(log["Ash Grove"]["Detail"]).startswith(roundless.name)
    with trust.store() as store:
        owing = outstanding(store, registry, read_roster(trust.root / "roster.csv"), SPRING)
    assert {o.school for o in owing} == {"Ash Grove", "Oakfield Primary"}
