"""SQLite store of validated returns (standard library sqlite3, WAL mode, migrated schema).

``Store`` is the one object the other stages hold; it is a facade over the store's parts, which
share one connection: ``connection`` (opening, pragmas, migrations, the lock), ``returns`` (saving
and querying returns, and how superseding works), ``journal`` (an event per file handled, written
with its outcome), ``corrections`` (withdrawals, restorations and rejections), ``issued``
(the workbooks generated into the workspace) and ``mailqueue`` (``Store.mail``: messages owed).
The schema and its migrations are ``schema``'s.

Judgements are kept as the level code the school chose ("Sec"), or NULL for "not judged"; scores
come from the framework version recorded with the return, so a score is never baked in twice.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from datetime import datetime
from pathlib import Path
from typing import Literal

from ..exceptions import DatabaseDamaged, StoreError
from ..intake.returns import ValidReturn
from ..problems.report import FileReport
from .connection import BUSY_TIMEOUT_S, Connection
from .corrections import CorrectionAction, Corrections, Rejections, rejection_from
from .issued import IssuedLog, IssuedWorkbook
from .journal import Journal, duplicate_issue
from .mailqueue import Addressee, MailQueue, QueuedMail
from .preparation import Notes, Preparations, Seen
from .records import Correction, Event, Rejection, StoredReturn
from .returns import Returns
from .schema import MIGRATIONS, SCHEMA_VERSION

# Names other modules and tests have always taken from here.
__all__ = [
    "BUSY_TIMEOUT_S",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Addressee",
    "Correction",
    "Event",
    "IssuedWorkbook",
    "QueuedMail",
    "Rejection",
    "Store",
    "StoreError",
    "StoredReturn",
    "duplicate_issue",
    "rejection_from",
]


class Store:
    """The workspace database. Open one per process; safe for several processes at once, and
    for several threads of one process (calls are serialised)."""

    def __init__(self, path: Path | str) -> None:
        self._conn = Connection(path)
        self.path = self._conn.path
        self._returns = Returns(self._conn)
        self._journal = Journal(self._conn)
        self._corrections = Corrections(self._conn)
        self._rejections = Rejections(self._conn)
        self._issued = IssuedLog(self._conn)
        self._preparation = Preparations(self._conn)
        self.mail = MailQueue(self._conn)

    def close(self) -> None:
        self._conn.close()

    def check(self) -> None:
        """SQLite's ``PRAGMA quick_check``, run when a service starts: a damaged database (a
        torn page) stops it with ``DatabaseDamaged`` rather than rejecting good returns."""
        try:
            with self._conn.read() as db:
                found = [row[0] for row in db.execute("PRAGMA quick_check").fetchall()]
        except sqlite3.DatabaseError as exc:
            found = [str(exc)]
        if found != ["ok"]:
            raise DatabaseDamaged(
                f"the database {self.path} is damaged ({found[0]}): restore it from a backup "
                "(stop the service, put the copy in its place) and start again"
            )

    def guard(self) -> None:
        """Raise ``DatabaseMissing`` when the database was deleted or replaced since it was
        opened (every write checks this too)."""
        self._conn.guard()

    @property
    def identity(self) -> str:
        """The database's random id, made with it (migration 7)."""
        return self._conn.identity

    def backup(self, target: Path) -> None:
        """A consistent copy of the database at ``target`` (SQLite's online backup: other
        processes may go on writing meanwhile)."""
        copy = sqlite3.connect(target)
        try:
            with self._conn.read() as db:
                db.backup(copy)
        finally:
            copy.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def _db(self) -> sqlite3.Connection:
        """The raw connection, for tests that trace or inspect it."""
        return self._conn.db

    @property
    def schema_version(self) -> int:
        return self._conn.schema_version

    # --- writing -------------------------------------------------------------------------------
    def has_return(self, sha256: str) -> bool:
        return self._returns.has(sha256)

    def add_return(
        self, valid: ValidReturn, *, sha256: str, file_name: str, arrived_at: datetime
    ) -> tuple[Literal["accepted", "duplicate"], int]:
        """Store a return in one transaction; ('duplicate', existing id) for known bytes."""
        return self._returns.add(valid, sha256=sha256, file_name=file_name, arrived_at=arrived_at)

    def add_rejection(self, rejection: Rejection) -> int:
        return self._rejections.add(rejection)

    def record(
        self,
        report: FileReport,
        *,
        sha256: str,
        file_name: str,
        arrived_at: datetime,
        destination: str,
        valid: ValidReturn | None = None,
        mail: Collection[Addressee] = (),
    ) -> Event:
        """Store the outcome of one file and the event saying where it goes, in one transaction.

        ``report.status`` "accepted" needs ``valid``; if those bytes were stored meanwhile (another
        process won the race) the event becomes a duplicate. "rejected" adds a rejection. ``mail``
        is queued in the same transaction, as the kind of message the outcome calls for."""
        return self._journal.record(
            report,
            sha256=sha256,
            file_name=file_name,
            arrived_at=arrived_at,
            destination=destination,
            valid=valid,
            mail=list(mail),
        )

    def finish_event(self, event_id: int, destination: str | None = None) -> None:
        """Mark an event's file as filed (at ``destination`` when it had to change)."""
        self._journal.finish(event_id, destination)

    # --- the journal ---------------------------------------------------------------------------
    def outcome_for(self, sha256: str) -> Event | None:
        """The latest event for these bytes, done or not: what happened to them last."""
        return self._journal.latest(sha256)

    def pending_events(self, sha256: str | None = None) -> list[Event]:
        """Events whose file was not yet known to be filed (a crash came in between)."""
        return self._journal.pending(sha256)

    def event(self, event_id: int) -> Event | None:
        return self._journal.by_id(event_id)

    def events_for(self, sha256: str) -> list[Event]:
        """Every event for these bytes, oldest first."""
        return self._journal.for_sha256(sha256)

    def events(self, *, since_id: int = 0) -> list[Event]:
        """Every file handled, oldest first: the returns log."""
        return self._journal.since(since_id)

    # --- reading returns -----------------------------------------------------------------------
    def returns(
        self,
        template_id: str | None = None,
        *,
        trust: str | None = None,
        school_key: str | None = None,
        round: str | None = None,
        include_superseded: bool = False,
        include_withdrawn: bool = False,
        contents: bool = True,
    ) -> list[StoredReturn]:
        """Returns oldest first, judgements and texts fetched in bulk (three queries in all;
        one with ``contents=False``, for what needs only who, what and when).

        The latest return per school, framework, round and role supersedes the earlier ones (a
        follow-up visit is one of several in a round); a withdrawn return counts for nothing, so
        the one it superseded is current again. ``trust`` matches however the name was typed."""
        return self._returns.select(
            template_id,
            trust=trust,
            school_key=school_key,
            round=round,
            include_superseded=include_superseded,
            include_withdrawn=include_withdrawn,
            contents=contents,
        )

    def find_return(self, sha256: str) -> StoredReturn | None:
        """The return stored from these bytes, with whether it has been superseded since."""
        return self._returns.by_sha256(sha256)

    def get_return(self, return_id: int) -> StoredReturn | None:
        return self._returns.by_id(return_id)

    def last_return_id(self) -> int:
        """The store's own sequence: the highest return id stored (0 when none)."""
        return self._returns.last_id()

    def trusts(self) -> list[str]:
        """Every trust name returns have given, one spelling per trust (the first stored)."""
        return self._returns.trusts()

    # --- corrections and rejections ------------------------------------------------------------
    def withdraw(
        self, return_id: int, reason: str, by_whom: str, at: datetime | None = None
    ) -> StoredReturn:
        """Take a return out of every summary (the one it superseded counts again); it stays in
        the database and its history, and ``restore`` puts it back. ``at``: when (default now)."""
        return self._correct(return_id, "withdraw", reason, by_whom, at)

    def restore(
        self, return_id: int, reason: str, by_whom: str, at: datetime | None = None
    ) -> StoredReturn:
        return self._correct(return_id, "restore", reason, by_whom, at)

    def _correct(
        self,
        return_id: int,
        action: CorrectionAction,
        reason: str,
        by_whom: str,
        at: datetime | None,
    ) -> StoredReturn:
        self._corrections.apply(return_id, action, reason, by_whom, at)
        found = self._returns.by_id(return_id)
        assert found is not None
        return found

    def corrections(self, return_ids: Collection[int] | None = None) -> list[Correction]:
        """Who withdrew or restored which return, when and why, oldest first."""
        return self._corrections.select(return_ids)

    def rejections(self, trust: str | None = None) -> list[Rejection]:
        """Files turned away, oldest first; ``trust`` matches however the name was typed."""
        return self._rejections.select(trust)

    # --- workbooks issued ----------------------------------------------------------------------
    def record_issued(self, items: Collection[IssuedWorkbook]) -> int:
        """Record workbooks generated into this workspace, in one transaction."""
        return self._issued.add(items)

    def issued(self, template_id: str | None = None) -> list[IssuedWorkbook]:
        """Every workbook issued from this workspace (of one framework), oldest first."""
        return self._issued.select(template_id)

    def issued_workbook(self, issue_id: str) -> IssuedWorkbook | None:
        """The workbook issued with this id, if this workspace issued it."""
        return self._issued.one(issue_id)

    # --- preparation notes ---------------------------------------------------------------------
    def record_preparation(self, seen: Seen, unique: Collection[str] = frozenset()) -> int:
        """Record the Preparation cells read back from a trust workbook (``unique``: the name
        keys only one roster school has, whose name-keyed note a URN may take over); returns
        notes changed."""
        return self._preparation.record(seen, unique=unique)

    def preparation(self) -> Notes:
        """What the administrator typed as each school's preparation, by (school key, round)."""
        return self._preparation.notes()
