"""The inbox service: every return dropped into the inbox is processed exactly once.

How a file travels, and why each step is there:

1. **Seen**: by a watchdog observer (native events, or polling for network shares), by the
   listing of the inbox at start (the backlog) or by the periodic rescan that catches anything an
   event missed. Office lock and temp files and hidden files are never touched.
2. **Complete**: its size and modification time have not changed for ``stable_seconds`` and it
   opens as a complete zip (its central directory, written last, can be read), so a return copied
   slowly over a slow link is never taken half-written. A stable file that is not a zip at all is
   taken too, and rejected with a report, as is one that stays an incomplete zip for
   ``incomplete_seconds``: nothing is left in the inbox in silence.
3. **Claimed**: renamed, atomically, into this process's own session folder under
   ``processing/`` before any work. Of two watchers on one inbox only one rename succeeds; the
   other gets FileNotFoundError and moves on. Each session folder holds one file at a time, so
   names never clash, and is guarded by an OS lock on ``<session>.lock`` that dies with the
   process.
4. **Processed**: the pipeline's ``process`` step (by default ``ingest.ingest_file`` with
   ``move=True``) checks, stores and files it into ``archive/`` or ``rejected/``.
5. **Summarised**: the affected schools and trusts, debounced so a burst of returns causes a
   handful of rebuilds. A marker in the session folder, written before any return is stored,
   says summaries are owed from a point in the store's sequence, so a crash between storing
   and summarising is made good by whoever recovers the session.

Claims are ``claims``'s, the observer ``observer``'s, the inbox listing ``inbox``'s, when a file
holds still ``stability``'s, and the owed summaries ``debt``'s.

On start, sessions whose lock can be taken (their process is gone, e.g. after ``kill -9``) are
recovered before anything else: their files go through ``process`` again, which finishes an
interrupted run's work rather than counting a file twice; ``settle`` then tidies what such a run
left elsewhere, and their owed summaries are rebuilt.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from ..base import platform
from ..base.keys import school_key
from ..base.netfs import require_local_database, shared_inbox_warning
from ..base.workspace import Workspace
from ..definitions.frameworks import Registry
from ..definitions.roster import RosterSource, School
from ..exceptions import DatabaseMissing, ServiceFault
from ..intake import worker
from ..mail.sender import BackgroundSender
from ..mail.settings import MailSettings
from ..problems.render import render_log_line
from ..problems.report import FileReport
from ..store.facade import Store
from ..summarise import summarise_affected
from ..summarise.writing import retry_unwritten
from .claims import (
    INBOX_CLAIMS,
    AbandonedSession,
    Completeness,
    Session,
    abandoned_sessions,
    claimed_files,
    completeness,
    sweep_stray_locks,
)
from .config import WatchSettings, load_mail_settings, load_rounds
from .debt import Affected, SummaryDebt
from .inbox import InboxListing
from .ingest import ingest_file, refuse_new_database_beside_returns, settle_events
from .observer import InboxHandler, ObserverGuard
from .stability import StabilityTracker

logger = logging.getLogger("sheet_tools.watch")


# -- the pipeline the watcher drives ------------------------------------------------------------

Step = Callable[[Path], FileReport]


def _nothing_to_settle() -> None:
    return None


@dataclass
class Pipeline:
    """What the watcher does with a file; the real steps by default (``default_pipeline``).

    ``process`` files a claimed file (out of the processing folder) and returns its report; it
    never raises for a bad file, and given a file an interrupted run left behind it finishes
    that run's work instead of counting the file again. ``settle`` tidies what such a run left
    elsewhere (after recovery). ``owed_since`` names the summaries returns stored after a point
    in the store's sequence change (``sequence``: the point now), for summaries a crash left
    owing."""

    process: Step
    summarise: Callable[[set[Affected]], object]
    owed_since: Callable[[int], set[Affected]]
    settle: Callable[[], object] = _nothing_to_settle
    sequence: Callable[[], int] = lambda: 0
    # summaries that could not replace a locked file, tried again on their own: those left
    retry_summaries: Callable[[], list[Path]] = list
    # raises DatabaseMissing when the database was deleted or replaced: the service stops
    guard: Callable[[], object] = _nothing_to_settle


def default_pipeline(
    workspace: Workspace,
    registry: Registry,
    store: Store,
    roster: RosterSource | list[School] | None = None,
) -> Pipeline:
    """ingest -> store -> archive/rejected, then summarise into the outbox."""

    current_round = load_rounds(workspace.root).current

    def schools() -> list[School] | None:
        return roster.current() if isinstance(roster, RosterSource) else roster

    def process(path: Path) -> FileReport:
        return ingest_file(path, workspace, registry, store, move=True, roster=schools())

    def summarise(affected: set[Affected]) -> None:
        summarise_affected(
            store,
            registry,
            workspace.outbox,
            affected,
            roster=schools(),
            current_round=current_round,
        )

    def owed_since(since: int) -> set[Affected]:
        return {
            (r.template_id, r.school_key, r.trust)
            for r in store.returns(include_superseded=True, include_withdrawn=True, contents=False)
            if r.id > since
        }

    def settle() -> None:
        settle_events(workspace, registry, store)

    return Pipeline(
        process=process,
        summarise=summarise,
        owed_since=owed_since,
        settle=settle,
        sequence=store.last_return_id,
        retry_summaries=lambda: retry_unwritten(store),
        guard=store.guard,
    )


def affected_by(report: FileReport) -> Affected | None:
    """The summary a newly accepted return changes."""
    if report.status != "accepted" or not report.template or not report.school:
        return None
    return (report.template, school_key(report.school, report.urn), report.trust)


# -- the service --------------------------------------------------------------------------------


@dataclass
class WatchStats:
    """What one run did: for the command's last log line, tests and the benchmark."""

    accepted: int = 0
    rejected: int = 0
    duplicate: int = 0
    recovered: int = 0
    summaries: int = 0
    observer_restarts: int = 0
    # what was left undone: claimed files not filed (a fault of the service), and whether the
    # owed summaries could not be rebuilt; ``--once`` then exits "could not finish"
    unfiled: int = 0
    summaries_failed: bool = False

    @property
    def unfinished(self) -> bool:
        return bool(self.unfiled or self.summaries_failed)

    @property
    def files(self) -> int:
        return self.accepted + self.rejected + self.duplicate

    def count(self, report: FileReport, *, recovered: bool = False) -> None:
        if report.status == "accepted":
            self.accepted += 1
        elif report.status == "duplicate":
            self.duplicate += 1
        else:
            self.rejected += 1
        if recovered:
            self.recovered += 1


class Watcher:
    """The service loop. ``run()`` blocks until ``stop()`` (or the backlog is done, ``once``)."""

    def __init__(
        self,
        settings: WatchSettings,
        workspace: Workspace,
        pipeline: Pipeline,
        *,
        on_report: Callable[[FileReport], None] | None = None,
    ) -> None:
        self.settings = settings
        self.workspace = workspace
        self.pipeline = pipeline
        self.on_report = on_report
        self.stats = WatchStats()
        self._stop = threading.Event()
        self._stop_reason = ""
        # Set when a second signal cut the shutdown short: owed summaries are left to the next
        # start (the session folder keeps their marker).
        self.abandoned = False
        # Set once recovery is done, the folder watcher runs and the backlog is listed.
        self.started = threading.Event()
        self._names: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._waiting = StabilityTracker(settings.stable_seconds)
        self._inbox = InboxListing(workspace.inbox, self._waiting)
        self._session: Session | None = None
        self._debt: SummaryDebt | None = None  # made with the session: its marker is there
        # claimed files the step could not file -> whether they were recovered ones
        self._unfiled: dict[Path, bool] = {}
        # set by a fault of the service (disk full, damaged database): take no new file until
        # the files already claimed have been filed at a rescan (``once``: stop taking files)
        self._faulted = False
        self._adopted: list[AbandonedSession] = []

    # - control

    def stop(self, reason: str = "asked to stop") -> None:
        """Ask the loop to finish the current file and exit (safe from a signal handler)."""
        self._stop_reason = reason
        self._stop.set()
        self._names.put(None)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def _owed(self) -> SummaryDebt:
        assert self._debt is not None, "the debt exists while run() runs"
        return self._debt

    # - the loop

    def run(self) -> WatchStats:
        self.workspace.ensure()
        claims = claims_folder(self.workspace)
        self._session = session = Session.open(claims)
        self._debt = SummaryDebt(
            session.marker,
            quiet_seconds=self.settings.summary_quiet_seconds,
            max_delay_seconds=self.settings.summary_max_delay_seconds,
            sequence=self.pipeline.sequence,
        )
        once = self.settings.once
        mode = f"polling every {self.settings.poll:g} s" if self.settings.poll else "native events"
        logger.info(
            "%s %s (%s), workspace %s",
            "processing the backlog in" if once else "watching",
            self.workspace.inbox,
            "once" if once else mode,
            self.workspace.root,
        )
        guard: ObserverGuard | None = None
        try:
            _recover(self, claims)
            if self.workspace.processing != claims:
                _recover(self, self.workspace.processing)
            self.pipeline.settle()
            if not once:
                # Watch before listing the backlog, so a file landing in between is not missed.
                guard = ObserverGuard(
                    self.workspace.inbox, InboxHandler(self._names), self.settings.poll
                )
                if not guard.start():
                    guard.check()
            self._inbox.scan()
            self.started.set()
            next_rescan = time.monotonic() + self.settings.rescan_seconds
            while not self.stopping:
                if once and (not self._waiting or self._faulted):
                    break
                self._wait()
                now = time.monotonic()
                if guard is not None:
                    if guard.check():
                        self.stats.observer_restarts += 1
                        next_rescan = now
                    if now >= next_rescan:
                        self.pipeline.guard()
                        self._inbox.scan()
                        _retry_unfiled(self)
                        self.pipeline.retry_summaries()
                        next_rescan = now + self.settings.rescan_seconds
                self._check_waiting()
                self._maybe_summarise()
            if self.stopping:
                logger.info("%s: stopping (a second signal stops at once)", self._stop_reason)
        except DatabaseMissing:
            self.abandoned = True  # nothing more is asked of a database that is gone
            raise
        finally:
            if guard is not None:
                guard.stop()
            if not self.abandoned:
                self._maybe_summarise(force=True)
            self.stats.unfiled = len(self._unfiled)
            self.stats.summaries_failed = self._owed.owing or bool(
                not self.abandoned and self.pipeline.retry_summaries()
            )
            session.close(keep=self._owed.owing or bool(session.files()))
            for adopted in self._adopted:
                if any(claimed_files(adopted.folder)):
                    adopted.close()
                else:
                    adopted.release()
            logger.info(
                "stopped: %d accepted, %d rejected, %d duplicate, %d summary rebuild(s)",
                self.stats.accepted,
                self.stats.rejected,
                self.stats.duplicate,
                self.stats.summaries,
            )
        return self.stats

    def _wait(self) -> None:
        """Block until an event arrives or it is time to look at waiting files again."""
        timeout = min(0.25, max(0.02, self.settings.stable_seconds / 4)) if self._waiting else 1.0
        if self._owed.owing:
            timeout = min(timeout, 0.1)
        try:
            name = self._names.get(timeout=timeout)
        except queue.Empty:
            return
        while name is not None or not self._names.empty():
            if name is not None:
                self._inbox.consider(name)
            try:
                name = self._names.get_nowait()
            except queue.Empty:
                break

    def _check_waiting(self) -> None:
        for name in self._waiting.names():
            if self.stopping or self._faulted:
                return
            path = self.workspace.inbox / name
            try:
                st = path.stat()
            except FileNotFoundError:
                self._waiting.forget(name)  # taken by another watcher, or by the administrator
                continue
            except OSError:
                continue  # the share is away: try again later
            stable_for = self._waiting.stable_for(name, st.st_size, st.st_mtime_ns)
            if stable_for is None:
                continue
            state = completeness(path)
            if state in (Completeness.UNREADABLE, Completeness.NOT_A_FILE):
                self._inbox.leave(name, state.value)
                continue
            if state is Completeness.INCOMPLETE and stable_for < self.settings.incomplete_seconds:
                continue
            if self._take(path):
                self._waiting.forget(name)
            self._maybe_summarise()

    def _take(self, path: Path) -> bool:
        """Claim and process one file; False when it must be tried again later."""
        assert self._session is not None
        self.pipeline.guard()  # a database gone: stop with the file still in the inbox
        try:
            claimed = self._session.claim(path)
        except OSError as exc:  # e.g. still open in another program on Windows
            logger.info("cannot claim %s yet (%s); will try again", path.name, exc)
            self._waiting.restart(path.name)
            return False
        if claimed is None:
            logger.debug("%s was claimed by another watcher", path.name)
            return True
        self._inbox.taken(path.name)
        self._owed.mark()
        self._run_step(claimed)
        return True

    def _run_step(self, claimed: Path, *, recovered: bool = False) -> None:
        """Process a claimed file. One the step could not file (disk full, a fault) stays
        claimed, unreported, and is tried again at each rescan and by the next start."""
        try:
            report: FileReport | None = self.pipeline.process(claimed)
        except ServiceFault as exc:
            if not self._faulted:
                logger.error("%s (in %s)", exc, claimed.parent)
            self._faulted = True
            self._unfiled[claimed] = recovered
            return
        except DatabaseMissing:
            raise
        except Exception as exc:
            if claimed in self._unfiled:  # the traceback was logged the first time
                logger.error("still cannot process %s: %s", claimed.name, exc)
            else:
                logger.exception(
                    "could not process %s; it stays in %s", claimed.name, claimed.parent
                )
            report = None
        if claimed.exists():
            if report is not None:
                problems = "; ".join(i.message for i in report.errors if i.code == "internal-error")
                logger.error("could not file %s (%s); will try again", claimed.name, problems)
            self._unfiled[claimed] = recovered
            return
        self._unfiled.pop(claimed, None)
        if self._faulted and not self._unfiled:
            logger.info("the fault has cleared: taking files again")
            self._faulted = False
        if report is not None:
            self._record(report, recovered=recovered)

    def _record(self, report: FileReport, *, recovered: bool = False) -> None:
        self.stats.count(report, recovered=recovered)
        after = " (recovered after a stop)" if recovered else ""
        logger.info("%s%s", render_log_line(report), after)
        if self.on_report is not None:
            self.on_report(report)
        key = affected_by(report)
        if key is not None:
            self._owed.add({key})
        elif not self._owed.owing:
            self._owed.clear()

    def _maybe_summarise(self, *, force: bool = False) -> None:
        if self._owed.pay(self.pipeline.summarise, force=force):
            self.stats.summaries += 1


def _retry_unfiled(watcher: Watcher) -> None:
    for claimed, recovered in list(watcher._unfiled.items()):
        if watcher.stopping:
            return
        if not claimed.exists():
            del watcher._unfiled[claimed]
            continue
        watcher._run_step(claimed, recovered=recovered)


def _recover(watcher: Watcher, claims: Path) -> None:
    """Recover the sessions of stopped watchers under ``claims``: their files and owed summaries."""
    sweep_stray_locks(claims)
    for abandoned in abandoned_sessions(claims, watcher._session):
        since = abandoned.owed_since()
        files = list(claimed_files(abandoned.folder))
        if since is not None or files:
            logger.warning(
                "recovering %d file(s) left by a stopped watcher (%s)",
                len(files),
                abandoned.folder.name,
            )
        if since is not None:
            watcher._owed.mark(since)
            # rebuilt after the backlog's first files, like any other debt
            watcher._owed.add(watcher.pipeline.owed_since(since))
        for path in files:
            watcher._owed.mark()
            watcher._run_step(path, recovered=True)
        if any(path in watcher._unfiled for path in files):
            watcher._adopted.append(abandoned)  # keep its lock while retrying its files
        else:
            abandoned.release()


def claims_folder(workspace: Workspace) -> Path:
    """``processing/``, unless the inbox is on another file system (then a hidden folder in the
    inbox), because only a rename within one file system is atomic."""
    processing = workspace.processing
    try:
        same = os.stat(workspace.inbox).st_dev == os.stat(processing).st_dev
    except OSError:
        same = True
    if same:
        return processing
    logger.info("inbox is on another file system: claiming files into %s", INBOX_CLAIMS)
    return workspace.inbox / INBOX_CLAIMS


# -- running it ---------------------------------------------------------------------------------


@contextlib.contextmanager
def service_logging(log_file: Path, stream: TextIO | None = None) -> Iterator[None]:
    """Log ``sheet_tools`` messages to stderr and to the workspace's log file while inside."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    formatter = logging.Formatter(
        "%(asctime)s %(levelname)s [%(process)d] %(message)s", "%Y-%m-%d %H:%M:%S"
    )
    handlers: list[logging.Handler] = [
        logging.StreamHandler(stream or sys.stderr),
        logging.FileHandler(log_file, encoding="utf-8"),
    ]
    package = logging.getLogger("sheet_tools")
    previous_level = package.level
    package.setLevel(logging.INFO)
    for handler in handlers:
        handler.setFormatter(formatter)
        package.addHandler(handler)
    try:
        yield
    finally:
        for handler in handlers:
            package.removeHandler(handler)
            handler.close()
        package.setLevel(previous_level)


def workspace_for(settings: WatchSettings) -> Workspace:
    return Workspace.at(settings.workspace, settings.inbox, settings.outbox)


@contextlib.contextmanager
def _signals_stop(watcher: Watcher) -> Iterator[None]:
    """SIGINT, SIGTERM (and Ctrl+Break on Windows) finish the current file and stop cleanly."""

    def handle(name: str) -> None:
        if watcher.stopping:  # asked twice: stop at once; the next start recovers the rest
            watcher.abandoned = True
            raise KeyboardInterrupt(name)
        watcher.stop(f"received {name}")

    with platform.on_stop(handle):
        yield


def run_watch(
    settings: WatchSettings,
    registry: Registry,
    *,
    pipeline: Pipeline | None = None,
    on_report: Callable[[FileReport], None] | None = None,
    ready: Callable[[Watcher], None] | None = None,
    mail: MailSettings | None = None,
) -> WatchStats:
    """Run the service with the real pipeline (unless given one) until stopped or, with
    ``settings.once``, until the backlog is done. ``ready`` receives the watcher (to stop it).
    ``mail`` replaces the workspace's ``[mail]`` settings (the demo's .eml files)."""
    workspace = workspace_for(settings)
    workspace.ensure()
    require_local_database(workspace.database)
    shared = shared_inbox_warning(workspace.inbox)
    if shared is not None:
        logger.warning(shared)
    refuse_new_database_beside_returns(workspace)
    roster = RosterSource(settings.roster, workspace.root)
    limits = settings.limits
    # Mail goes on a thread of its own with its own connection: a slow server delays mail only.
    sender = BackgroundSender(
        workspace.database,
        workspace.root,
        mail or load_mail_settings(workspace.root),
        registry,
        roster=roster.current,
    )

    def heard(report: FileReport) -> None:
        sender.wake()
        if on_report is not None:
            on_report(report)

    with (
        worker.using(limits=limits.worker(), guard_limits=limits.guard()),
        Store(workspace.database) as store,
    ):
        store.check()
        watcher = Watcher(
            settings,
            workspace,
            pipeline or default_pipeline(workspace, registry, store, roster),
            on_report=heard,
        )
        if ready is not None:
            ready(watcher)
        sender.start()
        try:
            with _signals_stop(watcher):
                return watcher.run()
        finally:
            sender.stop()
