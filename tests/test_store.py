"""The SQLite store on real databases: duplicates, superseding, atomicity, migration."""

from __future__ import annotations

import hashlib
import multiprocessing
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from sheet_tools.base.keys import school_key, trust_key
from sheet_tools.intake.returns import ValidReturn
from sheet_tools.problems.report import FileReport, Issue
from sheet_tools.store.facade import (
    MIGRATIONS,
    SCHEMA_VERSION,
    Rejection,
    Store,
    StoreError,
)

T0 = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def valid(
    school: str = "Oakfield Primary",
    urn: str | None = "123456",
    trust: str | None = "North Star Trust",
    review_date: date = date(2026, 10, 3),
    judge: str = "self-evaluation",
    template_id: str = "specialist-provision-review",
    judgements: dict[str, str | None] | None = None,
    texts: dict[str, str] | None = None,
) -> ValidReturn:
    return ValidReturn(
        template_id=template_id,
        template_version="1.0",
        school=school,
        urn=urn,
        trust=trust,
        review_date=review_date,
        judge=judge,
        cover={"school": school, "urn": urn or "", "personnel": "SENCO", "judge": judge},
        judgements=judgements if judgements is not None else {"LM01": "Sec", "LM02": None},
        texts=texts if texts is not None else {"LM01.evidence": "Seen in the plan", "lm_next": "x"},
        warnings=[Issue.of("blank-judgement", sheet="1 LM", cell="C5", statement="LM02")],
    )


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "sheet-tools.db") as opened:
        yield opened


def test_a_return_reads_back_with_every_field(store: Store) -> None:
    judgements = {"LM01": "Sec", "LM02": None, "LM03": "Beg"}
    texts = {"LM01.evidence": "Seen in the development plan — ✓", "lm_next": "Train TAs"}
    original = valid(judgements=judgements, texts=texts)
    status, return_id = store.add_return(
        original, sha256=sha("a"), file_name="Oakfield.xlsx", arrived_at=T0
    )
    assert status == "accepted"
    [got] = store.returns()
    assert got.id == return_id
    assert got.sha256 == sha("a")
    assert got.file_name == "Oakfield.xlsx"
    assert got.arrived_at == T0
    assert (got.template_id, got.template_version) == ("specialist-provision-review", "1.0")
    assert (got.school, got.urn, got.trust) == ("Oakfield Primary", "123456", "North Star Trust")
    assert got.school_key == "123456"
    assert got.review_date == date(2026, 10, 3)
    assert got.judge == "self-evaluation"
    assert got.cover == original.cover
    assert got.judgements == judgements  # None kept: "not judged", never zero
    assert got.texts == texts
    assert got.warnings == original.warnings
    assert got.superseded is False
    assert store.has_return(sha("a"))
    assert not store.has_return(sha("b"))


def test_same_bytes_twice_are_stored_once(store: Store) -> None:
    first = store.add_return(valid(), sha256=sha("a"), file_name="a.xlsx", arrived_at=T0)
    again = store.add_return(
        valid(), sha256=sha("a"), file_name="copy of a.xlsx", arrived_at=T0 + timedelta(hours=1)
    )
    assert first[0] == "accepted"
    assert again == ("duplicate", first[1])
    assert [r.file_name for r in store.returns(include_superseded=True)] == ["a.xlsx"]


def test_later_return_supersedes_for_same_school_framework_date_and_judge(store: Store) -> None:
    store.add_return(
        valid(judgements={"LM01": "Beg"}), sha256=sha("1"), file_name="v1.xlsx", arrived_at=T0
    )
    store.add_return(
        valid(judgements={"LM01": "Emb"}),
        sha256=sha("2"),
        file_name="v2.xlsx",
        arrived_at=T0 + timedelta(days=1),
    )
    [current] = store.returns("specialist-provision-review")
    assert (current.file_name, current.judgements) == ("v2.xlsx", {"LM01": "Emb"})
    history = store.returns("specialist-provision-review", include_superseded=True)
    assert [(r.file_name, r.superseded) for r in history] == [
        ("v1.xlsx", True),
        ("v2.xlsx", False),
    ]
    assert store.find_return(sha("1")).superseded  # type: ignore[union-attr]
    assert not store.find_return(sha("2")).superseded  # type: ignore[union-attr]
    assert store.find_return(sha("never")) is None


def test_new_review_date_is_a_new_round_and_judges_are_kept_apart(store: Store) -> None:
    first_round = valid(review_date=date(2026, 10, 3))
    follow_up = valid(review_date=date(2027, 3, 1))
    reviewer = valid(review_date=date(2026, 10, 3), judge="external-review")
    for number, item in enumerate((first_round, follow_up, reviewer)):
        store.add_return(
            item,
            sha256=sha(str(number)),
            file_name=f"{number}.xlsx",
            arrived_at=T0 + timedelta(number),
        )
    current = store.returns()
    assert len(current) == 3
    assert not any(r.superseded for r in current)
    assert {(r.review_date, r.judge) for r in current} == {
        (date(2026, 10, 3), "self-evaluation"),
        (date(2027, 3, 1), "self-evaluation"),
        (date(2026, 10, 3), "external-review"),
    }


def test_school_key_is_urn_or_normalised_name(store: Store) -> None:
    assert school_key("Oakfield Primary", "123456") == "123456"
    assert school_key("  Oakfield   PRIMARY ", None) == "oakfield primary"
    # without a URN the same school written differently is still one school
    store.add_return(
        valid(school="Oakfield Primary", urn=None), sha256=sha("1"), file_name="1", arrived_at=T0
    )
    store.add_return(
        valid(school="OAKFIELD  primary", urn=None),
        sha256=sha("2"),
        file_name="2",
        arrived_at=T0 + timedelta(1),
    )
    assert [r.file_name for r in store.returns(school_key="oakfield primary")] == ["2"]


def test_filters_by_template_trust_and_school(store: Store) -> None:
    rows = [
        ("A", "100001", "Trust One", "specialist-provision-review"),
        ("B", "100002", "Trust One", "send-review-mainstream"),
        ("C", "100003", "Trust Two", "specialist-provision-review"),
    ]
    for number, (name, urn, trust, template) in enumerate(rows):
        store.add_return(
            valid(school=name, urn=urn, trust=trust, template_id=template),
            sha256=sha(name),
            file_name=f"{name}.xlsx",
            arrived_at=T0 + timedelta(minutes=number),
        )
    assert [r.school for r in store.returns("specialist-provision-review")] == ["A", "C"]
    assert [r.school for r in store.returns(trust="Trust One")] == ["A", "B"]
    assert [r.school for r in store.returns(school_key="100003")] == ["C"]
    assert store.returns("send-review-mainstream", trust="Trust Two") == []


def test_reading_many_returns_takes_three_queries(store: Store) -> None:
    for number in range(60):
        store.add_return(
            valid(school=f"School {number}", urn=str(200000 + number)),
            sha256=sha(str(number)),
            file_name=f"{number}.xlsx",
            arrived_at=T0,
        )
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    found = store.returns()
    store._db.set_trace_callback(None)
    assert len(found) == 60
    assert all(r.judgements == {"LM01": "Sec", "LM02": None} for r in found)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 3


def test_a_failure_part_way_leaves_nothing_half_written(store: Store, tmp_path: Path) -> None:
    # A trigger makes the last insert of the transaction (the texts) fail, as a full disk would.
    with sqlite3.connect(tmp_path / "sheet-tools.db") as other:
        other.execute(
            "CREATE TRIGGER fail_texts BEFORE INSERT ON texts "
            "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
    with pytest.raises(sqlite3.DatabaseError, match="disk full"):
        store.add_return(valid(), sha256=sha("a"), file_name="a.xlsx", arrived_at=T0)
    with sqlite3.connect(tmp_path / "sheet-tools.db") as other:
        counts = [
            other.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("returns", "judgements", "texts")
        ]
        other.execute("DROP TRIGGER fail_texts")
    assert counts == [0, 0, 0]
    assert not store.has_return(sha("a"))
    # the store is still usable and the same bytes are not mistaken for a duplicate
    assert store.add_return(valid(), sha256=sha("a"), file_name="a.xlsx", arrived_at=T0)[0] == (
        "accepted"
    )


def test_a_version_1_database_is_migrated_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:
        for statement in MIGRATIONS[0]:
            old.execute(statement)
        old.execute(
            "INSERT INTO returns VALUES (7, ?, 'old.xlsx', '2025-01-02T10:00:00.000000+00:00', "
            "'specialist-provision-review', '1.0', 'Old School', '654321', '654321', 'T', "
            "'2025-01-01', 'self-evaluation', '{\"school\": \"Old School\"}', '[]')",
            (sha("old"),),
        )
        old.execute("INSERT INTO judgements VALUES (7, 'LM01', 'Dev')")
        old.execute("INSERT INTO texts VALUES (7, 'lm_next', 'More training')")
        old.execute(
            "INSERT INTO rejections VALUES (1, ?, 'bad.xlsx', '2025-01-03T10:00:00.000000+00:00', "
            "NULL, NULL, NULL, 'T', 'not a workbook')",
            (sha("bad"),),
        )
        old.execute("PRAGMA user_version = 1")
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION > 1
        [kept] = store.returns()
        assert (kept.id, kept.school, kept.judgements, kept.texts) == (
            7,
            "Old School",
            {"LM01": "Dev"},
            {"lm_next": "More training"},
        )
        # version 3 placed it in the school term of its review date (1 January 2025)
        assert (kept.round, kept.issue_id, kept.withdrawn) == ("Spring 2025", None, False)
        assert [r.id for r in store.returns(trust="t.")] == [7]  # one key per trust, backfilled
        [rejected] = store.rejections("t")
        assert (rejected.reason, rejected.errors, rejected.template_version) == (
            "not a workbook",
            [],
            None,
        )
        # the tables version 2 added work
        report = FileReport(file="new.xlsx", status="accepted", sha256=sha("new"))
        event = store.record(
            report,
            sha256=sha("new"),
            file_name="new.xlsx",
            arrived_at=T0,
            destination="archive/new.xlsx",
            valid=valid(),
        )
        assert store.outcome_for(sha("new")) == event
    with Store(path) as reopened:  # opening again is a no-op
        assert reopened.schema_version == SCHEMA_VERSION
        assert len(reopened.returns(include_superseded=True)) == 2


def _database_at(path: Path, version: int) -> sqlite3.Connection:
    """A database as an earlier release left it: the first ``version`` migrations run."""
    db = sqlite3.connect(path)
    for step in (step for steps in MIGRATIONS[:version] for step in steps):
        if callable(step):
            step(db)
        else:
            db.execute(step)
    db.execute(f"PRAGMA user_version = {version}")
    return db


def test_stored_keys_are_recomputed_by_the_one_key(tmp_path: Path) -> None:
    """A version 4 database keeps keys as the old functions made them ("st. mary's  primary"
    for a school without a URN; "st cuthbert s ..." for a trust): migrating recomputes them, so
    the return is found by any spelling, and issue JSON already stored still loads."""
    path = tmp_path / "v4.db"
    stored_issue = (
        '[{"code": "blank-judgement", "severity": "warning", "message": "Not judged.", '
        '"sheet": "2 Environment", "cell": "C9", "statement": "EN03", "value": null}]'
    )
    with _database_at(path, 4) as old:
        old.execute(
            "INSERT INTO returns (id, sha256, file_name, arrived_at, template_id, "
            "template_version, school, school_key, urn, trust, trust_key, review_date, judge, "
            "cover, warnings, round) VALUES (3, ?, 'a.xlsx', '2026-10-05T09:00:00.000000+00:00', "
            "'specialist-provision-review', '1.0', 'St. Mary''s  Primary', 'st. mary''s primary', "
            "NULL, 'St. Cuthbert''s Catholic Academy Trust', 'st cuthbert s catholic academy "
            "trust', '2026-10-03', 'self-evaluation', '{}', ?, 'Autumn 2026')",
            (sha("a"), stored_issue),
        )
        old.execute(
            "INSERT INTO rejections (id, sha256, file_name, arrived_at, trust, trust_key, "
            "reason) VALUES (1, ?, 'b.xlsx', '2026-10-06T09:00:00.000000+00:00', "
            "'Dales & Moors', 'dales and moors', 'damaged')",
            (sha("b"),),
        )
        old.commit()
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        [kept] = store.returns(school_key=school_key("St Mary’s Primary", None))
        assert kept.id == 3 and kept.school_key == "st marys primary"
        assert [r.id for r in store.returns(trust="St Cuthberts Catholic Academy Trust")] == [3]
        [warning] = kept.warnings
        assert (warning.code, warning.sheet, warning.cell) == (
            "blank-judgement",
            "2 Environment",
            "C9",
        )
        assert [r.reason for r in store.rejections("Dales and Moors")] == ["damaged"]
    with sqlite3.connect(path) as db:
        keys = db.execute("SELECT school_key, trust_key FROM returns").fetchall()
    assert keys == [("st marys primary", trust_key("St. Cuthbert's Catholic Academy Trust"))]


def test_rejections_stored_before_they_kept_their_round_keep_none(tmp_path: Path) -> None:
    """A database one step behind (before rejections kept their round): its rejection is kept
    with no round, never a guessed one; a rejection recorded after says its file's round."""
    path = tmp_path / "previous.db"
    with _database_at(path, SCHEMA_VERSION - 1) as old:
        old.execute(
            "INSERT INTO rejections (id, sha256, file_name, arrived_at, school, urn, trust, "
            "trust_key, reason) VALUES (1, ?, 'b.xlsx', '2026-10-06T09:00:00.000000+00:00', "
            "'Oakfield', '140101', 'Oak Trust', ?, 'damaged')",
            (sha("b"), trust_key("Oak Trust")),
        )
        old.commit()
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        report = FileReport(
            file="c.xlsx",
            status="rejected",
            sha256=sha("c"),
            school="Oakfield",
            round="Autumn 2026",
        )
        store.record(
            report,
            sha256=sha("c"),
            file_name="c.xlsx",
            arrived_at=T0 + timedelta(days=2),
            destination="rejected/c.xlsx",
            valid=None,
        )
        assert [(r.file_name, r.reason, r.round) for r in store.rejections("Oak Trust")] == [
            ("b.xlsx", "damaged", None)
        ]
        assert [(r.file_name, r.round) for r in store.rejections()] == [
            ("b.xlsx", None),
            ("c.xlsx", "Autumn 2026"),
        ]


def test_a_newer_or_foreign_database_is_refused_plainly(tmp_path: Path) -> None:
    newer = tmp_path / "newer.db"
    with sqlite3.connect(newer) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer sheet-tools"):
        Store(newer)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a sheet-tools database"):
        Store(junk)
    with pytest.raises(StoreError, match="cannot open"):
        Store(tmp_path / "no such folder" / "x.db")


def test_wal_mode_and_busy_timeout(store: Store, tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "sheet-tools.db") as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._db.execute("PRAGMA busy_timeout").fetchone()[0] >= 10_000


def _writer(path: str, offset: int, count: int) -> None:
    with Store(path) as store:
        for number in range(offset, offset + count):
            store.add_return(
                valid(school=f"S{number}", urn=str(300000 + number)),
                sha256=sha(f"p{number}"),
                file_name=f"{number}.xlsx",
                arrived_at=T0,
            )


def test_several_processes_write_one_database(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    Store(path).close()
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(str(path), i * 40, 40)) for i in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [worker.exitcode for worker in workers] == [0, 0, 0]
    with Store(path) as store:
        found = store.returns()
        assert sorted(r.school for r in found) == sorted(f"S{n}" for n in range(120))
        assert all(r.judgements == {"LM01": "Sec", "LM02": None} for r in found)


def test_record_keeps_events_for_exactly_once_filing(store: Store) -> None:
    accepted = FileReport(file="a.xlsx", status="accepted", sha256=sha("a"))
    event = store.record(
        accepted,
        sha256=sha("a"),
        file_name="a.xlsx",
        arrived_at=T0,
        destination="archive/a.xlsx",
        valid=valid(),
    )
    assert (event.status, event.done) == ("accepted", False)
    assert event.return_id == store.returns()[0].id
    assert store.pending_events() == [event]
    store.finish_event(event.id)
    assert store.pending_events() == []
    assert store.outcome_for(sha("a")).done  # type: ignore[union-attr]

    # the same bytes recorded as accepted again (another process won the race): a duplicate
    raced = store.record(
        accepted,
        sha256=sha("a"),
        file_name="a again.xlsx",
        arrived_at=T0 + timedelta(1),
        destination="archive/a again.xlsx",
        valid=valid(),
    )
    assert raced.status == "duplicate"
    assert raced.report.status == "duplicate"
    assert raced.report.errors[0].code == "duplicate"
    assert "a.xlsx" in raced.report.errors[0].message
    assert raced.return_id == event.return_id
    assert len(store.returns(include_superseded=True)) == 1

    bad = Issue.of(
        "invalid-judgement", sheet="1 LM", cell="C4", value="Embeded", choices="Secure or Embedded"
    )
    rejected = FileReport(
        file="b.xlsx",
        status="rejected",
        sha256=sha("b"),
        school="B School",
        trust="North Star Trust",
        errors=[bad],
    )
    store.record(
        rejected,
        sha256=sha("b"),
        file_name="b.xlsx",
        arrived_at=T0,
        destination="rejected/b.xlsx",
    )
    [rejection] = store.rejections("North Star Trust")
    assert rejection.errors == [bad]
    assert "'Embeded' is not a judgement" in rejection.reason and "cell C4" in rejection.reason
    assert store.rejections("Another Trust") == []
    assert [e.status for e in store.events()] == ["accepted", "duplicate", "rejected"]


def test_add_rejection_for_the_returns_log(store: Store) -> None:
    store.add_rejection(
        Rejection(
            file_name="x.xlsx",
            sha256=sha("x"),
            arrived_at=T0,
            template_id=None,
            school=None,
            urn=None,
            trust=None,
            reason="The file is not an Excel workbook",
        )
    )
    [found] = store.rejections()
    assert (found.file_name, found.reason, found.arrived_at) == (
        "x.xlsx",
        "The file is not an Excel workbook",
        T0,
    )


def test_superseding_holds_across_a_change_of_trust(store: Store) -> None:
    store.add_return(valid(trust="Old Trust"), sha256=sha("1"), file_name="1", arrived_at=T0)
    store.add_return(
        valid(trust="New Trust"), sha256=sha("2"), file_name="2", arrived_at=T0 + timedelta(1)
    )
    assert store.returns(trust="Old Trust") == []
    [old] = store.returns(trust="Old Trust", include_superseded=True)
    assert (old.file_name, old.superseded) == ("1", True)
    assert [r.file_name for r in store.returns(trust="New Trust")] == ["2"]


def test_preparation_notes_are_set_cleared_and_left_alone_as_read_back(store: Store) -> None:
    """A typed cell sets its note (text, number or date, as typed), an emptied one clears it, a
    school not in the workbook keeps its own; a row under a URN takes over the note typed under
    the school's name before the roster had its URN, only where one roster school has the name."""
    oak, birch = ("140101", "oakfield primary"), ("birch house school", "birch house school")
    day = datetime(2026, 9, 30)
    assert store.record_preparation({(oak[0], "Autumn 2026"): (oak[1], "Call booked")}) == 1
    store.record_preparation(
        {(birch[0], "Autumn 2026"): (birch[1], day), (oak[0], "Spring 2027"): (oak[1], 2)}
    )
    assert store.preparation() == {
        (oak[0], "Autumn 2026"): "Call booked",
        (birch[0], "Autumn 2026"): day,
        (oak[0], "Spring 2027"): 2,
    }
    assert store.record_preparation({(oak[0], "Autumn 2026"): (oak[1], "Call booked")}) == 0
    store.record_preparation({(oak[0], "Autumn 2026"): (oak[1], None)})  # emptied
    assert (oak[0], "Autumn 2026") not in store.preparation()
    booked = {("140102", "Autumn 2026"): (birch[1], "Visit booked")}
    store.record_preparation(booked)  # the name may be another trust's school's: left alone
    assert store.preparation() == {
        ("140102", "Autumn 2026"): "Visit booked",
        (birch[0], "Autumn 2026"): day,
        (oak[0], "Spring 2027"): 2,
    }
    assert store.record_preparation(booked, unique={birch[1]}) == 1
    assert store.preparation() == {
        ("140102", "Autumn 2026"): "Visit booked",
        (oak[0], "Spring 2027"): 2,
    }
