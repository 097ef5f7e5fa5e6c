"""A fault of the service is never a school's fault: a full disk met mid-ingest and mid-rebuild
leaves files claimed or in the inbox, never rejected; ``watch --once`` says it could not finish
(exit 2) and says the disk is full; once space is freed every return is filed once in archive/.

Runs on a real, small tmpfs; skipped (saying why) where one cannot be mounted (not root).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sheet_tools.base.workspace import Workspace
from sheet_tools.definitions.frameworks import Framework
from tests.support.helpers import refuse_replacing, workspace
from tests.support.watching import REPO, Corpus, fast_env

RUN_TIMEOUT_S = 300
SCHOOLS = 8


@pytest.fixture(scope="module")
def corpus(spr: Framework, tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return Corpus(spr, tmp_path_factory.mktemp("faults-corpus"))


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _watch_once(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sheet_tools.cli", "watch", "--workspace", str(root), "--once"],
        cwd=REPO,
        env=fast_env(SHEET_TOOLS_STABLE_SECONDS="0.05"),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
    )


def _fill(disk: Path, leave: int) -> Path:
    """Fill the disk, then give back ``leave`` bytes."""
    filler = disk / f".filler-{uuid.uuid4().hex}"
    block = b"\0" * 65536
    with filler.open("wb") as out, contextlib.suppress(OSError):
        while True:
            out.write(block)
            out.flush()
    size = filler.stat().st_size
    with filler.open("r+b") as out:
        out.truncate(max(0, size - leave))
    return filler


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _returns_in(folder: Path) -> list[Path]:
    return [
        p
        for p in folder.rglob("*.xlsx")
        if not p.name.endswith(".annotated.xlsx") and not p.name.startswith(".")
    ]


@pytest.mark.parametrize("leave", [64 * 1024, 400 * 1024])
def test_disk_full_mid_ingest_and_rebuild_rejects_nothing_and_finishes_once_freed(
    corpus: Corpus, small_disk: Path, leave: int
) -> None:
    root = workspace(small_disk / "ws")
    ws = Workspace.at(root)
    first = _watch_once(root)  # makes the database while there is room
    assert first.returncode == 0, first.stderr
    sources = [corpus.school_return(i) for i in range(SCHOOLS)]
    expected = {_digest(p): p.name for p in sources}
    for source in sources:
        (ws.inbox / source.name).write_bytes(source.read_bytes())

    filler = _fill(small_disk, leave)
    full = _watch_once(root)
    assert full.returncode == 2, full.stderr
    assert "could not finish" in full.stderr
    assert "the disk is full" in full.stderr
    assert "damaged" not in full.stderr
    # no good return was rejected, and none was lost
    assert _returns_in(ws.rejected) == []
    left = _returns_in(ws.inbox) + _returns_in(ws.processing) + _returns_in(ws.archive)
    assert sorted(_digest(p) for p in left) == sorted(expected)

    filler.unlink()
    freed = _watch_once(root)
    assert freed.returncode == 0, freed.stderr
    archived = _returns_in(ws.archive)
    assert sorted(_digest(p) for p in archived) == sorted(expected)  # each exactly once
    assert _returns_in(ws.rejected) == []
    assert _returns_in(ws.inbox) == [] and _returns_in(ws.processing) == []
    summaries = [p for p in ws.outbox.rglob("*.xlsx") if "trust summary" not in p.name]
    assert len(summaries) == SCHOOLS


def _sqlite_full() -> Exception:
    exc = sqlite3.OperationalError("database or disk is full")
    exc.sqlite_errorcode = 13  # type: ignore[attr-defined]
    return exc


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (_sqlite_full, "the disk is full"),
        (lambda: OSError(errno.ENOSPC, "No space left on device"), "the disk is full"),
        (lambda: OSError(errno.EIO, "Input/output error"), "could not be read or written"),
        (lambda: sqlite3.DatabaseError("database disk image is malformed"), "is damaged"),
    ],
)
def test_a_fault_when_recording_is_named_and_keeps_the_file(
    corpus: Corpus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault, words: str
) -> None:
    """Without a tmpfs too: the store failing for the service's own reasons raises ServiceFault
    naming the fault, and the file is neither filed nor rejected."""
    from sheet_tools.exceptions import ServiceFault
    from sheet_tools.service import ingest
    from sheet_tools.store.facade import Store

    ws = Workspace.at(tmp_path / "ws")
    ws.ensure()
    claimed = ws.processing / "claimed.xlsx"
    claimed.write_bytes(corpus.school_return(0).read_bytes())

    def full(*_args: object, **_kwargs: object) -> None:
        raise fault()

    from sheet_tools.definitions.frameworks import load_registry

    with Store(ws.database) as store:
        monkeypatch.setattr(store, "record", full)
        with pytest.raises(ServiceFault, match=words):
            ingest.ingest_file(claimed, ws, load_registry(), store, move=True)
    assert claimed.exists()
    assert _returns_in(ws.rejected) == [] and _returns_in(ws.archive) == []


# -- the clock stepped back ---------------------------------------------------------------------


def _ingest_at(corpus: Corpus, ws: Workspace, store, k: int, when: datetime):
    from sheet_tools.definitions.frameworks import load_registry
    from sheet_tools.service.ingest import ingest_file

    folder = ws.root.parent / f"v{k}"
    folder.mkdir(exist_ok=True)
    path = corpus.variant(0, k, folder)
    report = ingest_file(path, ws, load_registry(), store, arrived_at=when)
    assert report.status == "accepted", report.errors
    return report.sha256


def test_a_later_return_stored_while_the_clock_went_back_supersedes_the_earlier(
    corpus: Corpus, tmp_path: Path
) -> None:
    from sheet_tools.store.facade import Store

    ws = Workspace.at(tmp_path / "ws")
    ws.ensure()
    noon = datetime(2026, 10, 3, 12, 0, tzinfo=UTC)
    with Store(ws.database) as store:
        first = _ingest_at(corpus, ws, store, 1, noon)
        # NTP steps the clock back an hour before the school's corrected return arrives
        corrected = _ingest_at(corpus, ws, store, 2, noon - timedelta(hours=1))
        [current] = store.returns()
        assert current.sha256 == corrected
        assert store.find_return(first).superseded
        assert not store.find_return(corrected).superseded


def test_the_migration_to_the_stores_order_reports_each_return_whose_standing_changes(
    corpus: Corpus, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from sheet_tools.store.facade import MIGRATIONS, Store

    step = next(
        n
        for n, steps in enumerate(MIGRATIONS)
        if any("CREATE TABLE reordered" in str(s) for s in steps)
    )
    ws = Workspace.at(tmp_path / "ws")
    ws.ensure()
    noon = datetime(2026, 10, 3, 12, 0, tzinfo=UTC)
    with Store(ws.database) as store:
        first = _ingest_at(corpus, ws, store, 1, noon)
        corrected = _ingest_at(corpus, ws, store, 2, noon - timedelta(hours=1))
        ids = {r.sha256: r.id for r in store.returns(include_superseded=True)}
    # back to the database as it was before the step (the tables it and later steps make
    # dropped): arrival order made ``first`` current
    later = {
        name
        for steps in MIGRATIONS[step:]
        for sql in steps
        if isinstance(sql, str)
        for name in re.findall(r"CREATE TABLE (\w+)", sql)
    }
    # and the columns later steps add to older tables
    added = [
        (table, column)
        for steps in MIGRATIONS[step:]
        for sql in steps
        if isinstance(sql, str)
        for table, column in re.findall(r"ALTER TABLE (\w+) ADD COLUMN (\w+)", sql)
        if table not in later
    ]
    with sqlite3.connect(ws.database) as db:
        for table in sorted(later):
            db.execute(f"DROP TABLE {table}")
        for table, column in added:
            db.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        db.execute(f"PRAGMA user_version = {step}")
    with caplog.at_level("WARNING", logger="sheet_tools.store"), Store(ws.database) as store:
        rows = sorted(store._db.execute("SELECT return_id, now_superseded FROM reordered"))
        assert rows == sorted([(ids[first], 1), (ids[corrected], 0)])
        assert store.find_return(first).superseded
    warned = [r.getMessage() for r in caplog.records]
    assert any(f"return {ids[first]} " in m and "now superseded" in m for m in warned)
    assert any(f"return {ids[corrected]} " in m and "now current" in m for m in warned)


# -- a summary file that cannot be replaced -----------------------------------------------------


def test_a_locked_summary_is_skipped_named_once_and_retried_on_its_own(
    corpus: Corpus,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from sheet_tools.definitions.frameworks import load_registry
    from sheet_tools.service.ingest import ingest_file
    from sheet_tools.store.facade import Store
    from sheet_tools.summarise import writing
    from sheet_tools.summarise.rebuild import summarise_all
    from sheet_tools.summarise.writing import retry_unwritten, unwritten

    registry = load_registry()
    ws = Workspace.at(tmp_path / "ws")
    ws.ensure()
    with Store(ws.database) as store:
        for i in (1, 2):
            ingest_file(corpus.school_return(i), ws, registry, store)
        summarise_all(store, registry, ws.outbox)
        before = {p: p.read_bytes() for p in ws.outbox.rglob("*.xlsx")}
        [locked] = [p for p in before if "Watch School 001" in p.name]
        release = refuse_replacing(monkeypatch, locked)
        folder = tmp_path / "newer"
        folder.mkdir()
        ingest_file(corpus.variant(1, 3, folder), ws, registry, store)  # school 1 again
        with caplog.at_level("WARNING", logger="sheet_tools.summarise"):
            summarise_all(store, registry, ws.outbox)  # does not fail
            summarise_all(store, registry, ws.outbox)
        named = [r for r in caplog.records if str(locked) in r.getMessage()]
        assert len(named) == 1  # once, however many rebuilds meet it
        assert unwritten() == [locked]
        assert locked.read_bytes() == before[locked]
        # the rest of the rebuild completed: the trust workbook now counts the newer return
        trust_books = [p for p in before if "trust summary" in p.name]
        assert any(p.read_bytes() != before[p] for p in trust_books)
        wanted = writing._UNWRITTEN[locked]
        assert retry_unwritten() == [locked]  # still locked: still waiting
        release()
        assert retry_unwritten() == []
        assert locked.read_bytes() == wanted != before[locked]


def test_tidy_removes_nothing_when_the_plan_calls_for_nothing(tmp_path: Path) -> None:
    import json

    from sheet_tools.summarise.outbox import MANIFEST, Planned, tidy

    outbox = tmp_path / "outbox"
    (outbox / "Trust").mkdir(parents=True)
    summary = outbox / "Trust" / "School (1) - spr.xlsx"
    summary.write_bytes(b"book")
    (outbox / MANIFEST).write_text(json.dumps(["Trust/School (1) - spr.xlsx"]), encoding="utf-8")
    assert tidy(outbox, Planned(), []) == []
    assert summary.exists()


# -- the database guarded -----------------------------------------------------------------------


def _one_return_stored(corpus: Corpus, folder: Path) -> tuple[Path, Workspace]:
    """A workspace whose watcher has run twice: once to make its database, once to store one
    return."""
    root = workspace(folder)
    ws = Workspace.at(root)
    assert _watch_once(root).returncode == 0
    source = corpus.school_return(1)
    (ws.inbox / source.name).write_bytes(source.read_bytes())
    assert _watch_once(root).returncode == 0
    return root, ws


def test_a_torn_database_stops_the_service_saying_so_and_rejects_nothing(
    corpus: Corpus, tmp_path: Path
) -> None:
    root, ws = _one_return_stored(corpus, tmp_path / "ws")  # the tables have pages
    with sqlite3.connect(ws.database) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page = db.execute("PRAGMA page_size").fetchone()[0]
        pages = db.execute("PRAGMA page_count").fetchone()[0]
    assert pages > 3
    with ws.database.open("r+b") as handle:  # tear a page in the middle of the file
        handle.seek(page * (pages // 2))
        handle.write(b"\xff" * page)
    second = corpus.school_return(2)
    (ws.inbox / second.name).write_bytes(second.read_bytes())
    torn = _watch_once(root)
    assert torn.returncode == 2
    assert "damaged" in torn.stderr and "backup" in torn.stderr
    assert _returns_in(ws.rejected) == []
    assert (ws.inbox / second.name).exists()


def test_a_start_that_would_make_a_new_database_beside_archived_returns_refuses(
    corpus: Corpus, tmp_path: Path
) -> None:
    root, ws = _one_return_stored(corpus, tmp_path / "ws")
    assert _returns_in(ws.archive)
    for path in root.glob("sheet-tools.db*"):
        path.unlink()  # the database deleted while the service was stopped
    refused = _watch_once(root)
    assert refused.returncode == 2
    assert "missing" in refused.stderr and "restore" in refused.stderr
    assert not ws.database.exists()


def test_summarise_names_a_summary_it_could_not_replace_and_exits_2(
    corpus: Corpus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command ends with the process, so nothing will try the file again: it says so."""
    from click.testing import CliRunner

    from sheet_tools.cli import main
    from sheet_tools.summarise import writing

    monkeypatch.setattr(writing, "_UNWRITTEN", {})
    monkeypatch.setattr(writing, "_REPORTED", set())
    root = tmp_path / "ws"
    assert CliRunner().invoke(main, ["init", str(root)]).exit_code == 0
    books = [str(corpus.school_return(i)) for i in (1, 2)]
    CliRunner().invoke(main, ["ingest", *books, "--workspace", str(root)])
    first = CliRunner().invoke(main, ["summarise", "--workspace", str(root)])
    assert first.exit_code == 0, first.output
    [locked] = [p for p in (root / "outbox").rglob("*.xlsx") if "Watch School 001" in p.name]
    refuse_replacing(monkeypatch, locked)
    result = CliRunner().invoke(main, ["summarise", "--workspace", str(root)])
    assert result.exit_code == 2
    assert f"Error: {locked} was not replaced: it is open in another program" in result.output
    assert "Wrote " in result.output  # the others were written
