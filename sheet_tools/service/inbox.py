"""What the watcher sees of the inbox: names from events or from listing it, passed on to the
stability tracker unless they are never to be touched (Office lock and temp files, hidden files,
folders, links, pipes, files the service may not read: each reported once, where it lies)."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from .claims import hidden_on_windows, is_ignored, not_a_file
from .stability import StabilityTracker

logger = logging.getLogger("sheet_tools.watch")


class InboxListing:
    """Feeds the inbox's files to ``waiting``; each problem is logged once, not every rescan."""

    def __init__(self, inbox: Path, waiting: StabilityTracker) -> None:
        self.inbox = inbox
        self.waiting = waiting
        self._folders_noted: set[str] = set()
        # name -> what was said of it: a file the service will not take is reported once, and
        # again only if what is wrong with it changes
        self._refused: dict[str, str] = {}
        self._down = False

    def leave(self, name: str, what: str) -> None:
        """Leave ``name`` in the inbox, saying why once (not at every rescan)."""
        self.waiting.forget(name)
        if self._refused.get(name) != what:
            self._refused[name] = what
            logger.warning("%s in the inbox %s: it is not taken, and left where it is", name, what)

    def taken(self, name: str) -> None:
        """``name`` was claimed: a file of that name arriving later is a new file."""
        self._refused.pop(name, None)

    def consider(self, name: str) -> None:
        """A name an event or the listing gave: start waiting on it, unless already waiting."""
        if name in self.waiting or is_ignored(name):
            return
        path = self.inbox / name
        try:
            st = os.lstat(path)
            if stat.S_ISDIR(st.st_mode):
                if name not in self._folders_noted:
                    self._folders_noted.add(name)
                    logger.info("the folder %s in the inbox is not looked into", name)
                return
            what = not_a_file(path)
            if what is not None:
                self.leave(name, f"is {what}, not a workbook")
                return
            if hidden_on_windows(path):
                return
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
