"""One returned file -> checked, stored and filed: the step both ``ingest`` and ``watch`` run.

guard -> read -> validate (``validate.check_file``) -> store, then the original goes, byte for
byte, to the workspace's archive (accepted, duplicate; an accepted return with warnings has
``<name>.queries.txt`` beside it) or rejected folder (with ``<name>.errors.txt`` and
``<stem>.annotated.xlsx`` beside it). The original is never altered and
nothing in archive/ or rejected/ is ever overwritten by another file.

The file worked on: with ``move=True`` (the watcher) the claimed file itself; with ``move=False``
(the ``ingest`` command) a private copy under ``.sheet-tools-tmp/``, so the bytes hashed, checked
and archived are one and the same even if someone saves over the original meanwhile.

Order, so that a ``kill -9`` at any moment loses nothing and counts nothing twice:

1. hash the file (``sha256_file``); if an earlier run on this file was interrupted after step 2,
   carry on from step 3 with the outcome it recorded (``resume_event``);
2. check it, then ONE transaction stores the outcome (return, duplicate or rejection) together
   with an event naming the destination chosen for the original (``record_file``);
3. hard-link the file at its destination: never replaces anything (a name taken meanwhile gets
   the next free name); a rename where links are not possible, a copy across disks
   (``file_event``, as are 4 and 5);
4. write ``errors.txt`` and the annotated copy (rejected), or ``queries.txt`` (accepted with
   warnings); derived, so rewriting is harmless;
5. unlink the working file, then mark the event done.

A crash before 2 leaves no trace in the database: the file is processed afresh. A crash between
2 and 3 leaves a pending event whose destination is free: ``ingest_file`` on the same file (same
bytes, same name) finishes it with the recorded outcome, so an accepted return is not reported
as its own duplicate. A crash between 3 and 5 leaves the file in hand linked at the destination
(the same file): it is finished, not filed again. A crash between 5's unlink and its mark leaves
a pending event whose original is in place: ``settle_events`` (run it when a service starts)
finishes it. Nothing is stored twice: returns are keyed by SHA-256 and an event is finished, never
recorded again. Interrupted private copies and temporary files are cleared by ``settle_events``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Literal

from ..base.clock import utc_now
from ..base.faults import UNUSABLE, service_fault
from ..base.files import safe_filename, sha256_file, write_bytes_atomically
from ..base.netfs import require_local_database
from ..base.workspace import Workspace
from ..definitions.frameworks import Registry
from ..definitions.roster import School, workspace_roster
from ..exceptions import DatabaseMissing, ServiceFault
from ..intake.identity import Known
from ..intake.returns import ValidReturn
from ..intake.worker import annotate_bounded, check_bounded, read_ahead, using
from ..mail.addressing import addressees_for
from ..problems.render import render_errors_file, render_queries_file
from ..problems.report import FileReport, Issue, about_the_file
from ..store import ledger
from ..store.facade import Event, Store, duplicate_issue
from ..store.ledger import Filed, ledger_path
from .claims import not_a_file
from .config import load_limits

ERRORS_SUFFIX = ".errors.txt"
QUERIES_SUFFIX = ".queries.txt"
ANNOTATED_SUFFIX = ".annotated.xlsx"
_ANNOTATABLE = {".xlsx", ".xlsm"}
_STALE_TEMP_S = 3600.0
# Attempts at reading a file, by SHA-256, while a worker has it (``worker.check_bounded``).
ATTEMPTS = "attempts"


def ingest_file(
    path: Path,
    workspace: Workspace,
    registry: Registry,
    store: Store,
    *,
    move: bool = False,
    arrived_at: datetime | None = None,
    roster: Sequence[School] | None = None,
) -> FileReport:
    """Check and store one file, then copy (or, with ``move``, rename) the original into the
    archive or the rejected folder. Never raises for a bad file: every outcome is a report. A
    fault of the service (a full disk, a disk error, a damaged database) raises ``ServiceFault``
    instead and leaves the file where it is: it is never the file's fault.
    ``roster`` (the workspace's) tells which school and trust a return is from."""
    path = Path(path)
    name = path.name
    arrived = arrived_at or utc_now()
    private: Path | None = None
    try:
        what = not_a_file(path)
    except OSError as exc:
        return _unreadable(name, exc)
    if what is not None:  # never followed: a link to a private file must not be filed
        issue = Issue.of("internal-error", variant="not-a-file", detail=what)
        return FileReport(file=name, status="rejected", errors=[issue])
    try:
        if move:
            work = path
        else:
            private = _private_folder(workspace) / name
            private.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, private)
            work = private
        digest = sha256_file(work)
    except OSError as exc:
        _discard(private)
        _raise_if_fault(exc, name)
        return _unreadable(name, exc)
    try:
        try:
            event = resume_event(work, digest, name, workspace, registry, store, move=move)
        except Exception as exc:
            _raise_if_fault(exc, name)
            event = None  # record_file reports what went wrong
        if event is None:
            event = record_file(
                work, digest, name, workspace, registry, store, arrived, roster=roster
            )
        return file_event(event, work, workspace, registry, store)
    finally:
        _discard(private)


def record_file(
    work: Path,
    sha256: str,
    name: str,
    workspace: Workspace,
    registry: Registry,
    store: Store,
    arrived_at: datetime,
    *,
    roster: Sequence[School] | None = None,
) -> Event:
    """Steps 1-2: check the file and record its outcome and destination in one transaction."""
    for folder in (workspace.archive, workspace.rejected):
        folder.mkdir(parents=True, exist_ok=True)
    valid: ValidReturn | None = None
    try:
        known = store.find_return(sha256)
        if known is not None:
            report = FileReport(
                file=name,
                status="duplicate",
                template=known.template_id,
                template_version=known.template_version,
                school=known.school,
                urn=known.urn,
                trust=known.trust,
                review_date=known.review_date.isoformat(),
                round=known.round,
                sha256=sha256,
                issue_id=known.issue_id,
                errors=[duplicate_issue(known.file_name, known.arrived_at)],
            )
        else:
            known_schools = Known(roster=list(roster or ()), trusts=store.trusts())
            marker = workspace.temp / ATTEMPTS / sha256
            report, valid = check_bounded(work, registry, marker, sha256, known=known_schools)
            report = report.model_copy(update={"file": name, "sha256": sha256})
            if report.status == "accepted" and valid is None:
                raise RuntimeError("check_bounded accepted a file without returning its contents")
    except Exception as exc:
        _raise_if_fault(exc, name)
        report, valid = _internal_error(name, sha256, exc), None
    try:
        return _record(report, valid, sha256, name, workspace, store, arrived_at, roster)
    except Exception as exc:
        _raise_if_fault(exc, name)
        report = _internal_error(name, sha256, exc, stage="recording")
    try:
        return _record(report, None, sha256, name, workspace, store, arrived_at, roster)
    except Exception as exc:
        # The database cannot record even a rejection: the service's fault, never the file's.
        raise ServiceFault(
            f"could not record {name}: {service_fault(exc) or UNUSABLE} "
            f"({_describe_exception(exc)}); it is left where it is and will be tried again"
        ) from exc


def _record(
    report: FileReport,
    valid: ValidReturn | None,
    sha256: str,
    name: str,
    workspace: Workspace,
    store: Store,
    arrived_at: datetime,
    roster: Sequence[School] | None,
) -> Event:
    rejected = report.status == "rejected"
    folder = workspace.rejected if rejected else workspace.archive
    destination = _free_destination(folder, name, sha256, rejected=rejected)
    return store.record(
        report,
        sha256=sha256,
        file_name=name,
        arrived_at=arrived_at,
        destination=_relative(destination, workspace),
        valid=valid,
        mail=addressees_for(report, store, roster),
    )


def resume_event(
    work: Path,
    sha256: str,
    name: str,
    workspace: Workspace,
    registry: Registry,
    store: Store,
    *,
    move: bool,
) -> Event | None:
    """The event this file should finish (an earlier run was interrupted), if any.

    Either the file in hand is already linked at an event's destination (the crash came between
    link and unlink; ``settle_events`` may even have marked it done), or an event for these bytes
    and name is pending and its destination is still free. Pending events whose original is in
    place are settled on the way; the file in hand is then a new arrival (None)."""
    found: Event | None = None
    for event in store.events_for(sha256):
        if event.file_name != name:
            continue
        destination = workspace.root / event.destination
        if move and _same_file(work, destination):
            return event
        if event.done:
            continue
        if not destination.exists():
            found = found or event
            continue
        _write_side_files(event, destination, workspace, registry)
        _finish(event, workspace, store)
    return found


def file_event(
    event: Event, work: Path, workspace: Workspace, registry: Registry, store: Store
) -> FileReport:
    """Steps 3-5: put the original in place, write the report files, mark the event done."""
    report = event.report
    try:
        destination = workspace.root / event.destination
        if not (destination.exists() and _same_file(work, destination)):
            destination = _place(work, destination, event.sha256, event.status == "rejected")
        _write_side_files(event, destination, workspace, registry)
        with contextlib.suppress(FileNotFoundError):
            work.unlink()
        if event.id:
            _finish(event, workspace, store, _relative(destination, workspace))
    except Exception as exc:
        # The outcome is recorded; the file stays where it is and the event stays pending, so
        # the next run (or the watcher's recovery) files it.
        _raise_if_fault(exc, report.file)
        issue = Issue.of(
            "internal-error",
            variant="filing",
            destination=event.destination,
            detail=_describe_exception(exc),
        )
        return report.model_copy(update={"errors": [*report.errors, issue]})
    return report


def refuse_new_database_beside_returns(workspace: Workspace) -> None:
    """A missing database beside an ``archive/`` that holds returns was lost, not never made:
    starting would make an empty one, whose first rebuild could empty the outbox."""
    if workspace.database.exists():
        return
    archive = workspace.archive
    held = archive.is_dir() and any(
        p.is_file() and not p.name.startswith(".") for p in archive.iterdir()
    )
    if held:
        raise DatabaseMissing(
            f"the database {workspace.database} is missing but {archive} holds returns: restore "
            "the database from a backup (put the copy at that path), or rebuild it from the "
            "ledger in archive/ with `sheet-tools store rebuild`; nothing was started"
        )


def settle_events(workspace: Workspace, registry: Registry, store: Store) -> int:
    """Finish events whose original reached its destination before a crash; clear stale private
    copies. Safe to run at any time (the watcher runs it at start); returns events settled."""
    settled = 0
    for event in store.pending_events():
        destination = workspace.root / event.destination
        if destination.exists():
            _write_side_files(event, destination, workspace, registry)
            _finish(event, workspace, store)
            settled += 1
    cutoff = time.time() - _STALE_TEMP_S
    if workspace.temp.is_dir():
        for folder in workspace.temp.iterdir():
            with contextlib.suppress(OSError):
                if folder.name != ATTEMPTS and folder.stat().st_mtime < cutoff:
                    shutil.rmtree(folder)
    for folder in (workspace.archive, workspace.rejected):
        for temporary in folder.glob(".~sheet-tools-*.tmp") if folder.is_dir() else ():
            with contextlib.suppress(OSError):
                if temporary.stat().st_mtime < cutoff:
                    temporary.unlink()
    return settled


def _finish(event: Event, workspace: Workspace, store: Store, place: str | None = None) -> None:
    """Append the filing to the ledger (what ``store rebuild`` replays), then mark the event
    done (at ``place`` when the file had to go elsewhere)."""
    where = place or event.destination
    filed = Filed(
        sha256=event.sha256,
        file_name=event.file_name,
        arrived_at=event.arrived_at,
        status=event.status,
        place=where,
        report=event.report,
    )
    ledger.append(ledger_path(workspace.archive), filed)
    store.finish_event(event.id, where if where != event.destination else None)


# --- placing files without ever replacing one ---------------------------------------------------
def _relative(path: Path, workspace: Workspace) -> str:
    return path.relative_to(workspace.root).as_posix()


def _safe_name(name: str) -> tuple[str, str]:
    """Stem and suffix a file is filed under: ``safe_filename`` of the stem, a plain suffix kept."""
    original = Path(name)
    suffix = original.suffix if re.fullmatch(r"\.[A-Za-z0-9]{1,10}", original.suffix) else ""
    stem = original.name[: -len(suffix)] if suffix else original.name
    safe = safe_filename(stem, suffix.lower())
    return safe[: len(safe) - len(suffix)], suffix.lower()


def _candidates(name: str, sha256: str) -> Iterator[str]:
    stem, suffix = _safe_name(name)
    plain = (stem + suffix).casefold()
    # A return may never take a name ingest gives to its own report files.
    if not plain.endswith((ERRORS_SUFFIX, ANNOTATED_SUFFIX, QUERIES_SUFFIX)):
        yield stem + suffix
    yield f"{stem} ({sha256[:8]}){suffix}"
    for counter in range(2, 10_000):
        yield f"{stem} ({sha256[:8]}-{counter}){suffix}"
    yield f"{stem} ({uuid.uuid4().hex}){suffix}"


def _side_files(destination: Path) -> tuple[Path, Path]:
    stem = destination.name[: -len(destination.suffix)] if destination.suffix else destination.name
    return (
        destination.with_name(destination.name + ERRORS_SUFFIX),
        destination.with_name(stem + ANNOTATED_SUFFIX),
    )


def _queries_file(destination: Path) -> Path:
    return destination.with_name(destination.name + QUERIES_SUFFIX)


def _free_destination(folder: Path, name: str, sha256: str, *, rejected: bool) -> Path:
    for candidate in _candidates(name, sha256):
        target = folder / candidate
        side = _side_files(target) if rejected else (_queries_file(target),)
        taken = [target, *side]
        if not any(path.exists() or path.is_symlink() for path in taken):
            return target
    raise RuntimeError("no free file name")  # unreachable: the last candidate is random


def _place(work: Path, destination: Path, sha256: str, rejected: bool) -> Path:
    """Link ``work`` in at ``destination`` (or the next free name); never replace a file."""
    target = destination
    while True:
        try:
            _link_or_copy(work, target)
            return target
        except FileExistsError:
            target = _free_destination(target.parent, destination.name, sha256, rejected=rejected)


def _link_or_copy(work: Path, target: Path) -> None:
    try:
        os.link(work, target)
        return
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            if target.exists():  # a file system without hard links: rename, checking first
                raise FileExistsError(target) from None
            os.rename(work, target)
            return
    # Another disk (claims kept beside a remote inbox): copy beside the target, then link.
    temporary = target.with_name(f".~sheet-tools-{uuid.uuid4().hex}.tmp")
    try:
        shutil.copyfile(work, temporary)
        _link_or_copy(temporary, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _private_folder(workspace: Workspace) -> Path:
    """This thread's folder for private copies: one file at a time, so names never clash."""
    key = (workspace.temp, os.getpid(), threading.get_ident())
    if key not in _PRIVATE:
        _PRIVATE[key] = workspace.temp / f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
    return _PRIVATE[key]


_PRIVATE: dict[tuple[Path, int, int], Path] = {}


def _discard(private: Path | None) -> None:
    if private is not None:
        with contextlib.suppress(OSError):
            private.unlink(missing_ok=True)


# --- reports for an administrator and a school --------------------------------------------------
def _unreadable(name: str, exc: OSError) -> FileReport:
    issue = Issue.of("internal-error", variant="unreadable", detail=str(exc.strerror or exc))
    return FileReport(file=name, status="rejected", errors=[issue])


def _internal_error(
    name: str, sha256: str, exc: BaseException, stage: Literal["checking", "recording"] = "checking"
) -> FileReport:
    """The rejection for a file sheet-tools failed on; ``stage`` is the internal-error variant."""
    issue = Issue.of("internal-error", variant=stage, detail=_describe_exception(exc))
    return FileReport(file=name, status="rejected", sha256=sha256, errors=[issue])


def _raise_if_fault(exc: BaseException, name: str) -> None:
    """Raise ``ServiceFault`` when ``exc`` is the service's fault (a full disk, a disk error, a
    damaged database): the file is then left where it is, never rejected for it. A database
    deleted or replaced under the service is raised as it is: it stops the service."""
    if isinstance(exc, DatabaseMissing):
        raise exc
    words = service_fault(exc)
    if words is not None:
        raise ServiceFault(
            f"could not file {name}: {words} ({_describe_exception(exc)}); "
            "it is left where it is and will be tried again"
        ) from exc


def _describe_exception(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _write_side_files(
    event: Event, destination: Path, workspace: Workspace, registry: Registry
) -> None:
    """``errors.txt`` and the annotated copy beside a rejected original, ``queries.txt`` beside
    an accepted one with warnings (rewritten if present)."""
    report = event.report
    framework = None
    if report.template and report.template_version:
        framework = registry.get(report.template, report.template_version)
    title = f"{framework.title}, version {framework.version}" if framework else None
    if event.status == "accepted" and report.warnings_only():
        text = render_queries_file(report, title, event.arrived_at)
        write_bytes_atomically(text.encode("utf-8"), _queries_file(destination))
    if event.status != "rejected":
        return
    errors_path, annotated_path = _side_files(destination)
    annotated = None
    # in a bounded worker: openpyxl parses the untrusted original too
    if (
        framework is not None
        and _annotatable(report, destination)
        and annotate_bounded(destination, report, framework, annotated_path)
    ):
        annotated = annotated_path.name
    text = render_errors_file(report, title, annotated, event.arrived_at)
    write_bytes_atomically(text.encode("utf-8"), errors_path)


def _annotatable(report: FileReport, path: Path) -> bool:
    if path.suffix.lower() not in _ANNOTATABLE:
        return False
    if about_the_file(report):
        return False
    return any(issue.sheet and issue.cell for issue in report.errors)


def ingest_paths(
    workspace: Workspace,
    paths: Sequence[Path],
    registry: Registry,
    *,
    on_report: Callable[[FileReport], None] | None = None,
) -> list[FileReport]:
    """``sheet-tools ingest``: ``ingest_file`` each path in turn, reading the next in a bounded
    worker while this one is stored and filed, under the workspace's roster and ``[limits]``.
    ``on_report`` hears of each file as it is done; every report is also returned."""
    roster = workspace_roster(workspace.root)
    limits = load_limits(workspace.root)
    workspace.root.mkdir(parents=True, exist_ok=True)
    require_local_database(workspace.database)
    refuse_new_database_beside_returns(workspace)
    reports: list[FileReport] = []
    with (
        Store(workspace.database) as store,
        using(limits=limits.worker(), guard_limits=limits.guard()),
        read_ahead(registry, workspace.temp / ATTEMPTS, paths) as ordered,
    ):
        for path in ordered:
            report = ingest_file(path, workspace, registry, store, roster=roster)
            reports.append(report)
            if on_report is not None:
                on_report(report)
    return reports
