"""Returned workbook -> raw cell values keyed by id (fast reader, no validation of content).

Identity comes from the workbook's own cells (the About sheet's key/value rows and the ids in
column A of every sheet), never from the file name, sheet visibility or document properties.
Answers are matched to statements by id, never by row position. Cached values are read;
formulas are never evaluated.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from .frameworks import Registry
from .report import Issue

CellValue = str | int | float | bool | date | datetime | time | timedelta | None


class RawCell(BaseModel):
    """A value as found, with where it was found (for error messages)."""

    model_config = ConfigDict(frozen=True)

    sheet: str
    cell: str  # A1 reference, e.g. "C12"
    value: CellValue = None


class RawReturn(BaseModel):
    """Everything read from a return, before any judgement about its content."""

    template_id: str
    template_version: str
    macro_enabled: bool = False
    # cover field id -> value
    cover: dict[str, RawCell] = Field(default_factory=dict)
    # statement id -> the judgement cell (judged sheets only)
    judgements: dict[str, RawCell] = Field(default_factory=dict)
    # "<statement id>.<column id>" for text columns beside statements, "<box id>" for boxes
    texts: dict[str, RawCell] = Field(default_factory=dict)


def read_return(path: Path, registry: Registry) -> tuple[RawReturn | None, list[Issue]]:
    """Read a file that ``guard.check_file`` has passed. Structural problems come back as issues
    (unknown-template, unknown-version, missing-sheet, missing-statement, duplicate-statement...);
    the RawReturn is None when the structure is too damaged to read answers from."""
    raise NotImplementedError
