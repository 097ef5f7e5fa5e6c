"""SQLite store of validated returns (standard library sqlite3, WAL mode, migrated schema).

One transaction per return, keyed by the file's SHA-256, so the same bytes are stored once and a
crash never leaves half a return. A later return for the same school, framework, review date and
judge supersedes the earlier one for summaries; the history is kept.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from .report import Issue
from .validate import Judge, ValidReturn


class StoredReturn(BaseModel):
    """A return as summaries see it."""

    id: int
    sha256: str
    file_name: str
    arrived_at: datetime
    template_id: str
    template_version: str
    school: str
    school_key: str  # URN when known, else the casefolded school name: one key per school
    urn: str | None
    trust: str | None
    review_date: date
    judge: Judge
    cover: dict[str, str]
    judgements: dict[str, str | None]
    texts: dict[str, str]
    warnings: list[Issue]
    superseded: bool


class Rejection(BaseModel):
    """A rejected file, for the returns log an administrator chases."""

    file_name: str
    sha256: str
    arrived_at: datetime
    template_id: str | None
    school: str | None
    urn: str | None
    trust: str | None
    reason: str


def school_key(school: str, urn: str | None) -> str:
    return urn if urn else " ".join(school.casefold().split())


class Store:
    """The workspace database. Open one per process; safe for several processes at once."""

    def __init__(self, path: Path | str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def has_return(self, sha256: str) -> bool:
        raise NotImplementedError

    def add_return(
        self, valid: ValidReturn, *, sha256: str, file_name: str, arrived_at: datetime
    ) -> tuple[Literal["accepted", "duplicate"], int]:
        """Store a return in one transaction; ('duplicate', existing id) for known bytes."""
        raise NotImplementedError

    def add_rejection(self, rejection: Rejection) -> None:
        raise NotImplementedError

    def returns(
        self,
        template_id: str | None = None,
        *,
        trust: str | None = None,
        school_key: str | None = None,
        include_superseded: bool = False,
    ) -> list[StoredReturn]:
        raise NotImplementedError

    def rejections(self, trust: str | None = None) -> list[Rejection]:
        raise NotImplementedError
