"""What the watcher sees of the inbox: names from events or from listing it, passed on to the
stability tracker unless they are never to be touched (Office lock and temp files, hidden files,
folders)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from .claims import hidden_on_windows, is_ignored
from .stability import StabilityTracker

logger = logging.getLogger("sheet_tools.watch")


class InboxListing:
    """Feeds the inbox's files to ``waiting``; each problem is logged once, not every rescan."""

    def __init__(self, inbox: Path, waiting: StabilityTracker) -> None:
        self.inbox = inbox
        self.waiting = waiting
        self._folders_noted: set[str] = set()
        self._down = False

    def consider(self, name: str) -> None:
        """A name an event or the listing gave: start waiting on it, unless already waiting."""
        if name in self.waiting or is_ignored(name):
            return
        path = self.inbox / name
        try:
            if path.is_dir():
                if name not in self._folders_noted:
                    self._folders_noted.add(name)
                    logger.info("the folder %s in the inbox is not looked into", name)
                return
            if not path.is_file() or hidden_on_windows(path):
                return
            st = path.stat()
        except OSError:
            return
        self.waiting.watch(name, st.st_size, st.st_mtime_ns)

    def scan(self) -> None:
        """List the inbox: the backlog at start, then a safety net for missed events."""
        try:
            entries = list(os.scandir(self.inbox))
        except OSError as exc:
            if not self._down:
                logger.warning("cannot list the inbox %s: %s", self.inbox, exc)
            self._down = True
            return
        self._down = False
        for entry in entries:
            self.consider(entry.name)
