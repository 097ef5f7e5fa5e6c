"""When a file in the inbox has stopped changing: its size and modification time have held for a
set time. A return copied slowly over a slow link is never taken half-written."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    since: float  # clock time the size and mtime were last seen to change


class StabilityTracker:
    """Files waiting to be taken, by name, and how long each has held still."""

    def __init__(self, stable_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.stable_seconds = stable_seconds
        self._clock = clock
        self._seen: dict[str, _Seen] = {}

    def __contains__(self, name: str) -> bool:
        return name in self._seen

    def __len__(self) -> int:
        return len(self._seen)

    def names(self) -> list[str]:
        """The waiting files, in name order (a snapshot: the tracker may change meanwhile)."""
        return sorted(self._seen)

    def watch(self, name: str, size: int, mtime_ns: int) -> None:
        """Start the wait for a file just seen."""
        self._seen[name] = _Seen(size, mtime_ns, self._clock())

    def forget(self, name: str) -> None:
        self._seen.pop(name, None)

    def restart(self, name: str) -> None:
        """Wait the full time again (the file could not be taken yet)."""
        if name in self._seen:
            self._seen[name].since = self._clock()

    def stable_for(self, name: str, size: int, mtime_ns: int) -> float | None:
        """How long the file has held still, given what it looks like now; None while it has
        changed or held for less than ``stable_seconds`` (a change starts the wait again)."""
        seen = self._seen.get(name)
        if seen is None or (size, mtime_ns) != (seen.size, seen.mtime_ns):
            self.watch(name, size, mtime_ns)
            return None
        held = self._clock() - seen.since
        return held if held >= self.stable_seconds else None
