"""Helpers every stage may use, and that use nothing of the pipeline: safe names from untrusted
text, writes that nobody can see half-done, and the one rule for times without a zone.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # openpyxl is heavy, and a bounded worker that only reads never needs it
    from openpyxl import Workbook

_UNSAFE = re.compile(r"[^\w\s().,&'-]+")
_WINDOWS_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}


def safe_filename(stem: str, suffix: str = ".xlsx", max_length: int = 120) -> str:
    """A file name from untrusted text: no separators, no traversal, no reserved names."""
    text = unicodedata.normalize("NFKC", stem)
    text = _UNSAFE.sub(" ", text.replace("/", " ").replace("\\", " "))
    text = " ".join(text.split()).strip(" .")
    if not text or text.upper().split(".")[0] in _WINDOWS_RESERVED:
        text = f"workbook {text}".strip()
    return text[: max_length - len(suffix)].rstrip(" .") + suffix


def write_bytes_atomically(data: bytes, target: Path) -> Path:
    """Write beside the target and rename into place, so nobody ever opens half a file."""
    handle, temp_name = tempfile.mkstemp(prefix=".~sheet-tools-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temp_name, 0o644)  # mkstemp makes it private; others on the share must read it
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return target


def save_workbook(wb: Workbook, target: Path) -> Path:
    """Save an openpyxl workbook with ``write_bytes_atomically``."""
    buffer = io.BytesIO()
    wb.save(buffer)
    return write_bytes_atomically(buffer.getvalue(), target)


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A time in UTC. A time without a zone is taken as UTC (what the store writes), never as
    the server's local time, so every stage compares and prints times alike."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
