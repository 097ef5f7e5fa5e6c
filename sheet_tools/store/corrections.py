"""What the store keeps besides returns about a person's say: corrections (a return withdrawn or
restored, by whom and why) and rejections (a file turned away, and the errors it was told)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection
from datetime import datetime
from typing import Literal

from ..base.clock import utc_now
from ..base.keys import trust_key
from ..exceptions import StoreError
from ..problems.report import FileReport, Issue
from .connection import Connection, stamp
from .records import Correction, Rejection

CorrectionAction = Literal["withdraw", "restore"]


class Corrections:
    """Withdrawing and restoring returns, with the record of who did it and why."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def apply(
        self,
        return_id: int,
        action: CorrectionAction,
        reason: str,
        by_whom: str,
        at: datetime | None = None,
    ) -> None:
        """Withdraw or restore a return and record why, in one transaction (``at``: when,
        for a store rebuilt from its ledger; now by default)."""
        if not reason.strip():
            raise StoreError(f"say why the return is to be {action}n (--reason)")
        with self._conn.write() as db:
            row = db.execute(
                "SELECT withdrawn_at FROM returns WHERE id = ?", (return_id,)
            ).fetchone()
            if row is None:
                raise StoreError(f"there is no return {return_id}; see sheet-tools returns list")
            withdrawn = row[0] is not None
            if action == "withdraw" and withdrawn:
                raise StoreError(f"return {return_id} is already withdrawn")
            if action == "restore" and not withdrawn:
                raise StoreError(f"return {return_id} is not withdrawn")
            now = stamp(at or utc_now())
            db.execute(
                "UPDATE returns SET withdrawn_at = ? WHERE id = ?",
                (now if action == "withdraw" else None, return_id),
            )
            db.execute(
                "INSERT INTO corrections (return_id, action, reason, by_whom, at) "
                "VALUES (?, ?, ?, ?, ?)",
                (return_id, action, " ".join(reason.split()), by_whom, now),
            )

    def select(self, return_ids: Collection[int] | None = None) -> list[Correction]:
        query = (
            "SELECT c.id, c.return_id, c.action, c.reason, c.by_whom, c.at, r.template_id, "
            "r.school_key, r.file_name FROM corrections c JOIN returns r ON r.id = c.return_id"
        )
        args: tuple[str, ...] = ()
        if return_ids is not None:
            query += " WHERE c.return_id IN (SELECT value FROM json_each(?))"
            args = (json.dumps(sorted(return_ids)),)
        with self._conn.read() as db:
            rows = db.execute(query + " ORDER BY c.id", args).fetchall()
        return [
            Correction(
                id=row[0],
                return_id=row[1],
                action=row[2],
                reason=row[3],
                by_whom=row[4],
                at=datetime.fromisoformat(row[5]),
                template_id=row[6],
                school_key=row[7],
                file_name=row[8],
            )
            for row in rows
        ]


class Rejections:
    """Files turned away, for the returns log and the trust summary."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, rejection: Rejection) -> int:
        with self._conn.write() as db:
            return insert_rejection(db, rejection)

    def select(self, trust: str | None = None) -> list[Rejection]:
        query = (
            "SELECT file_name, sha256, arrived_at, template_id, school, urn, trust, reason, "
            "template_version, errors, round FROM rejections"
        )
        args: tuple[str, ...] = ()
        if trust is not None:
            query += " WHERE trust_key = ?"
            args = (trust_key(trust),)
        with self._conn.read() as db:
            rows = db.execute(query + " ORDER BY arrived_at, id", args).fetchall()
        return [
            Rejection(
                file_name=row[0],
                sha256=row[1],
                arrived_at=datetime.fromisoformat(row[2]),
                template_id=row[3],
                school=row[4],
                urn=row[5],
                trust=row[6],
                reason=row[7],
                template_version=row[8],
                errors=[Issue.model_validate(item) for item in json.loads(row[9])],
                round=row[10],
            )
            for row in rows
        ]


def rejection_from(report: FileReport, file_name: str, arrived_at: datetime) -> Rejection:
    """The returns-log entry for a rejected report; ``reason`` is its errors in one line."""
    errors = [issue for issue in report.errors if issue.severity == "error"]
    reason = "; ".join(
        f"{issue.message} ({issue.where})" if issue.where else issue.message for issue in errors
    )
    return Rejection(
        file_name=file_name,
        sha256=report.sha256 or "",
        arrived_at=arrived_at,
        template_id=report.template,
        template_version=report.template_version,
        school=report.school,
        urn=report.urn,
        trust=report.trust,
        reason=reason or "rejected",
        errors=report.errors,
        round=report.round,
    )


def insert_rejection(db: sqlite3.Connection, rejection: Rejection) -> int:
    """Insert within the caller's transaction."""
    cursor = db.execute(
        "INSERT INTO rejections (sha256, file_name, arrived_at, template_id, template_version, "
        "school, urn, trust, reason, errors, trust_key, round) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            rejection.sha256,
            rejection.file_name,
            stamp(rejection.arrived_at),
            rejection.template_id,
            rejection.template_version,
            rejection.school,
            rejection.urn,
            rejection.trust,
            rejection.reason,
            json.dumps([issue.model_dump(mode="json") for issue in rejection.errors]),
            trust_key(rejection.trust),
            rejection.round,
        ),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid
