"""Helpers every stage may use, and that use nothing of the pipeline: safe names from untrusted
text, writes that nobody can see half-done, and a file's SHA-256 read in blocks.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

# problems/ and intake/ still import these from here; new code takes them from base.clock.

if TYPE_CHECKING:  # openpyxl is heavy, and a bounded worker that only reads never needs it
    from openpyxl import Workbook

HASH_BLOCK = 1 << 20  # 1 MiB: few reads, little memory

_CURLY_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'"})
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
    # curly quotes as Word and Excel type them become the plain apostrophe a name allows
    text = unicodedata.normalize("NFKC", stem).translate(_CURLY_QUOTES)
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


def sha256_file(path: Path, block_size: int = HASH_BLOCK) -> str:
    """The file's SHA-256, read a block at a time: a file is hashed before any size limit has
    looked at it, so it must never be read into memory whole."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(block_size):
            digest.update(block)
    return digest.hexdigest()
