"""The database connection every part of the store shares: opening, pragmas, migrations, and the
one lock that serialises this process's calls.

Several processes may share one database: WAL lets readers run beside the single writer, writes
take the lock up front (``BEGIN IMMEDIATE``) and wait up to ``BUSY_TIMEOUT_S`` for it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from ..base.clock import as_utc
from ..base.faults import DAMAGED, service_fault
from ..exceptions import DatabaseDamaged, StoreError
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

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; the lock is taken up front so it never fails half-way on BUSY."""
        with self.lock:
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
