"""What an administrator typed into the Preparation column of a Diagnostic Review trust workbook
(preparation happens outside the workbooks), kept by school and round so it outlives the file it
was typed in: a school moving trust, a trust renamed or a URN added to the roster each change the
file or the row it is shown in. Each rebuild reads the workbooks back and records what changed.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import date, datetime

from ..base.clock import utc_now
from .connection import Connection, stamp

# What a typed cell holds: text, a number or a date (as the spreadsheet gives it back).
Typed = str | int | float | datetime
# Cells read back: (school key, round) -> (the school's name key, what is typed, None if empty).
Seen = Mapping[tuple[str, str], tuple[str, object]]
Notes = dict[tuple[str, str], Typed]


def _encoded(value: object) -> tuple[str, str] | None:
    """(kind, text) to store; None for a cell holding nothing."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return "date", value.isoformat()
    if isinstance(value, date):
        return "date", datetime(value.year, value.month, value.day).isoformat()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "number", json.dumps(value)
    return "text", str(value)


def same_note(one: object, other: object) -> bool:
    """Whether two cells hold the same note as the store keeps it (kind and value): a date read
    back is a datetime, a number typed 5 may come back 5.0, blank text is no note."""
    return _encoded(one) == _encoded(other)


def _decoded(kind: str, text: str) -> Typed:
    if kind == "date":
        return datetime.fromisoformat(text)
    if kind == "number":
        return json.loads(text)
    return text


class Preparations:
    """The ``preparation`` table (migration 9)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def record(
        self, seen: Seen, at: datetime | None = None, unique: Collection[str] = frozenset()
    ) -> int:
        """Record the cells read back from a workbook: a typed cell sets the note, an emptied one
        clears it, a school and round not in the file leaves its note alone. A row keyed by URN
        takes over the note kept under the school's name (typed before the roster had its URN)
        only when that name is in ``unique`` (one roster school has it): notes are not kept per
        trust, so another trust's school of the same name must keep its own.
        Returns how many notes changed."""
        when = stamp(at or utc_now())
        changed = 0
        with self._conn.write() as db:
            held = {
                (key, round_name): (kind, text)
                for key, round_name, kind, text in db.execute(
                    "SELECT school_key, round, kind, value FROM preparation"
                )
            }
            for (key, round_name), (name, value) in seen.items():
                if not key:
                    continue
                wanted = _encoded(value)
                taken = key != name and name in unique
                if taken and held.pop((name, round_name), None) is not None:
                    db.execute(
                        "DELETE FROM preparation WHERE school_key = ? AND round = ?",
                        (name, round_name),
                    )
                    changed += 1
                if wanted == held.get((key, round_name)):
                    continue
                changed += 1
                if wanted is None:
                    db.execute(
                        "DELETE FROM preparation WHERE school_key = ? AND round = ?",
                        (key, round_name),
                    )
                    continue
                db.execute(
                    "INSERT OR REPLACE INTO preparation "
                    "(school_key, round, name_key, kind, value, read_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (key, round_name, name, *wanted, when),
                )
        return changed

    def notes(self) -> Notes:
        """Every note, by (school key, round)."""
        with self._conn.read() as db:
            rows = db.execute("SELECT school_key, round, kind, value FROM preparation").fetchall()
        return {(key, round_name): _decoded(kind, text) for key, round_name, kind, text in rows}
