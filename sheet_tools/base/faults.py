"""Telling a fault of the service (a full disk, a disk error, a damaged database) from a fault of
the file in hand: the first must leave the file where it is to be tried again, never reject it.
"""

from __future__ import annotations

import errno
import sqlite3

from ..exceptions import StoreError

# SQLite's primary result codes (an extended code carries one in its low byte).
_SQLITE_READONLY = 8
_SQLITE_IOERR = 10
_SQLITE_CORRUPT = 11
_SQLITE_FULL = 13
_SQLITE_CANTOPEN = 14
_SQLITE_NOTADB = 26

DISK_FULL = "the disk is full"
DISK_ERROR = "the disk could not be read or written"
READ_ONLY = "the disk is read-only"
DAMAGED = "the database is damaged"
CANNOT_OPEN = "the database cannot be opened"
UNUSABLE = "the database could not be used"

_OS_FAULTS = {
    errno.ENOSPC: DISK_FULL,
    errno.EIO: DISK_ERROR,
    errno.EROFS: READ_ONLY,
    errno.ENOMEM: "the computer is out of memory",
    errno.EMFILE: "too many files are open",
}
if hasattr(errno, "EDQUOT"):  # not on Windows
    _OS_FAULTS[errno.EDQUOT] = DISK_FULL

_SQLITE_FAULTS = {
    _SQLITE_FULL: DISK_FULL,
    _SQLITE_IOERR: DISK_ERROR,
    _SQLITE_READONLY: READ_ONLY,
    _SQLITE_CORRUPT: DAMAGED,
    _SQLITE_NOTADB: DAMAGED,
    _SQLITE_CANTOPEN: CANNOT_OPEN,
}


def service_fault(exc: BaseException) -> str | None:
    """What is wrong with the service, in plain words, if ``exc`` is the service's fault (or
    caused by one); None when it may be the file's."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, StoreError):
            return str(current)
        if isinstance(current, OSError) and current.errno in _OS_FAULTS:
            return _OS_FAULTS[current.errno]
        if isinstance(current, sqlite3.DatabaseError):
            code = getattr(current, "sqlite_errorcode", None)
            if code is not None and code & 0xFF in _SQLITE_FAULTS:
                return _SQLITE_FAULTS[code & 0xFF]
            if isinstance(current, sqlite3.OperationalError):
                return UNUSABLE  # locked for longer than the busy timeout, or the like
            if not isinstance(current, sqlite3.IntegrityError | sqlite3.ProgrammingError):
                return DAMAGED
        current = current.__cause__ or current.__context__
    return None
