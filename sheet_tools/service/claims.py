"""Which inbox files are taken, and claiming them: the watcher's sessions under processing/.

A file is taken only when complete (see ``completeness``) and claimed by renaming it, atomically,
into this process's own session folder before any work: of two watchers on one inbox only one
rename succeeds. A session folder holds one file at a time and is guarded by an OS lock on
``<session>.lock`` that dies with the process, so after a crash (even ``kill -9``) the next start
finds the session abandoned (its lock can be taken) and recovers its files.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import stat
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from ..base import platform
from ..intake.guard import DEFAULT_LIMITS

logger = logging.getLogger("sheet_tools.watch")

MARKER = ".summaries-owed"
# Claims go here, inside the inbox, when the inbox is on another file system than the
# workspace: a rename is only atomic within one file system.
INBOX_CLAIMS = ".sheet-tools-processing"
# A lock file without its session folder older than this is debris from a killed process.
STRAY_LOCK_SECONDS = 600.0


# -- which files --------------------------------------------------------------------------------

_IGNORED = (
    re.compile(r"^~\$"),  # Excel/Word owner file while a workbook is open
    re.compile(r"^\.~lock\..*#$"),  # LibreOffice lock file
    re.compile(r"\.tmp$", re.IGNORECASE),  # Office's save-in-progress and other temp files
    re.compile(r"^\."),  # hidden files (.DS_Store, ._name from macOS, our own claim folder)
    re.compile(r"^README\.md$", re.IGNORECASE),  # the inbox's own note on what the folder is for
)


def is_ignored(name: str) -> bool:
    """Lock, temp and hidden files, and the inbox's README: left alone, never reported."""
    return any(pattern.search(name) for pattern in _IGNORED)


def hidden_on_windows(path: Path) -> bool:
    attributes = getattr(path.stat(), "st_file_attributes", 0)
    return bool(attributes & 0x2)  # FILE_ATTRIBUTE_HIDDEN (desktop.ini, Thumbs.db)


class Completeness(Enum):
    COMPLETE = "complete"  # a zip whose central directory reads: the copy has ended
    NOT_ZIP = "not-zip"  # never going to be a zip: process it (it will be rejected)
    TOO_LARGE = "too-large"  # past the guard's size limit: rejected whatever its end holds
    INCOMPLETE = "incomplete"  # empty, or a zip without its end yet
    # left in the inbox, reported once; the values are the words of that log line
    UNREADABLE = "cannot be read by the service (permission denied)"
    NOT_A_FILE = "is not an ordinary file (it is a link or a pipe)"


def not_a_file(path: Path) -> str | None:
    """What ``path`` is when it is not an ordinary file (a link, a pipe, a device), in words
    for the log; None for an ordinary file. Never follows a link, never opens a pipe."""
    mode = os.lstat(path).st_mode
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return "a link (shortcut) to another file"
    if stat.S_ISFIFO(mode):
        return "a pipe"
    return "not an ordinary file"


def completeness(path: Path) -> Completeness:
    """Whether a file looks finished. Reads the zip directory only, never inflates anything,
    and not even that for a file the guard will refuse for its size. A link or a pipe is never
    opened (a pipe would block)."""
    try:
        if not_a_file(path) is not None:
            return Completeness.NOT_A_FILE
        with path.open("rb") as handle:
            head = handle.read(4)
            size = os.fstat(handle.fileno()).st_size
        if not head:
            return Completeness.INCOMPLETE
        if not head.startswith(b"PK"):
            return Completeness.NOT_ZIP
        if size > DEFAULT_LIMITS.max_file_bytes:
            return Completeness.TOO_LARGE
        with zipfile.ZipFile(path):
            return Completeness.COMPLETE
    except PermissionError:
        return Completeness.UNREADABLE
    except (OSError, zipfile.BadZipFile, ValueError, EOFError):
        return Completeness.INCOMPLETE


# -- claiming: sessions under processing/ -------------------------------------------------------


def _try_lock(path: Path) -> int | None:
    """An exclusive, non-blocking OS lock on ``path`` (released when the process dies)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    if not platform.try_lock(fd):
        os.close(fd)
        return None
    return fd


def _new_session_name() -> str:
    host = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40] or "host"
    return f"{host}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


class Session:
    """This process's claim folder, ``<claims>/<session>/``, locked by ``<session>.lock``."""

    def __init__(self, claims: Path, name: str, lock_fd: int) -> None:
        self.claims = claims
        self.name = name
        self.folder = claims / name
        self.lock_file = claims / f"{name}.lock"
        self._lock_fd: int | None = lock_fd
        self._slot = 0

    @classmethod
    def open(cls, claims: Path) -> Session:
        claims.mkdir(parents=True, exist_ok=True)
        name = _new_session_name()
        # The lock exists before the folder does, so no one can take a live folder for dead.
        fd = _try_lock(claims / f"{name}.lock")
        if fd is None:
            raise OSError(f"cannot lock a new session in {claims}")
        session = cls(claims, name, fd)
        session.folder.mkdir()
        return session

    @property
    def marker(self) -> Path:
        return self.folder / MARKER

    def claim(self, source: Path) -> Path | None:
        """Rename ``source`` into this session; None when another process took it first."""
        target = self.folder / source.name
        if target.exists():  # a file this session could not file stays put: use a new slot
            self._slot += 1
            slot = self.folder / str(self._slot)
            slot.mkdir(exist_ok=True)
            target = slot / source.name
        # Past 260 characters Windows finds neither path without the \\?\ prefix.
        source, target = platform.long_path(source), platform.long_path(target)
        try:
            os.rename(source, target)
        except FileNotFoundError:
            return None
        if not_a_file(target) is not None:  # swapped for a link since it was looked at: put back
            os.rename(target, source)
            return None
        return target

    def files(self) -> list[Path]:
        return sorted(claimed_files(self.folder))

    def close(self, *, keep: bool) -> None:
        """Remove the session folder (unless ``keep``: files or summaries still owed), then
        let go of the lock."""
        if not keep:
            _remove_folder(self.folder)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
        if not self.folder.exists():
            _remove_lock_file(self.lock_file)


def claimed_files(folder: Path) -> Iterator[Path]:
    """Claimed returns in a session (never hidden: hidden files are not claimed)."""
    for entry in sorted(folder.iterdir()) if folder.is_dir() else []:
        if entry.is_dir():
            yield from claimed_files(entry)
        elif not entry.name.startswith("."):
            yield entry


def _remove_folder(folder: Path) -> None:
    """Remove an emptied session folder: its marker, empty slots, itself."""
    if not folder.is_dir():
        return
    for entry in folder.iterdir():
        if entry.name.startswith("."):
            with contextlib.suppress(OSError):
                entry.unlink()
    for sub in sorted(folder.glob("*"), reverse=True):
        with contextlib.suppress(OSError):
            sub.rmdir()
    with contextlib.suppress(OSError):
        folder.rmdir()


def _remove_lock_file(lock_file: Path) -> None:
    with contextlib.suppress(OSError):  # on Windows another process may have it open: leave it
        lock_file.unlink()


@dataclass
class AbandonedSession:
    """A session whose process is gone, now locked by us until ``release``."""

    folder: Path
    lock_file: Path
    lock_fd: int

    def owed_since(self) -> int | None:
        """The store's sequence (highest return id) after which the dead process owed
        summaries, if it did."""
        marker = self.folder / MARKER
        if not marker.exists():
            return None
        try:
            return int(marker.read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            return 0  # torn, or a time written by an older version: owe everything

    def release(self) -> None:
        """Remove the (now empty) session and let go of its lock."""
        _remove_folder(self.folder)
        os.close(self.lock_fd)
        if not self.folder.exists():
            _remove_lock_file(self.lock_file)

    def close(self) -> None:
        """Let go of the lock, keeping the folder: files are still in it for the next start."""
        os.close(self.lock_fd)


def sweep_stray_locks(claims: Path, older_than: float = STRAY_LOCK_SECONDS) -> int:
    """Remove old lock files without a session folder, left by a process killed while it
    opened or removed its session. Young ones are left: a starting watcher makes its lock
    a moment before its folder."""
    removed = 0
    cutoff = time.time() - older_than
    for lock_file in claims.glob("*.lock") if claims.is_dir() else []:
        if (claims / lock_file.stem).exists():
            continue
        with contextlib.suppress(OSError):
            if lock_file.stat().st_mtime > cutoff:
                continue
            fd = _try_lock(lock_file)
            if fd is None:
                continue
            try:
                lock_file.unlink()
                removed += 1
            finally:
                os.close(fd)
    return removed


def abandoned_sessions(claims: Path, own: Session | None = None) -> Iterator[AbandonedSession]:
    """Session folders whose lock nobody holds: their process died. Each is locked as yielded."""
    if not claims.is_dir():
        return
    for folder in sorted(claims.iterdir()):
        if not folder.is_dir() or (own is not None and folder == own.folder):
            continue
        lock_file = claims / f"{folder.name}.lock"
        fd = _try_lock(lock_file)
        if fd is None:
            continue  # alive: another watcher is working in it
        yield AbandonedSession(folder, lock_file, fd)
