"""Watching the inbox: a watchdog observer (native events, or polling for network shares) that
restarts itself when the inbox goes away and comes back, as a network share does when it blinks.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import time
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

logger = logging.getLogger("sheet_tools.watch")


class InboxHandler(FileSystemEventHandler):
    def __init__(self, names: queue.SimpleQueue[str | None]) -> None:
        self._names = names

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory or event.event_type in ("deleted", "opened", "closed_no_write"):
            return
        path = event.dest_path if event.event_type == "moved" else event.src_path
        self._names.put(os.path.basename(os.fsdecode(path)))


class ObserverGuard:
    """A watchdog observer on the inbox that is restarted when it dies or the inbox is replaced.

    watchdog's PollingObserver stops for good when the watched folder vanishes (a network share
    going away), and the native observer keeps watching a deleted folder's old inode; both are
    noticed here by checking the observer's threads and the folder's identity."""

    def __init__(self, inbox: Path, handler: FileSystemEventHandler, poll: float | None) -> None:
        self.inbox = inbox
        self.handler = handler
        self.poll = poll
        self.observer: BaseObserver | None = None
        self._identity: tuple[int, int] | None = None
        self.restarts = 0
        self.down_since: float | None = None

    def _identity_now(self) -> tuple[int, int] | None:
        try:
            st = self.inbox.stat()
        except OSError:
            return None
        return (st.st_dev, st.st_ino)

    def healthy(self) -> bool:
        observer = self.observer
        if observer is None or not observer.is_alive():
            return False
        if not all(emitter.is_alive() for emitter in observer.emitters):
            return False
        identity = self._identity_now()
        return identity is not None and identity == self._identity

    def start(self) -> bool:
        identity = self._identity_now()
        if identity is None:
            return False
        observer: BaseObserver = PollingObserver(timeout=self.poll) if self.poll else Observer()
        try:
            observer.schedule(self.handler, str(self.inbox), recursive=False)
            observer.start()
        except OSError as exc:
            logger.debug("cannot watch %s yet: %s", self.inbox, exc)
            with contextlib.suppress(Exception):
                observer.stop()
            return False
        self.observer = observer
        self._identity = identity
        return True

    def check(self) -> bool:
        """Restart a dead observer once the inbox is reachable; True when it was restarted."""
        if self.healthy():
            return False
        if self.down_since is None:
            self.down_since = time.monotonic()
            reason = (
                "the inbox folder is not reachable"
                if self._identity_now() is None
                else "the folder watcher stopped"
            )
            logger.warning("%s (%s); restarting the watcher when it is back", reason, self.inbox)
        self.stop()
        if not self.start():
            return False
        self.restarts += 1
        self.down_since = None
        kind = f"polling every {self.poll:g} s" if self.poll else "native events"
        logger.warning("inbox %s is back; folder watcher restarted (%s)", self.inbox, kind)
        return True

    def stop(self) -> None:
        observer, self.observer = self.observer, None
        if observer is None:
            return
        with contextlib.suppress(Exception):
            observer.stop()
        with contextlib.suppress(RuntimeError):
            observer.join(timeout=5)
