"""Summaries owed: which schools' summaries returns have changed, since when, and when to rebuild.

The debt is persisted before any return is stored: a marker file (the session's) holds the store's
sequence when it began (the highest return id then stored: never a wall-clock time, which an NTP
step can move back), so a crash between storing and summarising leaves the debt on disk for
whoever recovers the session. Rebuilds are debounced: they wait for a quiet spell in a burst of
returns, but never longer than a maximum delay, and a failed rebuild is retried after a pause.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from ..base.faults import service_fault
from ..base.files import write_bytes_atomically

logger = logging.getLogger("sheet_tools.watch")

# (template id, school key, trust): the unit a summary is rebuilt for.
Affected = tuple[str, str, str | None]


class SummaryDebt:
    """What summaries are owed, persisted in ``marker`` and paid once by ``pay``."""

    def __init__(
        self,
        marker: Path,
        *,
        quiet_seconds: float,
        max_delay_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        sequence: Callable[[], int] = lambda: 0,
    ) -> None:
        self.marker = marker
        self.quiet_seconds = quiet_seconds
        self.max_delay_seconds = max_delay_seconds
        self._clock = clock
        self._sequence = sequence
        self.affected: set[Affected] = set()
        self.since: int | None = None  # the store's sequence: what the marker says
        self._first: float | None = None
        self._last = 0.0
        self._retry_at = 0.0

    @property
    def owing(self) -> bool:
        return bool(self.affected)

    def mark(self, since: int | None = None) -> None:
        """Say on disk that summaries are owed for returns stored after ``since`` (default: the
        store's sequence now), before anything is stored; an earlier point already marked
        stands."""
        point = self._sequence() if since is None else since
        if self.since is not None and self.since <= point:
            return
        self.since = point
        write_bytes_atomically(str(point).encode("utf-8"), self.marker)

    def add(self, affected: Iterable[Affected]) -> None:
        """Owe these summaries; the debounce counts from the first and the latest addition."""
        new = set(affected)
        if not new:
            return
        self.affected |= new
        now = self._clock()
        self._first = self._first if self._first is not None else now
        self._last = now

    def clear(self) -> None:
        """Nothing is owed (paid, or nothing was stored): forget the debt and its marker."""
        self.affected = set()
        self.since = None
        self._first = None
        self._last = 0.0
        self._retry_at = 0.0
        with contextlib.suppress(FileNotFoundError):
            self.marker.unlink()

    def due(self) -> bool:
        """Whether to rebuild now: quiet for a while, or owed for too long (not while waiting to
        retry a failed rebuild)."""
        if not self.affected:
            return False
        now = self._clock()
        if now < self._retry_at:
            return False
        quiet = now - self._last >= self.quiet_seconds
        overdue = self._first is not None and now - self._first >= self.max_delay_seconds
        return quiet or overdue

    def pay(self, summarise: Callable[[set[Affected]], object], *, force: bool = False) -> bool:
        """Rebuild what is owed if it is due (or ``force``); True when a rebuild was made. A
        failed rebuild keeps the debt, logged, and is tried again after a pause."""
        if not self.affected or not (force or self.due()):
            return False
        affected = set(self.affected)
        try:
            summarise(affected)
        except Exception as exc:
            fault = service_fault(exc)
            if fault is None:
                logger.exception("could not rebuild the summaries; will try again")
            else:
                logger.error("could not rebuild the summaries: %s (%s); will try again", fault, exc)
            self._retry_at = self._clock() + max(5.0, self.quiet_seconds)
            return False
        # one school owes a summary per framework it returned: count the schools, not the pairs
        schools = len({school for _, school, _ in affected})
        logger.info("summaries rebuilt for %d school(s)", schools)
        self.clear()
        return True
