"""The mail queue: one row per message owed to someone, written in the same transaction as what
it tells of (``Journal.record``), so a crash can neither lose a message nor make one for a return
that was not recorded. The store keeps only who and why; the wording is built at send time
(``mail.compose``) from the event the row points at.

A row is ``queued`` (waiting, or waiting to be retried at ``next_try_at``), ``sent``, ``failed``
(the server refused it for good; ``reason`` is its reply) or ``not-told`` (nobody to tell: no
address on the roster, or a workbook sheet-tools did not issue). Its Message-ID is fixed here,
so a message a crash between sending and marking repeats is recognisably the same message.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta
from email.utils import make_msgid
from typing import Literal

from pydantic import BaseModel, Field

from ..base.clock import utc_now
from .connection import Connection, stamp

MailStatus = Literal["queued", "sent", "failed", "not-told"]
_COLUMNS = (
    "id, event_id, kind, recipient, school, urn, issue_id, round, payload, status, reason, "
    "message_id, queued_at, attempts, next_try_at, sent_at"
)
MSGID_DOMAIN = "sheet-tools.invalid"
_REMINDING = "('reminder', 'digest')"


class Addressee(BaseModel):
    """Who a message goes to, worked out before it is queued; no ``recipient`` means nobody is
    told, and ``reason`` says why."""

    recipient: str | None = None
    reason: str = ""
    school: str | None = None
    urn: str | None = None
    issue_id: str | None = None
    round: str | None = None
    kind: str | None = None  # None: the outcome of the event it is queued with
    payload: dict[str, object] = Field(default_factory=dict)


class QueuedMail(BaseModel):
    """One row of the queue."""

    id: int
    event_id: int | None
    kind: str
    recipient: str | None
    school: str | None
    urn: str | None
    issue_id: str | None
    round: str | None
    payload: dict[str, object]
    status: MailStatus
    reason: str
    message_id: str
    queued_at: datetime
    attempts: int
    next_try_at: datetime
    sent_at: datetime | None


def insert_mail(
    db: sqlite3.Connection, addressees: Sequence[Addressee], event_id: int | None, outcome: str
) -> None:
    """Queue messages inside the caller's transaction; ``outcome`` is the kind of those that
    follow an event (receipt, rejection or duplicate, by the status finally recorded)."""
    now = stamp(utc_now())
    kinds = {"accepted": "receipt", "rejected": "rejection", "duplicate": "duplicate"}
    for item in addressees:
        db.execute(
            f"INSERT INTO mail ({_COLUMNS.split(', ', 1)[1]}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, NULL)",
            (
                event_id,
                item.kind or kinds.get(outcome, outcome),
                item.recipient,
                item.school,
                item.urn,
                item.issue_id,
                item.round,
                json.dumps(item.payload),
                "queued" if item.recipient else "not-told",
                "" if item.recipient else item.reason,
                make_msgid(domain=MSGID_DOMAIN),
                now,
                now,
            ),
        )


class MailQueue:
    """The ``mail`` table."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, addressees: Sequence[Addressee]) -> None:
        with self._conn.write() as db:
            insert_mail(db, addressees, None, "")

    def add_reminders(
        self,
        addressees: Sequence[Addressee],
        round_name: str,
        since: datetime,
        key: Callable[[Addressee | QueuedMail], tuple[str, str]],
    ) -> list[Addressee]:
        """Queue a round's reminders and digests in one write transaction, leaving out each one
        whose ``key`` was queued for the round at or after ``since``: two processes planning at
        once (``mail remind`` and the watcher's daily check) remind nobody twice. Returns those
        queued."""
        with self._conn.write() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM mail WHERE kind IN {_REMINDING} AND round = ? "
                "AND queued_at >= ?",
                (round_name, stamp(since)),
            ).fetchall()
            recent = {key(item) for item in _parsed(rows)}
            fresh = [item for item in addressees if key(item) not in recent]
            insert_mail(db, fresh, None, "")
        return fresh

    def due(self, now: datetime | None = None) -> list[QueuedMail]:
        moment = stamp(now or utc_now())
        return self._select("status = 'queued' AND next_try_at <= ? ORDER BY id", (moment,))

    def select(self, statuses: Collection[str] | None = None) -> list[QueuedMail]:
        if not statuses:
            return self._select("1 ORDER BY id", ())
        marks = ", ".join("?" for _ in statuses)
        return self._select(f"status IN ({marks}) ORDER BY id", tuple(statuses))

    def get(self, mail_id: int) -> QueuedMail | None:
        found = self._select("id = ?", (mail_id,))
        return found[0] if found else None

    def mark_sent(self, mail_id: int) -> None:
        with self._conn.write() as db:
            db.execute(
                "UPDATE mail SET status = 'sent', sent_at = ?, attempts = attempts + 1, "
                "reason = '' WHERE id = ?",
                (stamp(utc_now()), mail_id),
            )

    def mark_failed(self, mail_id: int, reason: str) -> None:
        with self._conn.write() as db:
            db.execute(
                "UPDATE mail SET status = 'failed', reason = ?, attempts = attempts + 1 "
                "WHERE id = ?",
                (reason, mail_id),
            )

    def postpone(self, mail_id: int, reason: str, delay: timedelta) -> None:
        """A temporary failure: try again after ``delay``."""
        with self._conn.write() as db:
            db.execute(
                "UPDATE mail SET reason = ?, attempts = attempts + 1, next_try_at = ? "
                "WHERE id = ? AND status = 'queued'",
                (reason, stamp(utc_now() + delay), mail_id),
            )

    def requeue(self, mail_id: int) -> bool:
        """A failed message queued again (with its Message-ID); False if it was not failed."""
        with self._conn.write() as db:
            cursor = db.execute(
                "UPDATE mail SET status = 'queued', next_try_at = ?, attempts = 0 "
                "WHERE id = ? AND status = 'failed'",
                (stamp(utc_now()), mail_id),
            )
            return cursor.rowcount == 1

    def prune(self, before: datetime, reminders_before: datetime | None = None) -> list[QueuedMail]:
        """Forget sent, failed and not-told rows queued before ``before``; the rows forgotten.
        Reminders and digests are kept until ``reminders_before`` (when given), so pruning never
        lets a school be reminded sooner than its interval."""
        where = "status <> 'queued' AND queued_at < ?"
        args: tuple[str, ...] = (stamp(before),)
        if reminders_before is not None:
            where += f" AND (kind NOT IN {_REMINDING} OR queued_at < ?)"
            args += (stamp(reminders_before),)
        gone = self._select(where + " ORDER BY id", args)
        with self._conn.write() as db:
            db.execute(f"DELETE FROM mail WHERE {where}", args)
        return gone

    def reminders(self, round_name: str) -> list[QueuedMail]:
        """The reminders and digests queued for a round (told or not), oldest first."""
        return self._select(f"kind IN {_REMINDING} AND round = ? ORDER BY id", (round_name,))

    def told(self) -> dict[str, tuple[str, str]]:
        """For each file's bytes (sha256), the newest message about its outcome: (status,
        reason); the Returns log's "Told" column."""
        with self._conn.read() as db:
            rows = db.execute(
                "SELECT e.sha256, m.status, m.reason FROM mail m JOIN events e "
                "ON e.id = m.event_id ORDER BY m.id"
            ).fetchall()
        return {str(sha): (str(status), str(reason or "")) for sha, status, reason in rows}

    def _select(self, where: str, args: tuple[object, ...]) -> list[QueuedMail]:
        with self._conn.read() as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM mail WHERE {where}", args).fetchall()
        return _parsed(rows)


def _parsed(rows: Sequence[Sequence[object]]) -> list[QueuedMail]:
    names = _COLUMNS.split(", ")
    found = []
    for row in rows:
        values = dict(zip(names, row, strict=True))
        values["payload"] = json.loads(str(values["payload"]))
        found.append(QueuedMail.model_validate(values))
    return found
