"""One returned file -> checked, stored and filed: the step both ``ingest`` and ``watch`` run.

guard -> read -> validate (``validate.check_file``) -> store, then the original goes, byte for
byte, to the workspace's archive (accepted, duplicate) or rejected folder (with
``<name>.errors.txt`` and ``<stem>.annotated.xlsx`` beside it). The original is never altered and
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
4. write ``errors.txt`` and the annotated copy (rejected only; derived, so rewriting is harmless);
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
import hashlib
import os
import re
import shutil
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.comments import Comment
from openpyxl.styles import Border, PatternFill, Side
from openpyxl.utils import get_column_letter, range_boundaries

from . import layout
from .frameworks import Framework, Registry
from .generate import (
    judgement_validation,
    safe_filename,
    save_atomically,
    write_bytes_atomically,
)
from .report import FileReport, Issue, Severity
from .store import Event, Store, duplicate_issue, utc_now
from .validate import ValidReturn
from .worker import annotate_bounded, check_bounded


@dataclass(frozen=True)
class Workspace:
    """The folder the service works in (defaults to the current directory)."""

    root: Path
    inbox: Path
    outbox: Path

    @classmethod
    def at(
        cls,
        root: Path | str = ".",
        inbox: Path | str | None = None,
        outbox: Path | str | None = None,
    ) -> Workspace:
        base = Path(root)
        return cls(
            base,
            Path(inbox) if inbox else base / "inbox",
            Path(outbox) if outbox else base / "outbox",
        )

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def rejected(self) -> Path:
        return self.root / "rejected"

    @property
    def processing(self) -> Path:
        return self.root / "processing"

    @property
    def temp(self) -> Path:
        """Private copies being ingested (``move=False``); on the same disk as the archive."""
        return self.root / ".sheet-tools-tmp"

    @property
    def database(self) -> Path:
        return self.root / "sheet-tools.db"

    @property
    def log_file(self) -> Path:
        return self.root / "sheet-tools.log"

    def ensure(self) -> None:
        for folder in (self.inbox, self.outbox, self.archive, self.rejected, self.processing):
            folder.mkdir(parents=True, exist_ok=True)


ERRORS_SUFFIX = ".errors.txt"
ANNOTATED_SUFFIX = ".annotated.xlsx"
# Checks made on the file itself: a file failing one is not opened to annotate it.
_FILE_CODES = frozenset(
    {
        "empty-file",
        "not-a-workbook",
        "truncated-file",
        "legacy-xls",
        "encrypted-workbook",
        "too-large",
        "zip-bomb",
        "xml-attack",
        "too-many-rows",
        "too-many-columns",
        "unreadable-file",
        "unsafe-name",
        "unsupported-file",
        "internal-error",
        "reader-crashed",
        "reader-timeout",
        "reader-out-of-memory",
        "duplicate-part",
        "row-zero",
        "xml-encoding",
    }
)
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
) -> FileReport:
    """Check and store one file, then copy (or, with ``move``, rename) the original into the
    archive or the rejected folder. Never raises for a bad file: every outcome is a report."""
    path = Path(path)
    name = path.name
    arrived = arrived_at or utc_now()
    private: Path | None = None
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
        return _unreadable(name, exc)
    try:
        try:
            event = resume_event(work, digest, name, workspace, registry, store, move=move)
        except Exception:
            event = None  # the database is failing: record_file reports it
        if event is None:
            event = record_file(work, digest, name, workspace, registry, store, arrived)
        return file_event(event, work, workspace, registry, store)
    finally:
        _discard(private)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def record_file(
    work: Path,
    sha256: str,
    name: str,
    workspace: Workspace,
    registry: Registry,
    store: Store,
    arrived_at: datetime,
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
                sha256=sha256,
                errors=[duplicate_issue(known.file_name, known.arrived_at)],
            )
        else:
            marker = workspace.temp / ATTEMPTS / sha256
            report, valid = check_bounded(work, registry, marker, sha256)
            report = report.model_copy(update={"file": name, "sha256": sha256})
            if report.status == "accepted" and valid is None:
                raise RuntimeError("check_bounded accepted a file without returning its contents")
    except Exception as exc:
        report, valid = _internal_error(name, sha256, exc), None
    try:
        return _record(report, valid, sha256, name, workspace, store, arrived_at)
    except Exception as exc:
        report = _internal_error(name, sha256, exc, stage="recording it")
    try:
        return _record(report, None, sha256, name, workspace, store, arrived_at)
    except Exception:
        # The database is unusable: the file is still filed in rejected/ with its report.
        destination = _free_destination(workspace.rejected, name, sha256, rejected=True)
        return Event(
            id=0,
            sha256=sha256,
            file_name=name,
            arrived_at=arrived_at,
            status="rejected",
            destination=_relative(destination, workspace),
            return_id=None,
            report=report,
            done=False,
        )


def _record(
    report: FileReport,
    valid: ValidReturn | None,
    sha256: str,
    name: str,
    workspace: Workspace,
    store: Store,
    arrived_at: datetime,
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
        store.finish_event(event.id)
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
            moved = _relative(destination, workspace)
            store.finish_event(event.id, moved if moved != event.destination else None)
    except Exception as exc:
        # The outcome is recorded; the file stays where it is and the event stays pending, so
        # the next run (or the watcher's recovery) files it.
        issue = Issue.of(
            "internal-error",
            f"The file was checked but could not be filed into {event.destination} "
            f"({_describe_exception(exc)}). It has been left where it was.",
        )
        return report.model_copy(update={"errors": [*report.errors, issue]})
    return report


def settle_events(workspace: Workspace, registry: Registry, store: Store) -> int:
    """Finish events whose original reached its destination before a crash; clear stale private
    copies. Safe to run at any time (the watcher runs it at start); returns events settled."""
    settled = 0
    for event in store.pending_events():
        destination = workspace.root / event.destination
        if destination.exists():
            _write_side_files(event, destination, workspace, registry)
            store.finish_event(event.id)
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
    if not (plain.endswith(ERRORS_SUFFIX) or plain.endswith(ANNOTATED_SUFFIX)):
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


def _free_destination(folder: Path, name: str, sha256: str, *, rejected: bool) -> Path:
    for candidate in _candidates(name, sha256):
        target = folder / candidate
        taken = [target, *_side_files(target)] if rejected else [target]
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
    issue = Issue.of(
        "internal-error",
        f"The file could not be read ({exc.strerror or exc}). It has been left where it is; "
        "check it exists and that sheet-tools may read it.",
    )
    return FileReport(file=name, status="rejected", errors=[issue])


def _internal_error(
    name: str, sha256: str, exc: BaseException, stage: str = "checking it"
) -> FileReport:
    issue = Issue.of(
        "internal-error",
        f"sheet-tools met an unexpected problem while {stage} ({_describe_exception(exc)}). "
        "The file is kept, unchanged, in the rejected folder.",
    )
    return FileReport(file=name, status="rejected", sha256=sha256, errors=[issue])


def _describe_exception(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# What the school (or the administrator) should do about each error.
ADVICE: dict[str, str] = {
    "empty-file": "The file that arrived is empty. Ask the school to send the workbook again.",
    "not-a-workbook": "Ask the school to send the workbook they filled in, saved as an Excel "
    "workbook (.xlsx), not as CSV, PDF or another kind of file.",
    "truncated-file": "The file was cut short or damaged on its way. Ask the school to send it "
    "again.",
    "legacy-xls": "Ask the school to open the file and use File > Save As > Excel Workbook "
    "(.xlsx), then send that file.",
    "encrypted-workbook": "Ask the school to remove the password (in Excel: File > Info > "
    "Protect Workbook > Encrypt with Password, and clear it), save, and send it again.",
    "too-large": "The file is far larger than a filled-in form can be. Ask the school to send "
    "the workbook they were given, without added pictures or sheets.",
    "zip-bomb": "The file expands to an unsafe size, so it was not opened. Ask the school to "
    "send the original workbook again.",
    "xml-attack": "The file holds XML that sheet-tools refuses to read, for safety. Ask the "
    "school to send the original workbook again.",
    "too-many-rows": "A sheet has far more rows than the form. Ask the school to delete the "
    "extra rows, or to copy their answers into the workbook they were sent.",
    "too-many-columns": "A sheet has far more columns than the form. Ask the school to delete "
    "the extra columns, or to copy their answers into the workbook they were sent.",
    "unreadable-file": "The file could not be opened as a workbook. Ask the school to open it "
    "in Excel, save it again as an Excel workbook (.xlsx) and send it again.",
    "unsafe-name": "Rename the file to a plain name and send it again.",
    "unknown-template": "This is not a workbook sheet-tools sent out. Ask the school to fill "
    "in the workbook they were sent, leaving its About sheet as it is.",
    "unknown-version": "This version of the form is no longer used. Send the school a new "
    "workbook and ask them to copy their answers into it.",
    "missing-sheet": "A sheet has been deleted or renamed. Ask the school to put it back, or to "
    "copy their answers into the workbook they were sent.",
    "missing-statement": "A statement row has been deleted or its ID changed. Ask the school to "
    "restore it (the ID column must stay as it was).",
    "duplicate-statement": "A statement appears twice. Ask the school to delete the extra row "
    "so each statement ID appears once.",
    "invalid-judgement": "Choose a judgement from the drop-down list in the cell (typing or "
    "pasting over the cell gets past the list).",
    "no-judgements": "No statement has been judged. Ask the school to judge the statements "
    "before sending the workbook back.",
    "missing-field": "Fill in this field on the Cover sheet.",
    "invalid-date": "Type the review date as day/month/year, for example 03/10/2026.",
    "invalid-urn": "Type the school's six-digit URN, as shown on Get Information About Schools.",
    "invalid-choice": "Choose one of the options from the drop-down list in the cell.",
    "text-too-long": "Shorten the text in this cell.",
    "unsupported-file": "Ask the school to send the Excel workbook (.xlsx) they were given.",
    "internal-error": "This is a fault in sheet-tools, not in the school's file as far as we "
    "know: pass the file and this report to whoever supports sheet-tools.",
    "reader-crashed": "The workbook is damaged or was saved by an unusual program. Ask the "
    "school to open it in Excel, use File > Save As > Excel Workbook (.xlsx) and send it again.",
    "reader-timeout": "The workbook is damaged or was saved by an unusual program. Ask the "
    "school to open it in Excel, use File > Save As > Excel Workbook (.xlsx) and send it again.",
    "reader-out-of-memory": "The workbook is damaged or was saved by an unusual program. Ask "
    "the school to open it in Excel, use File > Save As > Excel Workbook (.xlsx) and send it "
    "again.",
    "duplicate-part": "The file was damaged or put together by a program other than a "
    "spreadsheet application. Ask the school to open it in Excel, save it again as an Excel "
    "workbook (.xlsx) and send it again.",
    "row-zero": "The file was written by a program other than a spreadsheet application. Ask "
    "the school to open it in Excel, save it again as an Excel workbook (.xlsx) and send it "
    "again.",
    "xml-encoding": "The file was written by a program other than a spreadsheet application. "
    "Ask the school to open it in Excel, save it again as an Excel workbook (.xlsx) and send it "
    "again.",
}


def split_location(issue: Issue) -> tuple[str, str]:
    """(where, what): the issue's place, and its message without the place it may start with, so
    each is printed once ("Sheet 'Cover', cell C8 (Review date)", "'31/02/2026' is not a date")."""
    where = issue.where
    if where:
        head, colon, rest = issue.message.partition(": ")
        if colon and head.casefold().startswith(where.casefold()):
            return head[:1].upper() + head[1:], rest.strip()
    if issue.statement:
        where = (
            f"{where} (statement {issue.statement})" if where else f"statement {issue.statement}"
        )
    return (where[:1].upper() + where[1:] if where else "The whole file"), issue.message


def errors_text(
    report: FileReport,
    framework: Framework | None,
    annotated: str | None,
    received: datetime | None = None,
) -> str:
    """The plain-English ``<file>.errors.txt``: what is wrong, where, and what to do."""
    errors = [i for i in report.errors if i.severity is Severity.ERROR]
    warnings_ = [i for i in report.errors if i.severity is Severity.WARNING]
    form = (
        f"{framework.title}, version {framework.version}"
        if framework
        else " ".join(p for p in (report.template, report.template_version) if p) or "unknown"
    )
    school = report.school or "not known"
    if report.urn:
        school += f" (URN {report.urn})"
    lines = [
        "sheet-tools could not accept this return.",
        "",
        f"File:         {report.file}",
        f"School:       {school}",
        f"Form:         {form}",
        f"Review date:  {report.review_date or 'not known'}",
        f"Received:     {(received or utc_now()).astimezone(UTC).strftime('%d/%m/%Y %H:%M UTC')}",
        f"SHA-256:      {report.sha256 or 'not known'}",
        "",
        f"{len(errors)} problem{'s' if len(errors) != 1 else ''} must be fixed before the "
        "return can be accepted:",
    ]
    for number, issue in enumerate(errors, start=1):
        where, what = split_location(issue)
        lines += ["", f"{number}. {where}", f"   {what}"]
        advice = ADVICE.get(issue.code, "Please correct this and send the workbook again.")
        lines.append(f"   What to do: {advice}")
    if warnings_:
        lines += ["", "Also worth checking (these alone would not stop the return):"]
        for issue in warnings_:
            lines.append("- {}: {}".format(*split_location(issue)))
    lines += ["", "What to do next", ""]
    if errors and all(issue.code == "internal-error" for issue in errors):
        lines.append(
            "The fault is in sheet-tools, not (as far as we know) in the school's file: pass "
            "the file and this report to whoever supports sheet-tools. Nothing from this file "
            "has been stored."
        )
    elif annotated:
        lines.append(
            f'The cells with problems are highlighted, each with a note, in "{annotated}" '
            "beside this file. Send that copy to the school: once they have corrected the "
            "highlighted cells and sent it back, it will be checked again."
        )
    else:
        lines.append(
            "Send this report to the school and ask them to send a corrected workbook. "
            "Nothing from this file has been stored."
        )
    return "\n".join(lines) + "\n"


def _write_side_files(
    event: Event, destination: Path, workspace: Workspace, registry: Registry
) -> None:
    """``errors.txt`` and the annotated copy beside a rejected original (rewritten if present)."""
    if event.status != "rejected":
        return
    report = event.report
    framework = None
    if report.template and report.template_version:
        framework = registry.get(report.template, report.template_version)
    errors_path, annotated_path = _side_files(destination)
    annotated = None
    # in a bounded worker: openpyxl parses the untrusted original too
    if (
        framework is not None
        and _annotatable(report, destination)
        and annotate_bounded(destination, report, framework, annotated_path)
    ):
        annotated = annotated_path.name
    text = errors_text(report, framework, annotated, event.arrived_at)
    write_bytes_atomically(text.encode("utf-8"), errors_path)


def _annotatable(report: FileReport, path: Path) -> bool:
    if path.suffix.lower() not in _ANNOTATABLE:
        return False
    if any(issue.code in _FILE_CODES for issue in report.errors):
        return False
    return any(issue.sheet and issue.cell for issue in report.errors)


# Far from every level colour of the scale (light oranges and blues), so a flagged cell stands out.
ERROR_FILL = "FF4D4D"
WARNING_FILL = "FFFF00"
_FLAG_SIDE = Side(style="medium", color="C00000")
_FLAG_BORDER = Border(left=_FLAG_SIDE, right=_FLAG_SIDE, top=_FLAG_SIDE, bottom=_FLAG_SIDE)


def annotate_workbook(source: Path, report: FileReport, framework: Framework, target: Path) -> None:
    """A copy of ``source`` with every located issue's cell filled and commented, and the
    judgement drop-downs rebuilt from the framework (openpyxl drops Excel's x14 validations)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Data Validation extension ... removed"
        book = load_workbook(source)
    notes: dict[tuple[str, str], list[Issue]] = {}
    for issue in report.errors:
        if issue.sheet and issue.cell and issue.sheet in book.sheetnames:
            notes.setdefault((issue.sheet, issue.cell), []).append(issue)
    for (sheet, cell_ref), issues in notes.items():
        try:
            cell = book[sheet][cell_ref]
        except (ValueError, KeyError, IndexError):
            continue
        if not isinstance(cell, Cell):  # a range, or inside a merged block
            continue
        is_error = any(i.severity is Severity.ERROR for i in issues)
        colour = ERROR_FILL if is_error else WARNING_FILL
        cell.fill = PatternFill("solid", start_color=colour, end_color=colour)
        cell.border = _FLAG_BORDER
        text = "\n\n".join(
            f"{'Must fix' if i.severity is Severity.ERROR else 'Please check'}: {i.message}"
            + (f"\n{ADVICE[i.code]}" if i.code in ADVICE and i.severity is Severity.ERROR else "")
            for i in issues
        )
        cell.comment = Comment(text, "sheet-tools", width=320, height=160)
    _rebuild_judgement_lists(book, framework)
    save_atomically(book, target, force=True)
    shutil.copymode(source, target)  # readable by whoever may read the original


def _rebuild_judgement_lists(book: Workbook, framework: Framework) -> None:
    lists = book[layout.LISTS_SHEET] if layout.LISTS_SHEET in book.sheetnames else None
    column = get_column_letter(layout.JUDGEMENT_COL)
    for sheet in framework.sheets:
        if not sheet.judged or sheet.sheet_name not in book.sheetnames:
            continue
        ws = book[sheet.sheet_name]
        ids = {statement.id for statement in sheet.statements}
        cells = [
            f"{column}{row}"
            for row in range(1, ws.max_row + 1)
            if ws.cell(row=row, column=layout.ID_COL).value in ids
        ]
        if not cells:
            continue
        wanted = set(cells)
        ws.data_validations.dataValidation = [
            dv for dv in ws.data_validations.dataValidation if not _covers(dv.sqref, wanted)
        ]
        validation = judgement_validation(framework, lists)
        ws.add_data_validation(validation)
        for cell in cells:
            validation.add(cell)


def _covers(sqref: object, cells: set[str]) -> bool:
    for part in str(sqref).split():
        min_col, min_row, max_col, max_row = range_boundaries(part)
        for row in range(min_row or 1, (max_row or min_row or 1) + 1):
            for col in range(min_col or 1, (max_col or min_col or 1) + 1):
                if f"{get_column_letter(col)}{row}" in cells:
                    return True
    return False


def describe_report(report: FileReport) -> str:
    """One line for a person: status, file, school and the first problem."""
    parts = [f"{report.status:<9}", report.file]
    if report.school:
        parts.append(f"- {report.school}" + (f" ({report.urn})" if report.urn else ""))
    if report.review_date:
        parts.append(f"review {report.review_date}")
    errors = [i for i in report.errors if i.severity is Severity.ERROR]
    if errors:
        first = errors[0]
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        where, what = split_location(first)
        parts.append(f"- {where}: {what}{more}")
    elif report.warning_count and report.status != "duplicate":
        parts.append(f"- {report.warning_count} warning(s)")
    return " ".join(parts)
