"""The event journal: one row per file handled, written in the same transaction as its outcome
and marked done once the file has been filed. That is what lets ``ingest`` finish a file a crash
interrupted without counting it twice (see ``service.ingest``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ..base.clock import uk_time, utc_now
from ..intake.returns import ValidReturn
from ..problems.report import FileReport, Issue, Status, Visit
from .connection import Connection, stamp
from .corrections import insert_rejection, rejection_from
from .mailqueue import Addressee, insert_mail
from .records import Event
from .returns import insert_return, visit_held

_EVENT_COLUMNS = (
    "id, sha256, file_name, arrived_at, status, destination, return_id, report, done_at"
)


def duplicate_issue(file_name: str, arrived_at: datetime) -> Issue:
    return Issue.of("duplicate", original=file_name, received=uk_time(arrived_at))


class Journal:
    """Files handled: what became of each, and whether it has been filed yet."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def record(
        self,
        report: FileReport,
        *,
        sha256: str,
        file_name: str,
        arrived_at: datetime,
        destination: str,
        valid: ValidReturn | None = None,
        mail: Sequence[Addressee] = (),
    ) -> Event:
        """See ``Store.record``."""
        status: Status = report.status
        return_id: int | None = None
        rejection_id: int | None = None
        with self._conn.write() as db:
            if status == "accepted":
                if valid is None:
                    raise ValueError("an accepted report needs its ValidReturn")
                # a follow-up visit: whether it is a new visit or corrects the one of its date
                visit: Visit | None = None
                if valid.occasion:
                    visit = "corrects" if visit_held(db, valid) else "new"
                outcome, return_id = insert_return(db, valid, sha256, file_name, arrived_at)
                if outcome == "accepted" and visit is not None:
                    report = report.model_copy(update={"visit": visit})
                if outcome == "duplicate":
                    status = "duplicate"
                    first_name, first_at = db.execute(
                        "SELECT file_name, arrived_at FROM returns WHERE id = ?", (return_id,)
                    ).fetchone()
                    issue = duplicate_issue(first_name, datetime.fromisoformat(first_at))
                    report = report.model_copy(
                        update={"status": status, "errors": [issue, *report.errors]}
                    )
            elif status == "duplicate":
                row = db.execute("SELECT id FROM returns WHERE sha256 = ?", (sha256,)).fetchone()
                return_id = row[0] if row else None
            else:
                rejection_id = insert_rejection(db, rejection_from(report, file_name, arrived_at))
            cursor = db.execute(
                "INSERT INTO events (sha256, file_name, arrived_at, status, return_id, "
                "rejection_id, destination, report) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    sha256,
                    file_name,
                    stamp(arrived_at),
                    status,
                    return_id,
                    rejection_id,
                    destination,
                    report.model_dump_json(),
                ),
            )
            event_id = cursor.lastrowid
            insert_mail(db, mail, event_id, status)
        assert event_id is not None
        return Event(
            id=event_id,
            sha256=sha256,
            file_name=file_name,
            arrived_at=arrived_at,
            status=status,
            destination=destination,
            return_id=return_id,
            report=report,
            done=False,
        )

    def finish(self, event_id: int, destination: str | None = None) -> None:
        with self._conn.write() as db:
            db.execute(
                "UPDATE events SET done_at = ?, destination = COALESCE(?, destination) "
                "WHERE id = ?",
                (stamp(utc_now()), destination, event_id),
            )

    def latest(self, sha256: str) -> Event | None:
        found = self._select("sha256 = ? ORDER BY id DESC LIMIT 1", (sha256,))
        return found[0] if found else None

    def by_id(self, event_id: int) -> Event | None:
        found = self._select("id = ?", (event_id,))
        return found[0] if found else None

    def pending(self, sha256: str | None = None) -> list[Event]:
        if sha256 is None:
            return self._select("done_at IS NULL ORDER BY id", ())
        return self._select("done_at IS NULL AND sha256 = ? ORDER BY id", (sha256,))

    def for_sha256(self, sha256: str) -> list[Event]:
        return self._select("sha256 = ? ORDER BY id", (sha256,))

    def since(self, since_id: int = 0) -> list[Event]:
        return self._select("id > ? ORDER BY id", (since_id,))

    def _select(self, where: str, args: tuple[object, ...]) -> list[Event]:
        with self._conn.read() as db:
            rows = db.execute(f"SELECT {_EVENT_COLUMNS} FROM events WHERE {where}", args)
            return [_event(row) for row in rows.fetchall()]


def _event(row: Sequence[object]) -> Event:
    return Event(
        id=row[0],
        sha256=row[1],
        file_name=row[2],
        arrived_at=datetime.fromisoformat(str(row[3])),
        status=row[4],
        destination=row[5],
        return_id=row[6],
        report=FileReport.model_validate_json(str(row[7])),
        done=row[8] is not None,
    )
