"""Bounded workers: a file that aborts, exhausts or hangs the reader costs only that file.

Real worker processes throughout. The sharedStrings shapes are real: python-calamine 0.9 aborts
the whole process on them (proved first, in a plain subprocess, without the worker). The hostile
tasks (spin, sleep, allocate, abort) are run through the same pool code, for limits no real file
reaches on demand.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sheet_tools.base.workspace import Workspace
from sheet_tools.definitions.frameworks import Framework, Registry
from sheet_tools.intake.guard import DEFAULT_LIMITS
from sheet_tools.intake.pool import WorkerLimits, WorkerPool
from sheet_tools.intake.validate import assess
from sheet_tools.intake.worker import (
    MAX_ATTEMPTS,
    _record_attempt,
    attempts,
    check_bounded,
    read_ahead,
    read_task,
    using,
)
from sheet_tools.service.ingest import ingest_file
from sheet_tools.store.facade import Store
from tests.support import corpus, hostile, returns
from tests.support.helpers import sha256, workspace

# The file: both counts declared (as Excel writes them), a handful of strings inside.
SST_COUNT = 'count="4294967295" uniqueCount="4294967295"'
# calamine 0.9 sizes its table from uniqueCount alone: no count attribute needed
SST_UNIQUE = 'uniqueCount="4294967295"'
# 100 million strings: 2.4 GB asked for at once; aborts only under the worker's memory limit.
SST_LARGE = 'count="3" uniqueCount="100000000"'
SHAPES = {"count": SST_COUNT, "unique": SST_UNIQUE, "large": SST_LARGE}


@pytest.fixture(scope="module")
def good(spr: Framework, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return returns.valid_return(spr, tmp_path_factory.mktemp("worker-good"))


@pytest.fixture(scope="module")
def pool() -> WorkerPool:
    with WorkerPool(WorkerLimits(memory_mb=768, cpu_seconds=2, timeout_seconds=20)) as shared:
        yield shared


def calamine_in_a_subprocess(path: Path, memory_mb: int | None = None) -> int:
    """Open ``path`` with python-calamine in a fresh Python, outside any worker: exit status."""
    code = (
        "import sys, resource\n"
        "from python_calamine import CalamineWorkbook\n"
        "if len(sys.argv) > 2:\n"
        "    limit = int(sys.argv[2]) * 1024 * 1024\n"
        "    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))\n"
        "book = CalamineWorkbook.from_path(sys.argv[1])\n"
        "for name in book.sheet_names:\n"
        "    book.get_sheet_by_name(name).to_python()\n"
    )
    args = [sys.executable, "-c", code, str(path)] + ([str(memory_mb)] if memory_mb else [])
    env = {**os.environ, "RUST_BACKTRACE": "0"}
    return subprocess.run(args, capture_output=True, env=env, timeout=120).returncode


@pytest.mark.posix_limits
def test_the_shared_strings_count_shapes_really_abort_calamine(good: Path, tmp_path: Path) -> None:
    """The premise, checked on the installed python-calamine: these files kill a process."""
    assert calamine_in_a_subprocess(good) == 0
    for name in ("count", "unique"):
        path = corpus.shared_strings_copy(good, tmp_path, SHAPES[name], f"{name}.xlsx")
        assert calamine_in_a_subprocess(path) == -signal.SIGABRT, name
    # a huge count beside a true uniqueCount, or alone, is harmless: uniqueCount is what counts
    for harmless in ('count="4294967295" uniqueCount="3"', 'count="4294967295"'):
        path = corpus.shared_strings_copy(good, tmp_path, harmless, "harmless.xlsx")
        assert calamine_in_a_subprocess(path) == 0, harmless
    large = corpus.shared_strings_copy(good, tmp_path, SST_LARGE, "large.xlsx")
    assert calamine_in_a_subprocess(large, memory_mb=768) == -signal.SIGABRT


@pytest.mark.posix_limits
def test_a_poison_file_costs_only_its_own_worker(
    pool: WorkerPool, good: Path, registry: Registry, tmp_path: Path
) -> None:
    first = pool.run(read_task, str(good), DEFAULT_LIMITS, context=registry)
    assert first.ok and assess(good, first.value, registry)[0].status == "accepted"
    before = pool.replaced
    for name, attributes in SHAPES.items():
        path = corpus.shared_strings_copy(good, tmp_path, attributes, f"{name}.xlsx")
        outcome = pool.run(read_task, str(path), DEFAULT_LIMITS, context=registry)
        assert outcome.kind == "out-of-memory", (name, outcome)
        assert "memory allocation of" in outcome.detail
    assert pool.replaced == before + 3
    after = pool.run(read_task, str(good), DEFAULT_LIMITS, context=registry)
    assert after.ok and assess(good, after.value, registry)[0].status == "accepted"


def test_workers_are_kept_between_files(pool: WorkerPool, registry: Registry) -> None:
    pids = {pool.run(hostile.pid, context=registry).value for _ in range(5)}
    assert len(pids) == 1 and os.getpid() not in pids


@pytest.mark.posix_limits
def test_over_the_cpu_limit_a_worker_is_stopped(pool: WorkerPool, registry: Registry) -> None:
    outcome = pool.run(hostile.spin, "spin.xlsx", DEFAULT_LIMITS, context=registry)
    assert outcome.kind == "timeout"
    assert "processor time" in outcome.detail


def test_over_the_wall_clock_a_worker_is_stopped(registry: Registry) -> None:
    with WorkerPool(WorkerLimits(timeout_seconds=1)) as short:
        outcome = short.run(hostile.sleep, "sleep.xlsx", DEFAULT_LIMITS, context=registry)
        assert outcome.kind == "timeout"
        assert short.replaced == 1
        assert short.run(hostile.add, 2, 3, context=registry).value == 5


@pytest.mark.posix_limits
def test_over_the_memory_limit_a_worker_is_stopped(pool: WorkerPool, registry: Registry) -> None:
    outcome = pool.run(hostile.allocate, "big.xlsx", DEFAULT_LIMITS, context=registry)
    assert outcome.kind == "out-of-memory"


def test_aborts_exits_and_errors_are_told_apart(pool: WorkerPool, registry: Registry) -> None:
    aborted = pool.run(hostile.abort, "x.xlsx", DEFAULT_LIMITS, context=registry)
    assert (aborted.kind, aborted.detail) == ("crashed", "stopped by SIGABRT")
    exited = pool.run(hostile.exit_with_3, "x.xlsx", DEFAULT_LIMITS, context=registry)
    assert (exited.kind, exited.detail) == ("crashed", "exited with code 3")
    before = pool.replaced
    failed = pool.run(hostile.raise_error, "x.xlsx", DEFAULT_LIMITS, context=registry)
    assert failed.kind == "error" and "ValueError: a fault in the task" in failed.detail
    assert pool.replaced == before  # an exception does not cost the worker


@pytest.mark.parametrize(
    ("task", "code"),
    [
        (hostile.spin, "reader-timeout"),
        (hostile.allocate, "reader-out-of-memory"),
        (hostile.abort, "reader-crashed"),
    ],
)
@pytest.mark.posix_limits
def test_a_file_over_a_limit_is_rejected_once_and_not_retried(
    task: object, code: str, spr: Framework, registry: Registry, good: Path, tmp_path: Path
) -> None:
    ws = Workspace.at(tmp_path / "ws")
    ws.ensure()
    source = corpus.copy_to(good, tmp_path / "src", "hostile.xlsx")
    counter = tmp_path / "counter.txt"
    os.environ[hostile.COUNTER] = str(counter)
    try:
        limits = WorkerLimits(memory_mb=512, cpu_seconds=2, timeout_seconds=30)
        with using(limits=limits, check=task), Store(ws.database) as store:
            report = ingest_file(source, ws, registry, store)
    finally:
        del os.environ[hostile.COUNTER]
    assert report.status == "rejected"
    assert [i.code for i in report.errors] == [code]
    assert counter.read_text().splitlines() == ["hostile.xlsx"]  # read once, not retried
    assert sha256(ws.rejected / "hostile.xlsx") == sha256(source)
    text = (ws.rejected / "hostile.xlsx.errors.txt").read_text(encoding="utf-8")
    assert "Save As > Excel Workbook (.xlsx)" in text
    assert not (ws.rejected / "hostile.annotated.xlsx").exists()
    assert list((ws.temp / "attempts").iterdir()) == []


def test_a_file_read_at_two_service_stops_is_set_aside_unread(
    registry: Registry, good: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "attempts" / "digest"
    counter = tmp_path / "counter.txt"
    os.environ[hostile.COUNTER] = str(counter)
    try:
        with using(check=hostile.abort):
            _record_attempt(marker, 1)  # one stop: it may be unrelated, so it is read again
            report, _ = check_bounded(good, registry, marker)
            assert [i.code for i in report.errors] == ["reader-crashed"]
            assert counter.read_text().splitlines() == [good.name]
            _record_attempt(marker, MAX_ATTEMPTS)
            report, valid = check_bounded(good, registry, marker)
    finally:
        del os.environ[hostile.COUNTER]
    assert valid is None and [i.code for i in report.errors] == ["reader-crashed"]
    assert "stopped 2 times" in report.errors[0].message
    assert counter.read_text().splitlines() == [good.name]  # not read the second time
    assert attempts(marker) == 0


def test_ingest_reads_ahead_and_reads_each_file_once(
    registry: Registry, good: Path, tmp_path: Path
) -> None:
    """As ``sheet-tools ingest`` does: each file is checked while the one before is filed, and
    the check of the very same bytes is used: no file is read twice, a poison one included."""
    ws = Workspace.at(tmp_path / "ws")
    ws.ensure()
    src = tmp_path / "src"
    names = ["a.xlsx", "abort.xlsx", "b.xlsx", "a again.xlsx", "c.xlsx"]
    spr = registry.latest("specialist-provision-review")
    sources = {"b.xlsx": returns.valid_return(spr, tmp_path, seed=7)}
    sources["abort.xlsx"] = returns.valid_return(spr, tmp_path, seed=8)
    for name in names:
        corpus.copy_to(sources.get(name, good), src, name)
    paths = [src / name for name in names]
    counter = tmp_path / "counter.txt"
    os.environ[hostile.COUNTER] = str(counter)
    try:
        with (
            using(check=hostile.counted_check),
            read_ahead(registry, ws.temp / "attempts", paths) as ordered,
            Store(ws.database) as store,
        ):
            reports = [ingest_file(path, ws, registry, store) for path in ordered]
    finally:
        del os.environ[hostile.COUNTER]
    assert [(r.file, r.status) for r in reports] == [
        ("a.xlsx", "accepted"),
        ("abort.xlsx", "rejected"),
        ("b.xlsx", "accepted"),
        ("a again.xlsx", "duplicate"),
        ("c.xlsx", "duplicate"),
    ]
    assert [i.code for i in reports[1].errors] == ["reader-crashed"]
    # each read at most once; the duplicates may have been read ahead before the store said
    # they were known, or not at all when the batch ended first
    reads = counter.read_text().splitlines()
    assert len(reads) == len(set(reads))
    assert {"a.xlsx", "abort.xlsx", "b.xlsx"} <= set(reads) <= set(names)
    assert list((ws.temp / "attempts").iterdir()) == []


@pytest.mark.parametrize(("workers", "overlap"), [(1, False), (2, True)])
def test_ingest_reads_ahead_on_every_worker(
    registry: Registry, tmp_path: Path, workers: int, overlap: bool
) -> None:
    """With two workers, two files are read at once while the one before is filed; with one,
    reads never overlap. Shown by the reads meeting each other, not by timing them."""
    spr = registry.latest("specialist-provision-review")
    ws = Workspace.at(tmp_path / "ws")
    ws.ensure()
    paths = [returns.valid_return(spr, tmp_path / "src", seed=n) for n in range(1, 5)]
    meeting = tmp_path / "meeting"
    meeting.mkdir()
    os.environ[hostile.MEETING] = str(meeting)
    try:
        with (
            using(limits=WorkerLimits(workers=workers), check=hostile.meeting_check),
            read_ahead(registry, ws.temp / "attempts", paths) as ordered,
            Store(ws.database) as store,
        ):
            reports = [ingest_file(path, ws, registry, store) for path in ordered]
    finally:
        del os.environ[hostile.MEETING]
    assert [r.status for r in reports] == ["accepted"] * 4
    met = [line.split()[-1] for line in (meeting / "met.txt").read_text().splitlines()]
    assert len(met) == 4  # each file read once
    assert ("met" in met) is overlap


def test_the_ingest_command_files_a_poison_file_and_goes_on(
    registry: Registry, good: Path, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from sheet_tools.cli import main

    poison = corpus.shared_strings_copy(good, tmp_path, SST_COUNT, "poison.xlsx")
    result = CliRunner().invoke(
        main,
        [
            "ingest",
            str(poison),
            str(good),
            "--workspace",
            str(workspace(tmp_path / "ws")),
            "--json",
        ],
    )
    assert result.exit_code == 1, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [(r["status"], [e["code"] for e in r["errors"]]) for r in lines] == [
        ("rejected", ["reader-out-of-memory"]),
        ("accepted", []),
    ]
    assert sha256(tmp_path / "ws" / "rejected" / "poison.xlsx") == sha256(poison)


PARENT_SCRIPT = """
import sys, threading, time
from sheet_tools.definitions.frameworks import load_registry
from sheet_tools.intake.pool import WorkerPool
from tests.support import hostile

pool = WorkerPool()
registry = load_registry()

def start():
    print(pool.run(hostile.pid, context=registry).value, flush=True)

if sys.argv[1] == "thread":  # started from a thread that then ends, as read-ahead does
    thread = threading.Thread(target=start)
    thread.start()
    thread.join()
else:
    start()
time.sleep(3600)
"""


@pytest.mark.posix_limits
@pytest.mark.parametrize("where", ["main", "thread"])
def test_a_worker_does_not_outlive_a_killed_service(where: str, tmp_path: Path) -> None:
    from tests.support.watching import DEADLINE, REPO, wait_for

    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT_SCRIPT, where],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        os.kill(child, 0)  # alive while the service is
        if where == "thread":
            time.sleep(1.5)  # the thread that started it has ended: it must still be there
            os.kill(child, 0)
    finally:
        parent.kill()
        parent.communicate(timeout=DEADLINE)

    def gone() -> bool:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return True
        with open(f"/proc/{child}/stat", encoding="ascii") as stat:
            return stat.read().split(") ")[1].startswith("Z")  # exited, not yet reaped

    wait_for(gone, "the worker to stop with its service")


@pytest.mark.posix_limits
def test_a_worker_killed_while_idle_is_replaced_without_costing_a_file(
    registry: Registry, good: Path
) -> None:
    with WorkerPool() as fresh:
        first = fresh.run(hostile.pid, context=registry).value
        os.kill(first, signal.SIGKILL)
        time.sleep(0.5)  # it is dead before the next file comes
        outcome = fresh.run(read_task, str(good), DEFAULT_LIMITS, context=registry)
        assert outcome.ok and assess(good, outcome.value, registry)[0].status == "accepted"
        assert fresh.run(hostile.pid, context=registry).value != first


def test_a_stop_signal_to_the_service_s_group_does_not_kill_the_file_in_hand(
    registry: Registry, tmp_path: Path
) -> None:
    """Ctrl+C and systemd's stop reach the worker too; the service finishes the file it holds,
    so the worker lets it finish rather than dying (and rejecting a good file)."""
    import threading

    counter = tmp_path / "counter.txt"
    os.environ[hostile.COUNTER] = str(counter)  # before the worker starts: it inherits it
    with WorkerPool() as fresh:
        pid = fresh.run(hostile.pid, context=registry).value
        try:
            box: dict[str, object] = {}
            thread = threading.Thread(
                target=lambda: box.update(
                    outcome=fresh.run(hostile.nap, "nap.xlsx", DEFAULT_LIMITS, context=registry)
                )
            )
            thread.start()
            wait_for_file(counter)
            os.kill(pid, signal.SIGINT)
            os.kill(pid, signal.SIGTERM)
            thread.join(60)
        finally:
            del os.environ[hostile.COUNTER]
        outcome = box["outcome"]
        assert outcome.ok and outcome.value == "done", outcome  # type: ignore[attr-defined]
        assert fresh.run(hostile.pid, context=registry).value == pid


def wait_for_file(path: Path) -> None:
    from tests.support.watching import wait_for

    wait_for(path.exists, f"{path.name} to appear")


def test_the_validate_command_reports_a_poison_file_and_goes_on(good: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from sheet_tools.cli import main

    poison = corpus.shared_strings_copy(good, tmp_path, SST_UNIQUE, "poison.xlsx")
    result = CliRunner().invoke(main, ["validate", str(poison), str(good), "--json"])
    assert result.exit_code == 1, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [(r["status"], [e["code"] for e in r["errors"]]) for r in lines] == [
        ("rejected", ["reader-out-of-memory"]),
        ("accepted", []),
    ]
