"""Writing the summaries: the jobs that write each school's, trust's and family's workbook (in
worker processes when there are many), and the files that could not be replaced. Every file is
written to a temporary file in the same folder and renamed into place, so nobody opening the
outbox sees half a file.

Each file is replaced on its own: one that cannot be (open in Excel on Windows, read-only) is
skipped, named once in the log, and kept with its new contents to be tried again on its own
(``retry_unwritten``; a family's trust workbook is rebuilt afresh, its typed Preparation column
read back first), while the rest of the rebuild completes.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

from ..base.files import write_bytes_atomically
from ..definitions.frameworks import Framework
from ..store.facade import Correction, Store
from .family_trust import FamilyTrustData, build_family_trust_workbook
from .outbox import school_chart_path, school_summary_path, trust_summary_path
from .preparation import keep_preparation
from .school import build_school_workbook
from .scores import SchoolHistory
from .stages import Kept
from .trust import TrustData, build_trust_workbook

logger = logging.getLogger("sheet_tools.summarise")

# Summaries that could not replace the file in place, by path, with the bytes wanted there; and
# those already named in the log (once per file until it is written).
_UNWRITTEN: dict[Path, bytes] = {}
_REPORTED: set[Path] = set()
# A family's trust workbook that could not be read back or replaced: never retried with its old
# bytes (they would lose what is typed into it meanwhile) but rebuilt afresh from its data.
_WAITING: dict[Path, tuple[Path, FamilyTrustData]] = {}
Unwritten = dict[Path, bytes]


def _replace(data: bytes, target: Path, unwritten: Unwritten | None) -> Path | None:
    """``write_bytes_atomically``; with ``unwritten``, a file that cannot be replaced (locked or
    read-only: PermissionError) is noted there instead of failing the rebuild."""
    if unwritten is None:
        return write_bytes_atomically(data, target)
    try:
        return write_bytes_atomically(data, target)
    except PermissionError:
        unwritten[target] = data
        return None


def _say_once(path: Path, then: str) -> None:
    """Name a file that cannot be replaced in the log, once until it is written."""
    if path not in _REPORTED:
        _REPORTED.add(path)
        logger.warning(
            "cannot replace %s: it is open in another program or read-only; the other "
            "summaries are written, and this one %s while the service runs (else at the next "
            "summarise)",
            path,
            then,
        )


def _note_unwritten(unwritten: Unwritten) -> None:
    for path, data in unwritten.items():
        _UNWRITTEN[path] = data
        _say_once(path, "is tried again")


def note_waiting(path: Path, job: tuple[Path, FamilyTrustData]) -> None:
    _WAITING[path] = job
    _say_once(path, "is rebuilt, keeping its Preparation column, when it can be")


def _note_written(paths: Iterable[Path]) -> None:
    for path in paths:
        _UNWRITTEN.pop(path, None)
        _WAITING.pop(path, None)
        _REPORTED.discard(path)


def unwritten() -> list[Path]:
    """Summaries still waiting to replace a locked or read-only file."""
    return sorted({*_UNWRITTEN, *_WAITING})


def retry_unwritten(store: Store | None = None) -> list[Path]:
    """Try again each summary that could not replace its file; returns those still waiting. A
    family's trust workbook is rebuilt afresh (read back, recorded, drawn from the store's notes),
    which needs the ``store``."""
    for path, data in list(_UNWRITTEN.items()):
        if not path.parent.is_dir():  # its folder went (the school moved): nothing to replace
            _note_written([path])
            continue
        if _replace(data, path, {}) is not None:
            logger.info("%s is written now", path)
            _note_written([path])
    for path, (outbox, family) in list(_WAITING.items()) if store is not None else ():
        if not path.parent.is_dir():
            _note_written([path])
            continue
        notes, locked = keep_preparation(store, [path], family.unique_names)
        if not locked and write_family_summary(outbox, family, notes) is not None:
            logger.info("%s is written now", path)
            _note_written([path])
    return unwritten()


def write_school_summary(
    outbox: Path,
    framework: Framework,
    history: SchoolHistory,
    trust: str | None,
    corrections: Sequence[Correction] = (),
    family: Sequence[tuple[Framework, SchoolHistory]] = (),
    today: date | None = None,
    unwritten: Unwritten | None = None,
) -> list[Path]:
    """Write (atomically) one school's workbook and radar PNG; returns the paths written (a
    file that cannot be replaced goes into ``unwritten`` when given)."""
    current = history.current
    target = school_summary_path(outbox, trust, current.school, history.urn, framework.id)
    target.parent.mkdir(parents=True, exist_ok=True)
    book, png = build_school_workbook(framework, history, trust, corrections, family, today)
    written = []
    if png is not None:
        chart = school_chart_path(outbox, trust, current.school, history.urn, framework.id)
        written.append(_replace(png, chart, unwritten))
    written.insert(0, _replace(book, target, unwritten))
    return [path for path in written if path is not None]


def write_trust_summary(
    outbox: Path, data: TrustData, unwritten: Unwritten | None = None
) -> Path | None:
    target = trust_summary_path(outbox, data.name, data.framework.id)
    target.parent.mkdir(parents=True, exist_ok=True)
    return _replace(build_trust_workbook(data), target, unwritten)


def family_summary_path(outbox: Path, data: FamilyTrustData) -> Path:
    return trust_summary_path(outbox, data.name, data.family)


def write_family_summary(outbox: Path, data: FamilyTrustData, notes: Kept) -> Path | None:
    """A trust's one workbook of a family of forms, its Preparation column from ``notes`` (the
    store's, recorded from the file it replaces); None when the file cannot be replaced."""
    target = family_summary_path(outbox, data)
    target.parent.mkdir(parents=True, exist_ok=True)
    return _replace(build_family_trust_workbook(data, notes), target, {})


# Below this many workbooks a rebuild runs in-process; above it, on every core, since each
# workbook is independent and a full rebuild of a large workspace is thousands of them.
PARALLEL_MIN_JOBS = 24


# ("school", (outbox, framework, history, trust, corrections)), ("trust", (outbox, trust data))
# or ("family", (outbox, family trust data, preparation notes))
Job = tuple[str, tuple]


def _write_jobs(jobs: Sequence[Job]) -> tuple[list[Path], Unwritten, list[Path]]:
    """Each job's files, one at a time: (written, those that could not be replaced, the family
    workbooks that could not be, to be rebuilt afresh)."""
    written: list[Path] = []
    skipped: Unwritten = {}
    held: list[Path] = []
    for kind, args in jobs:
        if kind == "school":
            written.extend(write_school_summary(*args, unwritten=skipped))
        elif kind == "family":
            if (path := write_family_summary(*args)) is not None:
                written.append(path)
            else:
                held.append(family_summary_path(*args[:2]))
        elif (path := write_trust_summary(*args, unwritten=skipped)) is not None:
            written.append(path)
    return written, skipped, held


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def run_jobs(jobs: Sequence[Job], workers: int | None) -> list[Path]:
    """Write the workbooks, in worker processes when there are many. Workers are spawned, not
    forked: the watcher that calls this runs threads."""
    count = min(workers if workers is not None else _cpus(), 8)
    families = {family_summary_path(*a[:2]): a[:2] for kind, a in jobs if kind == "family"}
    if count <= 1 or len(jobs) < PARALLEL_MIN_JOBS:
        written, skipped, held = _write_jobs(jobs)
        _note_written(written)
        _note_unwritten(skipped)
        for path in held:
            note_waiting(path, families[path])
        return written
    # small chunks, so no core idles at the end while another finishes a long one
    size = max(1, len(jobs) // (count * 32))
    chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    context = multiprocessing.get_context("spawn")
    written: list[Path] = []
    with ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
        for paths, skipped, held in pool.map(_write_jobs, chunks):
            written.extend(paths)
            _note_written(paths)
            _note_unwritten(skipped)
            for path in held:
                note_waiting(path, families[path])
    return written
