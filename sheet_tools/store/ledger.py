"""The filing ledger: one JSON line per file filed, workbook issued, return withdrawn or restored,
appended to ``archive/.sheet-tools-ledger.jsonl`` beside the originals.

The database is the store; the ledger is how it is rebuilt when the database is lost and no
backup will do (``sheet-tools store rebuild`` replays it against the originals in ``archive/``
and ``rejected/``). A line is appended, and flushed to disk, before the database marks the step
done, so a crash can at worst write a line twice: replaying skips a filing already replayed.
A torn last line (the power cut as it was written) is skipped when read.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from ..problems.report import FileReport, Status
from .issued import IssuedWorkbook

LEDGER_NAME = ".sheet-tools-ledger.jsonl"


class Filed(BaseModel):
    """A file filed: its bytes, when it arrived, what became of it and where it lies."""

    kind: Literal["filed"] = "filed"
    sha256: str
    file_name: str
    arrived_at: datetime
    status: Status
    place: str  # relative to the workspace: archive/<name> or rejected/<name>
    report: FileReport


class Corrected(BaseModel):
    """A return withdrawn or restored (by its bytes: ids are the database's own)."""

    kind: Literal["withdraw", "restore"]
    sha256: str
    reason: str
    by_whom: str
    at: datetime


class Issued(BaseModel):
    """A workbook generated into the workspace."""

    kind: Literal["issued"] = "issued"
    workbook: IssuedWorkbook


Entry = Annotated[Filed | Corrected | Issued, Field(discriminator="kind")]
_ENTRY: TypeAdapter[Entry] = TypeAdapter(Entry)


def ledger_path(archive: Path) -> Path:
    return archive / LEDGER_NAME


def append(path: Path, *entries: Filed | Corrected | Issued) -> None:
    """Append entries, one line each, and flush them to disk before returning."""
    if not entries:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(entry.model_dump_json() + "\n" for entry in entries)
    with path.open("a", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def read(path: Path) -> tuple[list[Filed | Corrected | Issued], int]:
    """Every entry, oldest first, and how many lines could not be read (a torn last line)."""
    entries: list[Filed | Corrected | Issued] = []
    unreadable = 0
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                entries.append(_ENTRY.validate_json(line))
            except ValidationError:
                unreadable += 1
    return entries, unreadable
