"""Untrusted files are parsed in bounded worker processes, so one bad file never stops the service.

Why: python-calamine aborts the whole process on shapes no guard can foresee (a 30 KB workbook
whose sharedStrings declares ``count="4294967295"`` makes it ask for 103 GB), and an abort cannot
be caught. So everything that parses a returned file (the guard, calamine, openpyxl writing the
annotated copy) runs in a worker process with an address-space limit (RLIMIT_AS), a processor-time
budget per file (RLIMIT_CPU, raised before each task) and a wall-clock timeout the parent enforces
by killing it. A worker that dies costs only the file it held: the caller gets a typed
``Outcome`` (crashed, timeout, out-of-memory) and the pool starts a fresh worker.

The pool itself (bounded processes, their limits, their deaths) is ``pool``'s; this module says
what runs in it: the check of a return and the annotated copy, with attempts counted per file.

Attempts: before a file is handed to a worker its attempt is counted in a marker named after its
SHA-256 (``<workspace>/.sheet-tools-tmp/attempts/``), removed when the worker answers or dies. A
marker left behind means the whole service stopped while the file was being read (a kill, a
reboot, the kernel's out-of-memory killer). One such stop may have nothing to do with the file
(``kill -9`` of a healthy service), so the file is read once more; a file that was being read at
two stops is rejected as ``reader-crashed`` without being read again. No file is tried more than
``MAX_ATTEMPTS`` (2) times, and a worker's death rejects its file at once, without a retry.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..base.files import sha256_file
from ..definitions.frameworks import Framework, Registry
from ..problems.report import FileReport, Issue
from .guard import DEFAULT_LIMITS, Limits
from .identity import Known
from .pool import DEFAULT_WORKER_LIMITS, Outcome, Pool, WorkerLimits, WorkerPool
from .returns import ValidReturn
from .validate import ReadFile, assess, read_file

MAX_ATTEMPTS = 2


# --- the pool the service uses -----------------------------------------------------------------
@dataclass
class _Shared:
    pool: Pool | None = None
    limits: WorkerLimits = DEFAULT_WORKER_LIMITS
    guard_limits: Limits = DEFAULT_LIMITS
    check: Callable[..., Any] | None = None
    ahead: _Ahead | None = None


Checked = tuple[FileReport, ValidReturn | None]
# What a bounded read gives: the values read, or the report of a file that could not be read
# (its worker died, ran out of time or memory, or it was set aside after killing the service).
Read = ReadFile | FileReport


class _Ahead:
    """Reads of files given in advance, ``depth`` at a time in background threads (each in a
    bounded worker, so one per worker of the pool), while this process stores and files the
    last. Only the reading is done ahead: validating (who the return is from) waits for its
    turn, so it sees every return stored before it."""

    def __init__(self, registry: Registry, attempts: Path | None, depth: int = 1) -> None:
        self.registry = registry
        self.attempts = attempts
        self.executor = ThreadPoolExecutor(depth, thread_name_prefix="sheet-tools-read-ahead")
        self.futures: list[Future[tuple[str, Read]]] = []
        self.done: dict[str, Read] = {}

    def submit(self, path: Path) -> None:
        self.futures.append(self.executor.submit(self._read, Path(path)))

    def _read(self, path: Path) -> tuple[str, Read]:
        if not stat.S_ISREG(os.lstat(path).st_mode):  # a link or a pipe: never read ahead
            raise ValueError(f"{path} is not an ordinary file")
        digest = sha256_file(path)  # streamed: never the whole file in the service's memory
        marker = self.attempts / digest if self.attempts is not None else None
        return digest, read_bounded(path, self.registry, marker)

    def take(self, sha256: str) -> Read | None:
        """The read of the file with these bytes, waiting for it if it is under way."""
        while sha256 not in self.done and self.futures:
            future = self.futures.pop(0)
            try:
                digest, read = future.result()
            except Exception:
                continue  # the file could not be read then: the caller reads it itself
            if read.sha256 in (None, digest):  # else it changed while being read
                self.done[digest] = read
        return self.done.pop(sha256, None)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


_SHARED = _Shared()
_SHARED_LOCK = threading.Lock()


@contextlib.contextmanager
def read_ahead(
    registry: Registry, attempts: Path | None, paths: Sequence[Path]
) -> Iterator[Iterator[Path]]:
    """Within: iterate the paths yielded; each is checked in advance, in order, as many ahead
    of the current one as the pool has workers, while this process stores and files the
    current. A ``check_bounded`` of the same bytes (same SHA-256: the very bytes checked) takes
    that result instead of reading the file again, so reading overlaps storing and filing and
    uses every worker. For ``ingest`` of many files."""
    with _SHARED_LOCK:
        depth = _SHARED.limits.workers
    ahead = _Ahead(registry, attempts, depth)

    def ordered() -> Iterator[Path]:
        submitted = 0
        for index, path in enumerate(paths):
            while submitted < len(paths) and submitted <= index + depth:
                ahead.submit(paths[submitted])
                submitted += 1
            yield path

    with _SHARED_LOCK:
        previous, _SHARED.ahead = _SHARED.ahead, ahead
    try:
        yield ordered()
    finally:
        ahead.close()
        with _SHARED_LOCK:
            _SHARED.ahead = previous


def shared_pool() -> Pool:
    """The process's pool, started on first use with the configured limits."""
    with _SHARED_LOCK:
        if _SHARED.pool is None:
            _SHARED.pool = WorkerPool(_SHARED.limits)
        return _SHARED.pool


@contextlib.contextmanager
def using(
    pool: Pool | None = None,
    *,
    limits: WorkerLimits | None = None,
    guard_limits: Limits | None = None,
    check: Callable[..., Any] | None = None,
) -> Iterator[Pool]:
    """Within: checks and annotated copies run in ``pool`` (default: a new bounded pool with
    ``limits``), guarded with ``guard_limits``. ``check`` replaces the task run for each file
    (tests use it to run deliberately hostile tasks through the same pool code)."""
    with _SHARED_LOCK:
        previous = (_SHARED.pool, _SHARED.limits, _SHARED.guard_limits, _SHARED.check)
        own = pool is None
        _SHARED.limits = limits or _SHARED.limits
        _SHARED.pool = pool if pool is not None else WorkerPool(_SHARED.limits)
        _SHARED.guard_limits = guard_limits or _SHARED.guard_limits
        _SHARED.check = check or _SHARED.check
        current = _SHARED.pool
    try:
        yield current
    finally:
        if own:
            current.close()
        with _SHARED_LOCK:
            _SHARED.pool, _SHARED.limits, _SHARED.guard_limits, _SHARED.check = previous


# --- the tasks ---------------------------------------------------------------------------------
def read_task(registry: Registry, path: str, limits: Limits) -> ReadFile:
    """In the worker: guard + read one file (all the parsing of untrusted bytes)."""
    return read_file(Path(path), registry, limits)


def annotate_task(source: str, report: FileReport, framework: Framework, target: str) -> None:
    """In the worker: write the annotated copy (openpyxl parses the untrusted original)."""
    from ..generate.annotate import annotate_workbook

    annotate_workbook(Path(source), report, framework, Path(target))


_CODES: dict[str, str] = {
    "crashed": "reader-crashed",
    "timeout": "reader-timeout",
    "out-of-memory": "reader-out-of-memory",
}


def failure_issue(outcome: Outcome) -> Issue:
    """The issue for a file whose reading failed, with the detail when there is one."""
    code = _CODES.get(outcome.kind, "reader-crashed")
    if outcome.detail:
        return Issue.of(code, variant="detail", detail=outcome.detail)
    return Issue.of(code)


def attempts(marker: Path) -> int:
    """Attempts at reading a file that never finished (the service stopped during them)."""
    try:
        return int(marker.read_text(encoding="ascii").strip() or "0")
    except (OSError, ValueError):
        return 0


def _record_attempt(marker: Path, count: int) -> None:
    """Written, not synced: what it guards against is this process being killed, after which
    the page cache still holds it. A marker lost with the power costs one more (bounded) read;
    a torn one reads as no attempt."""
    try:
        marker.write_text(str(count), encoding="ascii")
    except FileNotFoundError:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(str(count), encoding="ascii")


def _finish_attempt(marker: Path) -> None:
    with contextlib.suppress(OSError):
        marker.unlink()


def quarantined_report(path: Path, marker: Path) -> FileReport | None:
    """The rejection for a file that was being read at ``MAX_ATTEMPTS`` service stops, or None
    when it may be read (again)."""
    tried = attempts(marker)
    if tried < MAX_ATTEMPTS:
        return None
    issue = Issue.of("reader-crashed", variant="set-aside", attempts=tried)
    return FileReport(file=str(path), status="rejected", errors=[issue])


def read_bounded(path: Path, registry: Registry, marker: Path | None = None) -> Read:
    """guard + read in a bounded worker. A worker that dies or runs out of time rejects only
    this file, with its own code. With ``marker`` (a file named after the file's SHA-256) the
    attempt is counted there while the worker has the file, and a file already tried
    ``MAX_ATTEMPTS`` times is rejected without being read."""
    if marker is not None:
        quarantined = quarantined_report(path, marker)
        if quarantined is not None:
            _finish_attempt(marker)
            return quarantined
    tried = attempts(marker) if marker is not None else 0
    # Counted once a ready worker is in hand: a stop while a worker starts is not the file's.
    count = (lambda: _record_attempt(marker, tried + 1)) if marker is not None else None
    try:
        task = _SHARED.check or read_task
        pool = shared_pool()
        outcome = pool.run(task, str(path), _SHARED.guard_limits, context=registry, before=count)
    finally:
        if marker is not None:
            _finish_attempt(marker)
    if outcome.ok:
        return outcome.value
    if outcome.kind == "error":
        raise RuntimeError(outcome.detail)  # a fault in sheet-tools: reported as internal-error
    return FileReport(file=str(path), status="rejected", errors=[failure_issue(outcome)])


def check_bounded(
    path: Path,
    registry: Registry,
    marker: Path | None = None,
    sha256: str | None = None,
    *,
    known: Known | None = None,
) -> Checked:
    """``check_file`` with its reading in a bounded worker (``read_bounded``) and its
    validating here, against ``known`` as it is now. With ``sha256``, a read of the same bytes
    made in advance (``read_ahead``) is taken instead of reading the file again."""
    ahead = _SHARED.ahead
    read = ahead.take(sha256) if sha256 is not None and ahead is not None else None
    if read is None:
        read = read_bounded(path, registry, marker)
    if isinstance(read, FileReport):
        return read, None
    return assess(path, read, registry, known)


def annotate_bounded(source: Path, report: FileReport, framework: Framework, target: Path) -> bool:
    """Write the annotated copy in a bounded worker; False when it could not be written."""
    outcome = shared_pool().run(annotate_task, str(source), report, framework, str(target))
    return outcome.ok
