"""The database connection every part of the store shares: opening, pragmas, migrations, and the
one lock that serialises this process's calls.

Several processes may share one database: WAL lets readers run beside the single writer, writes
take the lock up front (``BEGIN IMMEDIATE``) and wait up to ``BUSY_TIMEOUT_S`` for it.

The file is guarded while open: its identity (the random id of migration 7) and, where the OS
gives them, its device and inode are taken at open, and every write first checks that the file
at the path is still that one. SQLite would go on writing to a deleted file (still open) or to
the old one of a replaced pair, so returns would be recorded nowhere anyone will read them.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from ..base.clock import as_utc
from ..base.faults import DAMAGED, service_fault
from ..exceptions import DatabaseDamaged, DatabaseMissing, StoreError
from .schema import MIGRATIONS, SCHEMA_VERSION

BUSY_TIMEOUT_S = 30.0


def stamp(moment: datetime) -> str:
    """Fixed-width UTC text, so string order in SQL is time order."""
    return as_utc(moment).isoformat(timespec="microseconds")


class Connection:
    """One SQLite connection, migrated to ``SCHEMA_VERSION``, usable from several threads."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.lock = threading.RLock()
        self.identity = ""
        self._file: tuple[int, int] | None = None
        self._guarding = False  # from the end of opening: the migrations write first
        try:
            self.db = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the database {self.path}: {exc}") from None
        try:
            self.db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            self.db.execute("PRAGMA journal_mode = WAL")
            # WAL + NORMAL: a commit survives the process being killed (kill -9); only a power
            # cut can lose the last commits, and then the file moves after them are unsynced too.
            self.db.execute("PRAGMA synchronous = NORMAL")
            self.db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
            self.identity = self.db.execute("SELECT id FROM identity").fetchone()[0]
            self.db.execute("PRAGMA wal_checkpoint(PASSIVE)")  # the identity into the file
            self._file = _file_id(self.path)
            self._guarding = True
        except sqlite3.DatabaseError as exc:
            self.db.close()
            fault = service_fault(exc)
            if fault is not None and fault != DAMAGED:  # the disk is full, or failing
                raise StoreError(f"cannot use the database {self.path}: {fault} ({exc})") from None
            raise DatabaseDamaged(
                f"{self.path} is not a sheet-tools database or is damaged ({exc})"
            ) from None
        except StoreError:
            self.db.close()
            raise

    def close(self) -> None:
        with self.lock:
            self.db.close()

    def guard(self) -> None:
        """Raise ``DatabaseMissing`` when the file at the path is no longer the one opened:
        deleted, or replaced by another file (another inode, or another identity where the OS
        gives no inode)."""
        restore = (
            "sheet-tools stopped rather than record returns in a file that is gone: stop the "
            "service, put the database back (or `sheet-tools store rebuild`) and start again"
        )
        try:
            now = _file_id(self.path)
        except FileNotFoundError:
            raise DatabaseMissing(
                f"the database {self.path} was deleted while in use; {restore}"
            ) from None
        if self._file is not None and now != self._file:
            raise DatabaseMissing(f"the database {self.path} was replaced while in use; {restore}")
        if self._file is None and _identity_at(self.path) not in (None, self.identity):
            raise DatabaseMissing(f"the database {self.path} was replaced while in use; {restore}")

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; the lock is taken up front so it never fails half-way on BUSY.
        The file is checked to be the one opened first (``guard``)."""
        with self.lock:
            if self._guarding:
                self.guard()
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """The connection, for queries that must not interleave with another thread's."""
        with self.lock:
            yield self.db

    @property
    def schema_version(self) -> int:
        with self.read() as db:
            return db.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        with self.write() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} was written by a newer sheet-tools (schema {version}, this one "
                    f"knows up to {SCHEMA_VERSION}); please upgrade sheet-tools"
                )
            for steps in MIGRATIONS[version:]:
                for step in steps:
                    if callable(step):
                        step(db)
                    else:
                        db.execute(step)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _file_id(path: Path) -> tuple[int, int] | None:
    """The file's device and inode, or None where the OS gives no inode (some shares)."""
    st = os.stat(path)
    return (st.st_dev, st.st_ino) if st.st_ino else None


def _identity_at(path: Path) -> str | None:
    """The identity in the file now at ``path``, read through a connection of its own that
    ignores the write-ahead log (which belongs to the file opened, not to a replacement); None
    when it cannot be read (then nothing is concluded)."""
    try:
        other = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
        try:
            return other.execute("SELECT id FROM identity").fetchone()[0]
        finally:
            other.close()
    except (sqlite3.Error, TypeError):
        return None
