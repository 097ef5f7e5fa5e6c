"""What the store holds, as the rest of the pipeline sees it: stored returns, rejections,
corrections and the events that file each original exactly once."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from ..definitions.carried import Action
from ..definitions.rounds import Judge
from ..problems.report import FileReport, Issue, Status


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
    round: str
    issue_id: str | None
    occasion: str
    cover: dict[str, str]
    # statement id -> level code, None for "not judged"; score it with the framework version
    judgements: dict[str, str | None]
    texts: dict[str, str]
    warnings: list[Issue]
    superseded: bool
    withdrawn: bool = False
    # the return's action plan (a carried-forward workbook's); None when it had none
    actions: list[Action] | None = None

    @property
    def visit(self) -> str:
        """Which visit of a round a return is of: a follow-up visit is its visit date, whatever
        workbook it came in (``VISIT_SQL``); empty for the forms a round holds one of."""
        return self.review_date.isoformat() if self.occasion else ""


# ``StoredReturn.visit`` in SQL: a later return supersedes an earlier one of the same visit only
VISIT_SQL = "CASE WHEN occasion = '' THEN '' ELSE review_date END"


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
    template_version: str | None = None
    errors: list[Issue] = Field(default_factory=list)
    # the round the file was for (its About sheet's, or the one identity resolved); None when
    # the file could not be read, or it was stored before rejections kept their round
    round: str | None = None


class Correction(BaseModel):
    """A return withdrawn or restored by an administrator: the history in Provenance."""

    id: int
    return_id: int
    action: Literal["withdraw", "restore"]
    reason: str
    by_whom: str
    at: datetime
    # the return corrected, so a school's summary can show its history
    template_id: str
    school_key: str
    file_name: str


class Event(BaseModel):
    """One file handled by ingest: its outcome and where its original goes (or went).

    Recorded in the same transaction as the outcome; ``done`` once the original is in place."""

    id: int
    sha256: str
    file_name: str
    arrived_at: datetime
    status: Status
    destination: str  # relative to the workspace root, e.g. "archive/Oakfield.xlsx"
    return_id: int | None
    report: FileReport
    done: bool
