"""The workbooks issued from a workspace: which school was sent which framework, for which round
and role, and when. A school issued a workbook and not yet returned is outstanding, and the
round a trust is in is known before the first return arrives."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel

from ..base.keys import school_key, trust_key
from .connection import Connection, stamp


class IssuedWorkbook(BaseModel):
    """One workbook as issued (its issue id is the one in its About sheet)."""

    issue_id: str
    template_id: str
    template_version: str
    school: str
    urn: str | None
    trust: str | None
    round: str
    judge: str | None
    issued_at: datetime


_COLUMNS = "issue_id, template_id, template_version, school, urn, trust, round, judge, issued_at"


class IssuedLog:
    """The ``issued`` table: written when workbooks are generated into a workspace."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, items: Iterable[IssuedWorkbook]) -> int:
        """Record workbooks in one transaction (an issue id recorded again is replaced)."""
        rows = [
            (
                item.issue_id,
                item.template_id,
                item.template_version,
                item.school,
                item.urn,
                school_key(item.school, item.urn),
                item.trust,
                trust_key(item.trust),
                item.round,
                item.judge,
                stamp(item.issued_at),
            )
            for item in items
        ]
        with self._conn.write() as db:
            db.executemany(
                "INSERT OR REPLACE INTO issued (issue_id, template_id, template_version, school, "
                "urn, school_key, trust, trust_key, round, judge, issued_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        return len(rows)

    def one(self, issue_id: str) -> IssuedWorkbook | None:
        with self._conn.read() as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM issued WHERE issue_id = ?", (issue_id,)
            ).fetchone()
        return None if row is None else _issued(row)

    def select(self, template_id: str | None = None) -> list[IssuedWorkbook]:
        query = f"SELECT {_COLUMNS} FROM issued"
        args: tuple[str, ...] = ()
        if template_id is not None:
            query += " WHERE template_id = ?"
            args = (template_id,)
        with self._conn.read() as db:
            rows = db.execute(query + " ORDER BY issued_at, issue_id", args).fetchall()
        return [_issued(row) for row in rows]


def _issued(row: tuple[object, ...]) -> IssuedWorkbook:
    names = _COLUMNS.split(", ")
    return IssuedWorkbook.model_validate(
        {**dict(zip(names, row, strict=True)), "issued_at": datetime.fromisoformat(str(row[8]))}
    )
