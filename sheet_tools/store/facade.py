"""SQLite store of validated returns (standard library sqlite3, WAL mode, migrated schema).

One transaction per return, keyed by the file's SHA-256, so the same bytes are stored once and a
crash never leaves half a return. A later return for the same school, framework, round and
judge supersedes the earlier one for summaries; the history is kept: superseding is worked out when
reading (latest ``arrived_at``, then latest id, wins; a withdrawn return takes no part), so no row
is ever rewritten. The schema and its migrations are ``schema``'s.

Judgements are kept as the level code the school chose ("Sec"), or NULL for "not judged"; scores
come from the framework version recorded with the return, so a score is never baked in twice.

Besides returns and rejections the store keeps an ``events`` row per file handled, written in the
same transaction as the outcome and marked done once the file has been filed. That is what lets
``ingest`` finish a file a crash interrupted without counting it twice (see ``ingest``).

Several processes may share one database: WAL lets readers run beside the single writer, writes
take the lock up front (``BEGIN IMMEDIATE``) and wait up to ``BUSY_TIMEOUT_S`` for it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Literal

from ..base.clock import uk_time
from ..base.files import as_utc, utc_now
from ..base.keys import school_key, trust_key
from ..definitions.carried import Action
from ..definitions.rounds import clean_round, term_of
from ..exceptions import StoreError
from ..intake.returns import ValidReturn
from ..problems.report import FileReport, Issue, Status
from .records import Correction, Event, Rejection, StoredReturn
from .schema import MIGRATIONS, SCHEMA_VERSION

BUSY_TIMEOUT_S = 30.0


def _stamp(moment: datetime) -> str:
    """Fixed-width UTC text, so string order in SQL is time order."""
    return as_utc(moment).isoformat(timespec="microseconds")


def duplicate_issue(file_name: str, arrived_at: datetime) -> Issue:
    return Issue.of("duplicate", original=file_name, received=uk_time(arrived_at))


_RETURN_COLUMNS = (
    "id, sha256, file_name, arrived_at, template_id, template_version, school, school_key, "
    "urn, trust, review_date, judge, cover, warnings, round, issue_id, withdrawn_at, occasion, "
    "has_action_plan"
)
_EVENT_COLUMNS = (
    "id, sha256, file_name, arrived_at, status, destination, return_id, report, done_at"
)


class Store:
    """The workspace database. Open one per process; safe for several processes at once, and
    for several threads of one process (calls are serialised)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the database {self.path}: {exc}") from None
        try:
            self._db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            self._db.execute("PRAGMA journal_mode = WAL")
            # WAL + NORMAL: a commit survives the process being killed (kill -9); only a power
            # cut can lose the last commits, and then the file moves after them are unsynced too.
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise StoreError(
                f"{self.path} is not a sheet-tools database or is damaged ({exc})"
            ) from None
        except StoreError:
            self._db.close()
            raise

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- plumbing ------------------------------------------------------------------------------
    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; the lock is taken up front so it never fails half-way on BUSY."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _migrate(self) -> None:
        with self._write() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} was written by a newer sheet-tools (schema {version}, this one "
                    f"knows up to {SCHEMA_VERSION}); please upgrade sheet-tools"
                )
            for steps in MIGRATIONS[version:]:
                for step in steps:
                    if callable(step):
                        step(db)
                    else:
                        db.execute(step)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @property
    def schema_version(self) -> int:
        with self._lock:
            return self._db.execute("PRAGMA user_version").fetchone()[0]

    # --- writing -------------------------------------------------------------------------------
    def has_return(self, sha256: str) -> bool:
        with self._lock:
            row = self._db.execute("SELECT 1 FROM returns WHERE sha256 = ?", (sha256,)).fetchone()
        return row is not None

    def add_return(
        self, valid: ValidReturn, *, sha256: str, file_name: str, arrived_at: datetime
    ) -> tuple[Literal["accepted", "duplicate"], int]:
        """Store a return in one transaction; ('duplicate', existing id) for known bytes."""
        with self._write() as db:
            return _insert_return(db, valid, sha256, file_name, arrived_at)

    def add_rejection(self, rejection: Rejection) -> int:
        with self._write() as db:
            return _insert_rejection(db, rejection)

    def record(
        self,
        report: FileReport,
        *,
        sha256: str,
        file_name: str,
        arrived_at: datetime,
        destination: str,
        valid: ValidReturn | None = None,
    ) -> Event:
        """Store the outcome of one file and the event saying where it goes, in one transaction.

        ``report.status`` "accepted" needs ``valid``; if those bytes were stored meanwhile (another
        process won the race) the event becomes a duplicate. "rejected" adds a rejection."""
        status: Status = report.status
        return_id: int | None = None
        rejection_id: int | None = None
        with self._write() as db:
            if status == "accepted":
                if valid is None:
                    raise ValueError("an accepted report needs its ValidReturn")
                outcome, return_id = _insert_return(db, valid, sha256, file_name, arrived_at)
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
                rejection_id = _insert_rejection(db, rejection_from(report, file_name, arrived_at))
            cursor = db.execute(
                "INSERT INTO events (sha256, file_name, arrived_at, status, return_id, "
                "rejection_id, destination, report) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    sha256,
                    file_name,
                    _stamp(arrived_at),
                    status,
                    return_id,
                    rejection_id,
                    destination,
                    report.model_dump_json(),
                ),
            )
            event_id = cursor.lastrowid
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

    def finish_event(self, event_id: int, destination: str | None = None) -> None:
        """Mark an event's file as filed (at ``destination`` when it had to change)."""
        with self._write() as db:
            db.execute(
                "UPDATE events SET done_at = ?, destination = COALESCE(?, destination) "
                "WHERE id = ?",
                (_stamp(utc_now()), destination, event_id),
            )

    # --- reading -------------------------------------------------------------------------------
    def outcome_for(self, sha256: str) -> Event | None:
        """The latest event for these bytes, done or not: what happened to them last."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {_EVENT_COLUMNS} FROM events WHERE sha256 = ? ORDER BY id DESC LIMIT 1",
                (sha256,),
            ).fetchone()
        return _event(row) if row else None

    def pending_events(self, sha256: str | None = None) -> list[Event]:
        """Events whose file was not yet known to be filed (a crash came in between)."""
        query = f"SELECT {_EVENT_COLUMNS} FROM events WHERE done_at IS NULL"
        args: tuple[str, ...] = ()
        if sha256 is not None:
            query += " AND sha256 = ?"
            args = (sha256,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY id", args).fetchall()
        return [_event(row) for row in rows]

    def events_for(self, sha256: str) -> list[Event]:
        """Every event for these bytes, oldest first."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_EVENT_COLUMNS} FROM events WHERE sha256 = ? ORDER BY id", (sha256,)
            ).fetchall()
        return [_event(row) for row in rows]

    def events(self, *, since_id: int = 0) -> list[Event]:
        """Every file handled, oldest first: the returns log."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_EVENT_COLUMNS} FROM events WHERE id > ? ORDER BY id", (since_id,)
            ).fetchall()
        return [_event(row) for row in rows]

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
        inner: list[str] = []
        inner_args: list[object] = []
        # Both keys are part of the superseding group, so filtering before the window is exact.
        if template_id is not None:
            inner.append("template_id = ?")
            inner_args.append(template_id)
        if school_key is not None:
            inner.append("school_key = ?")
            inner_args.append(school_key)
        outer: list[str] = []
        outer_args: list[object] = []
        if trust is not None:
            # A school's returns may name different trusts (it moved, or a typo), so superseding
            # is worked out over every return of the schools in this trust, then filtered.
            inner.append(
                "(template_id, school_key) IN "
                "(SELECT template_id, school_key FROM returns WHERE trust_key = ?)"
            )
            inner_args.append(trust_key(trust))
            outer.append("trust_key = ?")
            outer_args.append(trust_key(trust))
        if round is not None:
            outer.append("round = ?")
            outer_args.append(clean_round(round))
        if not include_superseded:
            outer.append("NOT superseded")
        if not include_withdrawn:
            outer.append("withdrawn_at IS NULL")
        return self._load(inner, inner_args, outer, outer_args, contents=contents)

    def find_return(self, sha256: str) -> StoredReturn | None:
        """The return stored from these bytes, with whether it has been superseded since."""
        group = "(template_id, school_key) IN (SELECT template_id, school_key FROM returns "
        found = self._load([group + "WHERE sha256 = ?)"], [sha256], ["sha256 = ?"], [sha256])
        return found[0] if found else None

    def get_return(self, return_id: int) -> StoredReturn | None:
        group = "(template_id, school_key) IN (SELECT template_id, school_key FROM returns "
        found = self._load([group + "WHERE id = ?)"], [return_id], ["id = ?"], [return_id])
        return found[0] if found else None

    def _load(
        self,
        inner: list[str],
        inner_args: list[object],
        outer: list[str],
        outer_args: list[object],
        *,
        contents: bool = True,
    ) -> list[StoredReturn]:
        inner_where = f"WHERE {' AND '.join(inner)}" if inner else ""
        outer_where = f"WHERE {' AND '.join(outer)}" if outer else ""
        # a withdrawn return takes no part in superseding: it sorts after every live one
        query = f"""
            SELECT {_RETURN_COLUMNS}, superseded FROM (
                SELECT {_RETURN_COLUMNS}, trust_key,
                    withdrawn_at IS NULL AND ROW_NUMBER() OVER (
                        PARTITION BY template_id, school_key, round, judge, occasion
                        ORDER BY withdrawn_at IS NOT NULL, arrived_at DESC, id DESC
                    ) > 1 AS superseded
                FROM returns {inner_where}
            ) {outer_where}
            ORDER BY arrived_at, id"""
        with self._lock:
            rows = self._db.execute(query, [*inner_args, *outer_args]).fetchall()
            if not rows:
                return []
            if not contents:
                return [_stored_return(row, {}, {}) for row in rows]
            ids = json.dumps([row[0] for row in rows])
            judgements: dict[int, dict[str, str | None]] = {row[0]: {} for row in rows}
            texts: dict[int, dict[str, str]] = {row[0]: {} for row in rows}
            for return_id, statement_id, level in self._db.execute(
                "SELECT return_id, statement_id, level FROM judgements "
                "WHERE return_id IN (SELECT value FROM json_each(?))",
                (ids,),
            ):
                judgements[return_id][statement_id] = level
            for return_id, key, text in self._db.execute(
                "SELECT return_id, key, text FROM texts "
                "WHERE return_id IN (SELECT value FROM json_each(?))",
                (ids,),
            ):
                texts[return_id][key] = text
            planned = {row[0] for row in rows if row[18]}
            actions = _actions(self._db, planned) if planned else {}
        return [
            _stored_return(row, judgements[row[0]], texts[row[0]], actions.get(row[0]))
            for row in rows
        ]

    # --- corrections ---------------------------------------------------------------------------
    def withdraw(self, return_id: int, reason: str, by_whom: str) -> StoredReturn:
        """Take a return out of every summary (the one it superseded counts again); it stays in
        the database and its history, and ``restore`` puts it back."""
        return self._correct(return_id, "withdraw", reason, by_whom)

    def restore(self, return_id: int, reason: str, by_whom: str) -> StoredReturn:
        return self._correct(return_id, "restore", reason, by_whom)

    def _correct(self, return_id: int, action: str, reason: str, by_whom: str) -> StoredReturn:
        if not reason.strip():
            raise StoreError(f"say why the return is to be {action}n (--reason)")
        with self._write() as db:
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
            now = _stamp(utc_now())
            db.execute(
                "UPDATE returns SET withdrawn_at = ? WHERE id = ?",
                (now if action == "withdraw" else None, return_id),
            )
            db.execute(
                "INSERT INTO corrections (return_id, action, reason, by_whom, at) "
                "VALUES (?, ?, ?, ?, ?)",
                (return_id, action, " ".join(reason.split()), by_whom, now),
            )
        found = self.get_return(return_id)
        assert found is not None
        return found

    def corrections(self, return_ids: Collection[int] | None = None) -> list[Correction]:
        """Who withdrew or restored which return, when and why, oldest first."""
        query = (
            "SELECT c.id, c.return_id, c.action, c.reason, c.by_whom, c.at, r.template_id, "
            "r.school_key, r.file_name FROM corrections c JOIN returns r ON r.id = c.return_id"
        )
        args: tuple[str, ...] = ()
        if return_ids is not None:
            query += " WHERE c.return_id IN (SELECT value FROM json_each(?))"
            args = (json.dumps(sorted(return_ids)),)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY c.id", args).fetchall()
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

    def trusts(self) -> list[str]:
        """Every trust name returns have given, one spelling per trust (the first stored)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT trust FROM returns WHERE trust_key <> '' GROUP BY trust_key "
                "HAVING id = MIN(id) ORDER BY MIN(id)"
            ).fetchall()
        return [row[0] for row in rows]

    def rejections(self, trust: str | None = None) -> list[Rejection]:
        query = (
            "SELECT file_name, sha256, arrived_at, template_id, school, urn, trust, reason, "
            "template_version, errors FROM rejections"
        )
        args: tuple[str, ...] = ()
        if trust is not None:
            query += " WHERE trust_key = ?"
            args = (trust_key(trust),)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY arrived_at, id", args).fetchall()
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
            )
            for row in rows
        ]


# --- rows <-> models ---------------------------------------------------------------------------
def _insert_return(
    db: sqlite3.Connection, valid: ValidReturn, sha256: str, file_name: str, arrived_at: datetime
) -> tuple[Literal["accepted", "duplicate"], int]:
    known = db.execute("SELECT id FROM returns WHERE sha256 = ?", (sha256,)).fetchone()
    if known:
        return "duplicate", known[0]
    cursor = db.execute(
        "INSERT INTO returns (sha256, file_name, arrived_at, template_id, template_version, "
        "school, school_key, urn, trust, review_date, judge, cover, warnings, round, issue_id, "
        "occasion, trust_key, has_action_plan) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            sha256,
            file_name,
            _stamp(arrived_at),
            valid.template_id,
            valid.template_version,
            valid.school,
            school_key(valid.school, valid.urn),
            valid.urn,
            valid.trust,
            valid.review_date.isoformat(),
            valid.judge,
            json.dumps(valid.cover, ensure_ascii=False),
            json.dumps([issue.model_dump(mode="json") for issue in valid.warnings]),
            valid.round or term_of(valid.review_date),
            valid.issue_id,
            valid.occasion,
            trust_key(valid.trust),
            valid.actions is not None,
        ),
    )
    return_id = cursor.lastrowid
    assert return_id is not None
    db.executemany(
        "INSERT INTO judgements (return_id, statement_id, level) VALUES (?, ?, ?)",
        [(return_id, statement, level) for statement, level in valid.judgements.items()],
    )
    db.executemany(
        "INSERT INTO texts (return_id, key, text) VALUES (?, ?, ?)",
        [(return_id, key, text) for key, text in valid.texts.items()],
    )
    db.executemany(
        "INSERT INTO actions (return_id, position, action_id, action, area, owner, due, status, "
        "note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (return_id, n, a.id, a.action, a.area, a.owner, _day(a.due), a.status, a.note)
            for n, a in enumerate(valid.actions or ())
        ],
    )
    return "accepted", return_id


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _actions(db: sqlite3.Connection, return_ids: Collection[int]) -> dict[int, list[Action]]:
    """The action plans of these returns, each in its order (every one listed gets a list)."""
    found: dict[int, list[Action]] = {return_id: [] for return_id in return_ids}
    for return_id, action_id, action, area, owner, due, status, note in db.execute(
        "SELECT return_id, action_id, action, area, owner, due, status, note FROM actions "
        "WHERE return_id IN (SELECT value FROM json_each(?)) ORDER BY return_id, position",
        (json.dumps(sorted(return_ids)),),
    ):
        found[return_id].append(
            Action.model_construct(
                id=action_id,
                action=action,
                area=area,
                owner=owner,
                due=date.fromisoformat(due) if due else None,
                status=status,
                note=note,
            )
        )
    return found


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
    )


def _insert_rejection(db: sqlite3.Connection, rejection: Rejection) -> int:
    cursor = db.execute(
        "INSERT INTO rejections (sha256, file_name, arrived_at, template_id, template_version, "
        "school, urn, trust, reason, errors, trust_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            rejection.sha256,
            rejection.file_name,
            _stamp(rejection.arrived_at),
            rejection.template_id,
            rejection.template_version,
            rejection.school,
            rejection.urn,
            rejection.trust,
            rejection.reason,
            json.dumps([issue.model_dump(mode="json") for issue in rejection.errors]),
            trust_key(rejection.trust),
        ),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def _stored_return(
    row: Sequence[object],
    judgements: dict[str, str | None],
    texts: dict[str, str],
    actions: list[Action] | None = None,
) -> StoredReturn:
    # Rows come from our own schema, so they are built without re-validating every field: this
    # keeps reading 10,000 returns for a summary well under a second.
    return StoredReturn.model_construct(
        id=row[0],
        sha256=row[1],
        file_name=row[2],
        arrived_at=datetime.fromisoformat(str(row[3])),
        template_id=row[4],
        template_version=row[5],
        school=row[6],
        school_key=row[7],
        urn=row[8],
        trust=row[9],
        review_date=date.fromisoformat(str(row[10])),
        judge=row[11],
        cover=json.loads(str(row[12])),
        judgements=judgements,
        texts=texts,
        warnings=[Issue.model_validate(item) for item in json.loads(str(row[13]))],
        round=row[14],
        issue_id=row[15],
        withdrawn=row[16] is not None,
        occasion=row[17],
        superseded=bool(row[19]),
        actions=actions,
    )


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
