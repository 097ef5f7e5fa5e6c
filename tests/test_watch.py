"""The inbox watcher on real folders, real returns, a real database and real watchdog observers.

Every wait is a loop that polls for an outcome with a generous deadline; nothing asserts on time.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import sqlite3
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from sheet_tools.base.workspace import Workspace
from sheet_tools.cli import main
from sheet_tools.definitions.frameworks import Framework, Registry
from sheet_tools.problems.report import FileReport
from sheet_tools.service.claims import Completeness, completeness, is_ignored, sweep_stray_locks
from sheet_tools.service.config import ConfigError, WatchSettings, load_watch_settings
from sheet_tools.service.watch import (
    Pipeline,
    default_pipeline,
    run_watch,
    workspace_for,
)
from sheet_tools.store.facade import Store
from sheet_tools.store.ledger import LEDGER_NAME

from .support.helpers import sha256, workspace
from .support.watching import (
    DEADLINE,
    Corpus,
    db_rows,
    drop,
    fast_settings,
    filed,
    files_under,
    log_lines,
    running,
    start_watcher,
    summary_of,
    wait_for,
    watching,
)


@pytest.fixture(scope="session")
def corpus(spr: Framework, tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return Corpus(spr, tmp_path_factory.mktemp("watch-corpus"))


# -- which files, and when they are complete ----------------------------------------------------


def test_lock_temp_and_hidden_names_are_ignored() -> None:
    for name in (
        "~$Oak.xlsx",
        ".~lock.Oak.xlsx#",
        "Oak.tmp",
        "~WRL0001.TMP",
        ".DS_Store",
        "README.md",
    ):
        assert is_ignored(name), name
    for name in ("Oak.xlsx", "Oak.ods", "notes.txt", "lock~.xlsx", "Oak$.xlsx", "README.md.xlsx"):
        assert not is_ignored(name), name


def test_completeness_reads_the_zip_directory(corpus: Corpus, tmp_path: Path) -> None:
    whole = corpus.school_return(0)
    data = whole.read_bytes()
    head = tmp_path / "head.xlsx"
    head.write_bytes(data[: len(data) // 2])
    text = tmp_path / "text.xlsx"
    text.write_text("school,urn\nOak,123456\n")
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    assert completeness(whole) is Completeness.COMPLETE
    assert completeness(head) is Completeness.INCOMPLETE
    assert completeness(empty) is Completeness.INCOMPLETE
    assert completeness(text) is Completeness.NOT_ZIP


# -- backlog and --once through the command -----------------------------------------------------


def test_once_processes_the_backlog_and_exits(corpus: Corpus, tmp_path: Path) -> None:
    ws = Workspace.at(workspace(tmp_path))
    ws.ensure()
    returns = [drop(corpus.school_return(i), ws.inbox) for i in range(3)]
    expected = {p.name: sha256(p) for p in returns}
    (ws.inbox / "notes.txt").write_text("Please find our review attached.\n")
    ignored = ["~$Watch School 000.xlsx", ".~lock.Watch School 001.xlsx#", "scratch.tmp"]
    for name in ignored:
        (ws.inbox / name).write_bytes(b"owner file")
    (ws.inbox / "last year").mkdir()  # a folder is not looked into
    ignored.append("last year")

    result = CliRunner().invoke(
        main,
        ["watch", "--workspace", str(tmp_path), "--once", "--json"],
        env={"SHEET_TOOLS_STABLE_SECONDS": "0.2", "SHEET_TOOLS_INCOMPLETE_SECONDS": "2"},
    )
    assert result.exit_code == 1, result.output  # done, and notes.txt was rejected
    reports = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(r["file"] for r in reports) == sorted([*expected, "notes.txt"])
    status = {r["file"]: r["status"] for r in reports}
    assert {status[name] for name in expected} == {"accepted"}
    assert status["notes.txt"] == "rejected"
    assert all({"file", "status", "template", "school", "urn", "errors"} <= set(r) for r in reports)

    by_hash = filed(ws)
    for digest in expected.values():
        assert [p.parent for p in by_hash[digest]] == [ws.archive]  # byte for byte, once
    assert (ws.rejected / "notes.txt").is_file()
    assert (ws.rejected / "notes.txt.errors.txt").read_text(encoding="utf-8").strip()
    assert sorted(p.name for p in ws.inbox.iterdir()) == sorted(ignored)  # left alone
    assert files_under(ws.processing) == []
    assert sorted(d for d, _ in db_rows(ws, "returns")) == sorted(expected.values())
    for i in range(3):
        assert summary_of(ws, i).is_file()
    log = ws.log_file.read_text(encoding="utf-8")
    for name in [*expected, "notes.txt"]:
        assert sum(1 for line in log.splitlines() if f" {name}:" in line) == 1


# -- running: events, polling, slow copies, duplicates --------------------------------------------


@pytest.mark.parametrize("poll", [None, 0.2], ids=["native", "polling"])
def test_files_dropped_while_running_are_processed(
    corpus: Corpus, registry: Registry, tmp_path: Path, poll: float | None
) -> None:
    ws = Workspace.at(workspace(tmp_path))
    ws.ensure()
    backlog = drop(corpus.school_return(0), ws.inbox)
    with running(fast_settings(tmp_path, poll=poll), registry) as svc:
        svc.wait_reports(1)
        dropped = [drop(corpus.school_return(i), ws.inbox) for i in (1, 2, 3)]
        svc.wait_reports(4)
        wait_for(lambda: all(summary_of(ws, i).is_file() for i in range(4)), "the summaries")
    assert svc.names() == Counter([backlog.name, *(p.name for p in dropped)])
    assert {r.status for r in svc.reports} == {"accepted"}
    assert len(db_rows(ws, "returns")) == 4
    queried = [f"{r.file}.queries.txt" for r in svc.reports if r.warning_count]
    assert sorted(p.name for p in ws.archive.iterdir()) == sorted(
        [backlog.name, *(p.name for p in dropped), *queried, LEDGER_NAME]
    )
    assert list(ws.inbox.iterdir()) == []
    assert files_under(ws.processing) == []


def test_slow_copy_is_processed_once_after_it_ends(
    corpus: Corpus, registry: Registry, tmp_path: Path
) -> None:
    """Written in chunks with pauses longer than the stability interval: the incomplete zip
    holds it back, and it is taken once, whole, after the last chunk."""
    ws = Workspace.at(workspace(tmp_path))
    ws.ensure()
    source = corpus.school_return(5)
    data = source.read_bytes()
    target = ws.inbox / source.name
    done = threading.Event()
    seen_before_done: list[str] = []

    def on_report(report: FileReport) -> None:
        if not done.is_set():
            seen_before_done.append(report.file)

    def write_slowly() -> None:
        chunks = 8
        step = len(data) // chunks + 1
        with target.open("wb") as handle:
            for start in range(0, len(data), step):
                if start:
                    time.sleep(0.6)  # twice the stability interval: only the zip check holds it
                handle.write(data[start : start + step])
                handle.flush()
                if start + step >= len(data):
                    done.set()  # the last byte is written: from here on it may be taken

    settings = fast_settings(tmp_path, incomplete_seconds=60)
    with running(settings, registry, also=on_report) as svc:
        writer = threading.Thread(target=write_slowly)
        writer.start()
        writer.join()
        svc.wait_reports(1)
    assert seen_before_done == []
    assert [(r.file, r.status) for r in svc.reports] == [(source.name, "accepted")]
    assert [p.parent for p in filed(ws)[sha256(source)]] == [ws.archive]
    assert list(ws.rejected.iterdir()) == []


def test_stable_files_that_are_not_whole_workbooks_are_rejected_with_a_report(
    corpus: Corpus, registry: Registry, tmp_path: Path
) -> None:
    ws = Workspace.at(workspace(tmp_path))
    ws.ensure()
    data = corpus.school_return(0).read_bytes()
    with running(fast_settings(tmp_path, incomplete_seconds=1.5), registry) as svc:
        (ws.inbox / "half.xlsx").write_bytes(data[: len(data) // 2])
        (ws.inbox / "empty.xlsx").write_bytes(b"")
        (ws.inbox / "list.csv").write_text("school,urn\nOak,123456\n")
        svc.wait_reports(3)
    assert {r.file: r.status for r in svc.reports} == {
        "half.xlsx": "rejected",
        "empty.xlsx": "rejected",
        "list.csv": "rejected",
    }
    for name in ("half.xlsx", "empty.xlsx", "list.csv"):
        assert (ws.rejected / name).is_file()
        assert (ws.rejected / f"{name}.errors.txt").is_file()
    assert (ws.rejected / "half.xlsx").read_bytes() == data[: len(data) // 2]


def test_lock_and_temp_files_are_left_alone(
    corpus: Corpus, registry: Registry, tmp_path: Path
) -> None:
    ws = Workspace.at(workspace(tmp_path))
    ws.ensure()
    ignored = {
        "~$Watch School 000.xlsx": b"owner",
        ".~lock.Watch School 000.xlsx#": b"lock",
        "Watch School 000.tmp": corpus.school_return(0).read_bytes(),
        ".hidden.xlsx": corpus.school_return(1).read_bytes(),
    }
    with running(fast_settings(tmp_path, rescan_seconds=0.5), registry) as svc:
        for name, data in ignored.items():
            (ws.inbox / name).write_bytes(data)
        # Anything not ignored would be due no later than the first sentinel, and taken in
        # the same pass; that pass is over once the second sentinel, dropped after, is done.
        first = drop(corpus.school_return(2), ws.inbox)
        svc.wait_reports(1)
        second = drop(corpus.school_return(3), ws.inbox)
        svc.wait_reports(2)
    assert [r.file for r in svc.reports] == [first.name, second.name]
    assert {p.name: p.read_bytes() for p in ws.inbox.iterdir()} == ignored
    assert len(db_rows(ws, "returns")) == 2


def test_the_same_file_dropped_twice_is_a_duplicate_stored_once(
    corpus: Corpus, registry: Registry, tmp_path: Path
) -> None:
    ws = Workspace.at(workspace(tmp_path))
    ws.ensure()
    source = corpus.school_return(0)
    with running(fast_settings(tmp_path), registry) as svc:
        drop(source, ws.inbox)
        svc.wait_reports(1)
        drop(source, ws.inbox)
        svc.wait_reports(2)
    assert [(r.file, r.status) for r in svc.reports] == [
        (source.name, "accepted"),
        (source.name, "duplicate"),
    ]
    assert [d for d, _ in db_rows(ws, "returns")] == [sha256(source)]
    assert len(filed(ws)[sha256(source)]) == 2  # both files kept, neither overwritten
    assert list(ws.inbox.iterdir()) == []


def test_a_burst_causes_a_handful_of_summary_rebuilds(
    corpus: Corpus, registry: Registry, tmp_path: Path
) -> None:
    ws = Workspace.at(workspace(tmp_path))
    ws.ensure()
    staging = tmp_path / "staging"
    staging.mkdir()
    burst = [corpus.variant(i % 6, i // 6, staging) for i in range(36)]
    settings = fast_settings(tmp_path, summary_quiet_seconds=1.0, summary_max_delay_seconds=30)
    with running(settings, registry) as svc:
        for path in burst:
            os.rename(path, ws.inbox / path.name)  # all land at once
        svc.wait_reports(len(burst))
        wait_for(lambda: all(summary_of(ws, i).is_file() for i in range(6)), "the summaries")
    assert {r.status for r in svc.reports} == {"accepted"}
    assert 1 <= svc.stats.summaries <= 4


@pytest.mark.parametrize("poll", [0.2, None], ids=["polling", "native"])
def test_the_watcher_survives_the_inbox_going_away_and_coming_back(
    corpus: Corpus,
    registry: Registry,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    poll: float | None,
) -> None:
    """watchdog's PollingObserver stops for good when the folder vanishes (an SMB share going
    away) and a native observer keeps watching the deleted folder; the service notices, says
    so, and watches the folder again once it is back. The rescan is off (600 s), so the file
    dropped after the outage can only be seen by the restarted observer."""
    caplog.set_level(logging.INFO, logger="sheet_tools")
    ws = Workspace.at(workspace(tmp_path))
    ws.ensure()

    def logged(text: str) -> bool:
        return any(text in message for message in list(caplog.messages))

    with running(fast_settings(tmp_path, poll=poll), registry) as svc:
        drop(corpus.school_return(0), ws.inbox)
        svc.wait_reports(1)
        shutil.rmtree(ws.inbox)
        wait_for(lambda: logged("not reachable"), "the outage to be noticed")
        ws.inbox.mkdir()
        wait_for(lambda: logged("is back"), "the watcher to restart")
        late = drop(corpus.school_return(1), ws.inbox)
        svc.wait_reports(2)
    assert [(r.file, r.status) for r in svc.reports][1] == (late.name, "accepted")
    assert svc.stats.observer_restarts >= 1


@pytest.mark.parametrize("poll", [0.2, None], ids=["polling", "native"])
def test_a_share_that_blinks_loses_nothing_and_takes_nothing_twice(
    corpus: Corpus,
    registry: Registry,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    poll: float | None,
) -> None:
    """The share goes away with a file on it that the watcher has not seen, and comes back:
    that file is taken once, the one filed before the outage is not taken again, and the log
    says what happened. The rescan is off (600 s): only the restart's own listing finds it."""
    caplog.set_level(logging.INFO, logger="sheet_tools")
    ws = Workspace.at(workspace(tmp_path))
    ws.ensure()
    away = tmp_path / "share-away"

    def logged(text: str) -> bool:
        return any(text in message for message in list(caplog.messages))

    with running(fast_settings(tmp_path, poll=poll), registry) as svc:
        first = drop(corpus.school_return(2), ws.inbox)
        svc.wait_reports(1)
        os.rename(ws.inbox, away)  # the share is unmounted
        wait_for(lambda: logged("not reachable"), "the outage to be noticed")
        during = drop(corpus.school_return(3), away)  # arrives on the share meanwhile
        os.rename(away, ws.inbox)  # and the share is back, as it was left
        wait_for(lambda: logged("is back"), "the watcher to restart")
        svc.wait_reports(2)
        later = drop(corpus.school_return(4), ws.inbox)
        svc.wait_reports(3)
    assert [(r.file, r.status) for r in svc.reports] == [
        (first.name, "accepted"),
        (during.name, "accepted"),
        (later.name, "accepted"),
    ]
    assert list(ws.inbox.iterdir()) == []
    assert files_under(ws.processing) == []
    assert sorted(name for _, name in db_rows(ws, "returns")) == sorted(
        [first.name, during.name, later.name]
    )


# -- settings ------------------------------------------------------------------------------------


def test_settings_come_from_the_command_line_then_environment_then_file(tmp_path: Path) -> None:
    (tmp_path / "sheet-tools.toml").write_text(
        '[watch]\ninbox = "drop"\npoll = 7\nstable_seconds = 4\nincomplete_seconds = 9\n',
        encoding="utf-8",
    )
    env = {"SHEET_TOOLS_WORKSPACE": str(tmp_path), "SHEET_TOOLS_STABLE_SECONDS": "1.5"}
    settings = load_watch_settings({"poll": 3.0, "inbox": None}, environ=env)
    assert settings.workspace == tmp_path
    assert settings.inbox == tmp_path / "drop"  # relative to the workspace, from the file
    assert settings.poll == 3.0  # command line beats file
    assert settings.stable_seconds == 1.5  # environment beats file
    assert settings.incomplete_seconds == 9  # file beats default
    assert load_watch_settings({"workspace": tmp_path, "poll": 0}, environ={}).poll is None


def test_a_misspelt_setting_is_an_error_that_names_it(tmp_path: Path) -> None:
    (tmp_path / "sheet-tools.toml").write_text("[watch]\nstable_secs = 4\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="stable_secs"):
        load_watch_settings({"workspace": tmp_path}, environ={})
    result = CliRunner().invoke(main, ["watch", "--workspace", str(tmp_path), "--once"], env={})
    assert result.exit_code == 2
    assert "stable_secs" in result.output
    assert "Traceback" not in result.output


# -- recovery and faults ------------------------------------------------------------------------


def test_files_left_by_a_dead_watcher_are_recovered_and_live_ones_left(
    corpus: Corpus, registry: Registry, tmp_path: Path
) -> None:
    from sheet_tools.service.claims import _try_lock

    ws = Workspace.at(workspace(tmp_path))
    ws.ensure()
    dead = ws.processing / "otherhost-123-dead"
    dead.mkdir()
    left_copy = corpus.school_return(0)
    drop(left_copy, dead)
    (dead / ".summaries-owed").write_text("2000-01-01T00:00:00+00:00", encoding="utf-8")
    live = ws.processing / "otherhost-456-live"
    live.mkdir()
    lock = _try_lock(ws.processing / "otherhost-456-live.lock")  # held: that watcher is alive
    busy = drop(corpus.school_return(1), live)
    try:
        stats = run_watch(fast_settings(tmp_path, once=True), registry)
    finally:
        assert lock is not None
        os.close(lock)
    assert stats.accepted == 1 and stats.recovered == 1
    assert [p.parent for p in filed(ws)[sha256(left_copy)]] == [ws.archive]
    assert not dead.exists()
    assert busy.exists()  # never touched while its owner holds the lock
    assert summary_of(ws, 0).is_file()


def test_a_leftover_link_to_a_filed_return_is_not_counted_again(
    corpus: Corpus, registry: Registry, tmp_path: Path
) -> None:
    """A kill between filing a return (a hard link into archive/) and unlinking it from
    processing/, with another watcher's start-up marking the filing done meanwhile: the
    recovering watcher drops the leftover link and reports the recorded outcome."""
    from sheet_tools.base.clock import utc_now
    from sheet_tools.intake.validate import check_file

    ws = Workspace.at(workspace(tmp_path))
    ws.ensure()
    dead = ws.processing / "otherhost-789-dead"
    dead.mkdir()
    work = drop(corpus.school_return(3), dead)
    digest = sha256(work)
    report, valid = check_file(work, registry)
    report = report.model_copy(update={"file": work.name, "sha256": digest})
    os.link(work, ws.archive / work.name)
    with Store(ws.database) as store:
        event = store.record(
            report,
            sha256=digest,
            file_name=work.name,
            arrived_at=utc_now(),
            destination=f"archive/{work.name}",
            valid=valid,
        )
        store.finish_event(event.id)
    reports: list[FileReport] = []
    stats = run_watch(fast_settings(tmp_path, once=True), registry, on_report=reports.append)
    assert [(r.file, r.status) for r in reports] == [(work.name, "accepted")]
    assert stats.recovered == 1
    assert [p.parent for p in filed(ws)[digest]] == [ws.archive]  # one file, not two
    assert (ws.archive / work.name).stat().st_nlink == 1
    with sqlite3.connect(ws.database) as db:
        assert db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 1
    assert summary_of(ws, 3).is_file()


def test_old_stray_lock_files_are_swept_and_young_ones_left(tmp_path: Path) -> None:
    claims = tmp_path / "processing"
    claims.mkdir()
    old, young, kept = (claims / f"{n}.lock" for n in ("old", "young", "kept"))
    for path in (old, young, kept):
        path.write_bytes(b"")
    (claims / "kept").mkdir()  # a session folder: its lock is never swept
    long_ago = time.time() - 3600
    os.utime(old, (long_ago, long_ago))
    os.utime(kept, (long_ago, long_ago))
    assert sweep_stray_locks(claims) == 1
    assert sorted(p.name for p in claims.iterdir()) == ["kept", "kept.lock", "young.lock"]


def test_a_file_the_step_could_not_file_stays_claimed_and_is_retried(
    corpus: Corpus, registry: Registry, tmp_path: Path
) -> None:
    """A fault (here: the first attempt fails) never loses the file or reports it twice, and a
    second file of the same name meanwhile does not clash with it in processing/."""
    ws = Workspace.at(workspace(tmp_path))
    ws.ensure()
    first = corpus.school_return(0)
    staging = tmp_path / "staging"
    staging.mkdir()
    second = corpus.variant(1, 1, staging, name=first.name)  # another school, same file name
    broken = threading.Event()
    broken.set()
    attempts: list[str] = []
    with Store(ws.database) as store:
        real = default_pipeline(ws, registry, store)

        def flaky(path: Path) -> FileReport:
            attempts.append(path.name)
            if broken.is_set() and sha256(path) == sha256(first):
                raise OSError("the disk is full")
            return real.process(path)

        pipeline = Pipeline(flaky, real.summarise, real.owed_since, real.settle)
        with running(fast_settings(tmp_path, rescan_seconds=0.5), registry, pipeline) as svc:
            drop(first, ws.inbox)
            wait_for(lambda: len(attempts) >= 2, "a first attempt and a retry")
            assert [p.name for p in files_under(ws.processing)] == [first.name]  # kept
            assert svc.reports == []  # nothing reported while nothing is filed
            drop(second, ws.inbox)
            svc.wait_reports(1)
            broken.clear()
            svc.wait_reports(2)
    assert sorted(r.file for r in svc.reports) == [first.name, first.name]
    assert {r.status for r in svc.reports} == {"accepted"}
    assert sorted(filed(ws)) == sorted([sha256(first), sha256(second)])
    assert files_under(ws.processing) == []


# -- separate processes: the race and signals ----------------------------------------------------


@pytest.mark.slow
def test_two_watchers_racing_over_200_files_process_each_once(
    corpus: Corpus, tmp_path: Path
) -> None:
    ws = Workspace.at(workspace(tmp_path))
    ws.ensure()
    staging = tmp_path / "staging"
    staging.mkdir()
    files = [corpus.variant(i % 20, i // 20, staging) for i in range(200)]
    expected = {p.name: sha256(p) for p in files}
    assert len(set(expected.values())) == 200
    watchers = [start_watcher(tmp_path, "--json") for _ in range(2)]
    try:
        wait_for(lambda: all(watching(ws, w.pid) for w in watchers), "both watchers to start")
        for path in files:
            os.rename(path, ws.inbox / path.name)
        wait_for(
            lambda: sum(len(v) for v in filed(ws).values()) >= 200 and not any(ws.inbox.iterdir()),
            "all 200 files to be filed",
        )
    finally:
        for w in watchers:
            w.send_signal(signal.SIGTERM)
        outputs = [w.communicate(timeout=DEADLINE) for w in watchers]
    assert [w.returncode for w in watchers] == [0, 0], [err[-2000:] for _, err in outputs]
    reports = [json.loads(line) for out, _ in outputs for line in out.splitlines()]
    assert Counter(r["file"] for r in reports) == Counter(expected.keys())  # each once
    assert {r["status"] for r in reports} == {"accepted"}
    by_hash = filed(ws)
    assert {d: len(paths) for d, paths in by_hash.items()} == dict.fromkeys(expected.values(), 1)
    assert sorted(d for d, _ in db_rows(ws, "returns")) == sorted(expected.values())
    assert files_under(ws.processing) == []
    outcome_lines = [line for line in log_lines(ws) if " accepted " in line]
    assert len(outcome_lines) == 200


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_service_cleanly(
    corpus: Corpus, tmp_path: Path, sig: signal.Signals
) -> None:
    ws = Workspace.at(workspace(tmp_path))
    ws.ensure()
    staging = tmp_path / "staging"
    staging.mkdir()
    files = [corpus.variant(i % 5, i // 5, staging) for i in range(20)]
    expected = {p.name: sha256(p) for p in files}
    watcher = start_watcher(tmp_path)
    try:
        wait_for(lambda: watching(ws, watcher.pid), "the watcher to start")
        for path in files:
            os.rename(path, ws.inbox / path.name)
        wait_for(lambda: any(" accepted " in line for line in log_lines(ws)), "a first file")
    finally:
        watcher.send_signal(sig)
        _, err = watcher.communicate(timeout=DEADLINE)
    assert watcher.returncode == 0, err[-2000:]
    assert "Traceback" not in err
    assert any(f"[{watcher.pid}] stopped:" in line for line in log_lines(ws))
    assert list(ws.processing.iterdir()) == []  # no claimed file, no session left behind
    left = [sha256(p) for p in ws.inbox.iterdir()]
    done = [sha256(p) for paths in filed(ws).values() for p in paths]
    assert sorted(left + done) == sorted(expected.values())  # each in exactly one place
    assert done  # the first file, at least, was finished before stopping

    # whatever the signal interrupted is finished by the next run, each file counted once
    result = CliRunner().invoke(main, ["watch", "--workspace", str(tmp_path), "--once"], env={})
    assert result.exit_code == 0, result.output
    assert {d: len(p) for d, p in filed(ws).items()} == dict.fromkeys(expected.values(), 1)
    assert sorted(d for d, _ in db_rows(ws, "returns")) == sorted(expected.values())


def test_a_second_signal_stops_at_once_and_the_next_start_finishes(
    corpus: Corpus, tmp_path: Path
) -> None:
    ws = Workspace.at(workspace(tmp_path))
    ws.ensure()
    staging = tmp_path / "staging"
    staging.mkdir()
    files = [corpus.variant(i % 5, i // 5 + 10, staging) for i in range(20)]
    expected = {p.name: sha256(p) for p in files}
    watcher = start_watcher(tmp_path)
    try:
        wait_for(lambda: watching(ws, watcher.pid), "the watcher to start")
        for path in files:
            os.rename(path, ws.inbox / path.name)
        wait_for(lambda: any(" accepted " in line for line in log_lines(ws)), "a first file")
    finally:
        watcher.send_signal(signal.SIGINT)
        watcher.send_signal(signal.SIGINT)
        watcher.communicate(timeout=DEADLINE)
    result = CliRunner().invoke(main, ["watch", "--workspace", str(tmp_path), "--once"], env={})
    assert result.exit_code == 0, result.output
    assert {d: len(p) for d, p in filed(ws).items()} == dict.fromkeys(expected.values(), 1)
    assert sorted(d for d, _ in db_rows(ws, "returns")) == sorted(expected.values())
    assert files_under(ws.processing) == []
    for i in range(5):
        assert summary_of(ws, i).is_file()


def test_workspace_for_defaults_inbox_and_outbox_inside_it(tmp_path: Path) -> None:
    ws = workspace_for(WatchSettings(workspace=tmp_path))
    assert (ws.inbox, ws.outbox, ws.processing) == (
        tmp_path / "inbox",
        tmp_path / "outbox",
        tmp_path / "processing",
    )
