"""The pool, ingest and watch run as on Windows: a representative subset of their tests re-run
with the POSIX-only calls refused, in this process and in the real worker processes
(``tests.support.windows``). Left out: the poison-file tests, which need the memory and
processor-time limits Windows applies through a Job Object (tested against a fake kernel32 in
``test_platform``)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from sheet_tools.intake.pool import WorkerPool
from tests.support import hostile
from tests.support.windows import as_windows
from tests.test_ingest import (  # noqa: F401 - fixtures and tests re-run here
    a_return,
    store,
    test_accepted_return_is_stored_and_archived_byte_for_byte,
    test_ingest_command_prints_a_line_per_file_and_exits_1_on_a_rejection,
    test_rejected_return_gets_errors_txt_and_an_annotated_copy,
    test_same_bytes_again_are_a_duplicate_stored_once,
    ws,
)
from tests.test_watch import (  # noqa: F401
    corpus,
    test_files_left_by_a_dead_watcher_are_recovered_and_live_ones_left,
    test_lock_and_temp_files_are_left_alone,
    test_once_processes_the_backlog_and_exits,
    test_the_same_file_dropped_twice_is_a_duplicate_stored_once,
)
from tests.test_worker import (  # noqa: F401
    good,
    pool,
    test_a_file_read_at_two_service_stops_is_set_aside_unread,
    test_aborts_exits_and_errors_are_told_apart,
    test_ingest_reads_ahead_and_reads_each_file_once,
    test_over_the_wall_clock_a_worker_is_stopped,
    test_the_ingest_command_files_a_poison_file_and_goes_on,
    test_workers_are_kept_between_files,
)


@pytest.fixture(scope="module", autouse=True)
def windows() -> Iterator[None]:
    """Before any module fixture (the shared pool): every worker starts refusing too."""
    with as_windows():
        yield


def refused_in_a_worker() -> dict[str, bool]:
    """In a worker: which POSIX-only calls it could make."""
    import importlib
    import signal

    def importable(name: str) -> bool:
        try:
            importlib.import_module(name)
        except ImportError:
            return False
        return True

    try:
        with open("/proc/self/mountinfo", encoding="utf-8"):
            proc = True
    except OSError:
        proc = False
    return {
        "pread": hasattr(os, "pread"),
        "resource": importable("resource"),
        "fcntl": importable("fcntl"),
        "proc": proc,
        "SIGKILL": hasattr(signal, "SIGKILL"),
    }


def test_the_refusals_hold_here_and_in_the_workers() -> None:
    with WorkerPool() as fresh:
        outcome = fresh.run(refused_in_a_worker)
    assert outcome.ok, outcome
    assert outcome.value == dict.fromkeys(outcome.value, False)
    assert refused_in_a_worker() == dict.fromkeys(outcome.value, False)
    with pytest.raises(AssertionError, match="pass_fds"):
        subprocess.Popen([sys.executable, "-c", ""], pass_fds=(0,))


def test_a_library_printing_in_a_worker_does_not_corrupt_its_channel(registry: object) -> None:
    with WorkerPool() as fresh:
        outcome = fresh.run(hostile.chatter, "x.xlsx", None, context=registry)
        assert outcome.ok and outcome.value == 42, outcome
        assert fresh.run(hostile.add, 2, 3, context=registry).value == 5
        assert fresh.replaced == 0
