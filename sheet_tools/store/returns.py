"""Saving returns and reading them back: one transaction per return, keyed by the file's SHA-256.

A later return for the same school, framework, round and judge (and, for a follow-up visit, the
same visit date: a new date is a new visit, whatever workbook it came in) supersedes the earlier
one for summaries; the history is kept: superseding is worked out when reading (the latest
stored, by the store's own sequence, the row id, wins: never the wall clock, which an NTP step
can move back; a withdrawn return takes no part), so no row is ever rewritten.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Literal

from ..base.keys import school_key, trust_key
from ..definitions.carried import Action
from ..definitions.rounds import clean_round, term_of
from ..intake.returns import ValidReturn
from ..problems.report import Issue
from .connection import Connection, stamp
from .records import VISIT_SQL, StoredReturn

_RETURN_COLUMNS = (
    "id, sha256, file_name, arrived_at, template_id, template_version, school, school_key, "
    "urn, trust, review_date, judge, cover, warnings, round, issue_id, withdrawn_at, occasion, "
    "has_action_plan"
)
# restricts the superseding window to the framework and school of the return(s) asked for
_GROUP = "(template_id, school_key) IN (SELECT template_id, school_key FROM returns "


class Returns:
    """The returns table and what hangs off it (judgements, texts, action plans)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def has(self, sha256: str) -> bool:
        with self._conn.read() as db:
            row = db.execute("SELECT 1 FROM returns WHERE sha256 = ?", (sha256,)).fetchone()
        return row is not None

    def add(
        self, valid: ValidReturn, *, sha256: str, file_name: str, arrived_at: datetime
    ) -> tuple[Literal["accepted", "duplicate"], int]:
        with self._conn.write() as db:
            return insert_return(db, valid, sha256, file_name, arrived_at)

    def select(
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
        """See ``Store.returns``."""
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

    def by_sha256(self, sha256: str) -> StoredReturn | None:
        found = self._load([_GROUP + "WHERE sha256 = ?)"], [sha256], ["sha256 = ?"], [sha256])
        return found[0] if found else None

    def by_id(self, return_id: int) -> StoredReturn | None:
        found = self._load([_GROUP + "WHERE id = ?)"], [return_id], ["id = ?"], [return_id])
        return found[0] if found else None

    def last_id(self) -> int:
        with self._conn.read() as db:
            return db.execute("SELECT COALESCE(MAX(id), 0) FROM returns").fetchone()[0]

    def trusts(self) -> list[str]:
        with self._conn.read() as db:
            rows = db.execute(
                "SELECT trust FROM returns WHERE trust_key <> '' GROUP BY trust_key "
                "HAVING id = MIN(id) ORDER BY MIN(id)"
            ).fetchall()
        return [row[0] for row in rows]

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
                        PARTITION BY template_id, school_key, round, judge, {VISIT_SQL}
                        ORDER BY withdrawn_at IS NOT NULL, id DESC
                    ) > 1 AS superseded
                FROM returns {inner_where}
            ) {outer_where}
            ORDER BY id"""
        with self._conn.read() as db:
            rows = db.execute(query, [*inner_args, *outer_args]).fetchall()
            if not rows:
                return []
            if not contents:
                return [_stored_return(row, {}, {}) for row in rows]
            ids = json.dumps([row[0] for row in rows])
            judgements: dict[int, dict[str, str | None]] = {row[0]: {} for row in rows}
            texts: dict[int, dict[str, str]] = {row[0]: {} for row in rows}
            for return_id, statement_id, level in db.execute(
                "SELECT return_id, statement_id, level FROM judgements "
                "WHERE return_id IN (SELECT value FROM json_each(?))",
                (ids,),
            ):
                judgements[return_id][statement_id] = level
            for return_id, key, text in db.execute(
                "SELECT return_id, key, text FROM texts "
                "WHERE return_id IN (SELECT value FROM json_each(?))",
                (ids,),
            ):
                texts[return_id][key] = text
            planned = {row[0] for row in rows if row[18]}
            actions = _actions(db, planned) if planned else {}
        return [
            _stored_return(row, judgements[row[0]], texts[row[0]], actions.get(row[0]))
            for row in rows
        ]


def visit_held(db: sqlite3.Connection, valid: ValidReturn) -> bool:
    """Whether a live return of the same visit as ``valid`` (school, framework, round, judge and
    visit date) is held: the one ``valid`` will supersede."""
    row = db.execute(
        f"SELECT 1 FROM returns WHERE template_id = ? AND school_key = ? AND round = ? "
        f"AND judge = ? AND {VISIT_SQL} = ? AND withdrawn_at IS NULL LIMIT 1",
        (
            valid.template_id,
            school_key(valid.school, valid.urn),
            valid.round or term_of(valid.review_date),
            valid.judge,
            valid.review_date.isoformat() if valid.occasion else "",
        ),
    ).fetchone()
    return row is not None


def insert_return(
    db: sqlite3.Connection, valid: ValidReturn, sha256: str, file_name: str, arrived_at: datetime
) -> tuple[Literal["accepted", "duplicate"], int]:
    """Insert within the caller's transaction; ('duplicate', existing id) for known bytes."""
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
            stamp(arrived_at),
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
