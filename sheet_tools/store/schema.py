"""The store's schema: ordered migrations, each taking a database from one ``user_version`` to
the next. Append new steps; never edit one that has shipped, since databases out there already
ran it. A step is SQL, or a function for what SQL cannot do (filling a new column in Python).
"""

from __future__ import annotations

import logging
import re
import sqlite3
import unicodedata
from collections.abc import Callable
from datetime import date

from ..base.keys import school_key, trust_key
from ..definitions.rounds import term_of

logger = logging.getLogger("sheet_tools.store")

# Ordered schema migrations: MIGRATIONS[n] takes a database from user_version n to n + 1.
# Append new steps; never edit one that has shipped, since databases out there already ran it.
Step = str | Callable[[sqlite3.Connection], None]
MIGRATIONS: tuple[tuple[Step, ...], ...] = (
    # 1: returns, their judgements and texts, rejections
    (
        """CREATE TABLE returns (
            id INTEGER PRIMARY KEY,
            sha256 TEXT NOT NULL UNIQUE,
            file_name TEXT NOT NULL,
            arrived_at TEXT NOT NULL,
            template_id TEXT NOT NULL,
            template_version TEXT NOT NULL,
            school TEXT NOT NULL,
            school_key TEXT NOT NULL,
            urn TEXT,
            trust TEXT,
            review_date TEXT NOT NULL,
            judge TEXT NOT NULL,
            cover TEXT NOT NULL,
            warnings TEXT NOT NULL
        )""",
        """CREATE TABLE judgements (
            return_id INTEGER NOT NULL REFERENCES returns(id),
            statement_id TEXT NOT NULL CHECK (statement_id <> ''),
            level TEXT,
            PRIMARY KEY (return_id, statement_id)
        ) WITHOUT ROWID""",
        """CREATE TABLE texts (
            return_id INTEGER NOT NULL REFERENCES returns(id),
            key TEXT NOT NULL CHECK (key <> ''),
            text TEXT NOT NULL,
            PRIMARY KEY (return_id, key)
        ) WITHOUT ROWID""",
        """CREATE TABLE rejections (
            id INTEGER PRIMARY KEY,
            sha256 TEXT NOT NULL,
            file_name TEXT NOT NULL,
            arrived_at TEXT NOT NULL,
            template_id TEXT,
            school TEXT,
            urn TEXT,
            trust TEXT,
            reason TEXT NOT NULL
        )""",
    ),
    # 2: events for exactly-once filing, the full error list of a rejection, indexes for summaries
    (
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            sha256 TEXT NOT NULL,
            file_name TEXT NOT NULL,
            arrived_at TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected', 'duplicate')),
            return_id INTEGER REFERENCES returns(id),
            rejection_id INTEGER REFERENCES rejections(id),
            destination TEXT NOT NULL,
            report TEXT NOT NULL,
            done_at TEXT
        )""",
        "CREATE INDEX events_by_sha ON events(sha256, id)",
        "CREATE INDEX events_pending ON events(id) WHERE done_at IS NULL",
        "ALTER TABLE rejections ADD COLUMN template_version TEXT",
        "ALTER TABLE rejections ADD COLUMN errors TEXT NOT NULL DEFAULT '[]'",
        "CREATE INDEX rejections_by_trust ON rejections(trust, arrived_at)",
        # the superseding window and the template/school filters walk this index in order
        """CREATE INDEX returns_by_review
            ON returns(template_id, school_key, review_date, judge, arrived_at, id)""",
        "CREATE INDEX returns_by_trust ON returns(trust)",
    ),
    # 3: review rounds, issued identity, one key per trust, withdrawals and their history
    (
        "ALTER TABLE returns ADD COLUMN round TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE returns ADD COLUMN issue_id TEXT",
        "ALTER TABLE returns ADD COLUMN occasion TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE returns ADD COLUMN trust_key TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE returns ADD COLUMN withdrawn_at TEXT",
        "ALTER TABLE rejections ADD COLUMN trust_key TEXT NOT NULL DEFAULT ''",
        """CREATE TABLE corrections (
            id INTEGER PRIMARY KEY,
            return_id INTEGER NOT NULL REFERENCES returns(id),
            action TEXT NOT NULL CHECK (action IN ('withdraw', 'restore')),
            reason TEXT NOT NULL,
            by_whom TEXT NOT NULL,
            at TEXT NOT NULL
        )""",
        "CREATE INDEX corrections_by_return ON corrections(return_id, id)",
        "DROP INDEX returns_by_review",
        """CREATE INDEX returns_by_round
            ON returns(template_id, school_key, round, judge, occasion, arrived_at, id)""",
        "DROP INDEX returns_by_trust",
        "CREATE INDEX returns_by_trust ON returns(trust_key)",
        "DROP INDEX rejections_by_trust",
        "CREATE INDEX rejections_by_trust ON rejections(trust_key, arrived_at)",
        lambda db: _backfill_rounds(db),
    ),
    # 4: a carried-forward return's action plan, one row per action in the order read
    (
        """CREATE TABLE actions (
            return_id INTEGER NOT NULL REFERENCES returns(id),
            position INTEGER NOT NULL,
            action_id TEXT NOT NULL,
            action TEXT NOT NULL,
            area TEXT NOT NULL,
            owner TEXT NOT NULL,
            due TEXT,
            status TEXT NOT NULL,
            note TEXT NOT NULL,
            PRIMARY KEY (return_id, position)
        ) WITHOUT ROWID""",
        "ALTER TABLE returns ADD COLUMN has_action_plan INTEGER NOT NULL DEFAULT 0",
    ),
    # 5: school and trust keys recomputed by the one key (base.keys), where they differ
    (lambda db: _rekey(db),),
    # 6: every workbook issued from a workspace, so the chase list is "issued, not returned"
    (
        """CREATE TABLE issued (
            issue_id TEXT PRIMARY KEY,
            template_id TEXT NOT NULL,
            template_version TEXT NOT NULL,
            school TEXT NOT NULL,
            urn TEXT,
            school_key TEXT NOT NULL,
            trust TEXT,
            trust_key TEXT NOT NULL,
            round TEXT NOT NULL,
            judge TEXT,
            issued_at TEXT NOT NULL
        )""",
        "CREATE INDEX issued_by_round ON issued(template_id, round, trust_key)",
    ),
    # 7: superseding by the store's own sequence (row id), never the clock: returns whose standing
    # changes are recorded and logged; the database's identity, so a replaced one is noticed
    (
        """CREATE TABLE reordered (
            return_id INTEGER NOT NULL REFERENCES returns(id),
            now_superseded INTEGER NOT NULL,
            at TEXT NOT NULL
        )""",
        lambda db: _report_reordering(db),
        "CREATE TABLE identity (id TEXT NOT NULL, created_at TEXT NOT NULL)",
        "INSERT INTO identity (id, created_at) "
        "VALUES (lower(hex(randomblob(16))), strftime('%Y-%m-%dT%H:%M:%f', 'now'))",
    ),
    # 8: the mail queue, filled in the transaction that records a return (store.mailqueue)
    (
        """CREATE TABLE mail (
            id INTEGER PRIMARY KEY,
            event_id INTEGER REFERENCES events(id),
            kind TEXT NOT NULL,
            recipient TEXT,
            school TEXT,
            urn TEXT,
            issue_id TEXT,
            round TEXT,
            payload TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            message_id TEXT NOT NULL UNIQUE,
            queued_at TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_try_at TEXT NOT NULL,
            sent_at TEXT
        )""",
        "CREATE INDEX mail_by_status ON mail(status, next_try_at)",
    ),
    # 9: what the administrator typed into the Preparation column of a Diagnostic Review trust
    # workbook, by school and round (store.preparation), so it outlives the file it was typed in
    (
        """CREATE TABLE preparation (
            school_key TEXT NOT NULL CHECK (school_key <> ''),
            round TEXT NOT NULL,
            name_key TEXT NOT NULL,
            kind TEXT NOT NULL,
            value TEXT NOT NULL,
            read_at TEXT NOT NULL,
            PRIMARY KEY (school_key, round)
        ) WITHOUT ROWID""",
    ),
    # 10: the round a rejected file was for, when it could be told (its About sheet's, or the one
    # identity resolved); rejections stored before stay NULL: their round is not guessed
    ("ALTER TABLE rejections ADD COLUMN round TEXT",),
)
SCHEMA_VERSION = len(MIGRATIONS)


def _backfill_rounds(db: sqlite3.Connection) -> None:
    """Returns stored before rounds: each in the school term of its review date."""
    rows = db.execute("SELECT id, review_date, trust FROM returns").fetchall()
    db.executemany(
        "UPDATE returns SET round = ?, trust_key = ? WHERE id = ?",
        [(term_of(date.fromisoformat(d)), _trust_key_v3(t), i) for i, d, t in rows],
    )
    rows = db.execute("SELECT id, trust FROM rejections").fetchall()
    db.executemany(
        "UPDATE rejections SET trust_key = ? WHERE id = ?", [(_trust_key_v3(t), i) for i, t in rows]
    )


def _trust_key_v3(name: str | None) -> str:
    """The trust key as migration 3 computed it, frozen: a shipped step must not change."""
    if not name:
        return ""
    text = re.sub(r"[^\w\s]", " ", unicodedata.normalize("NFKC", name).replace("&", " and "))
    return " ".join(text.casefold().split())


def _rekey(db: sqlite3.Connection) -> None:
    """Keys stored before there was one key: where today's key for a row differs, it is
    written (an unchanged row is left alone)."""
    rows = db.execute("SELECT id, school, urn, school_key, trust, trust_key FROM returns")
    db.executemany(
        "UPDATE returns SET school_key = ?, trust_key = ? WHERE id = ?",
        [
            (school_key(school, urn), trust_key(trust), i)
            for i, school, urn, old_school, trust, old_trust in rows.fetchall()
            if (school_key(school, urn), trust_key(trust)) != (old_school, old_trust)
        ],
    )
    rows = db.execute("SELECT id, trust, trust_key FROM rejections")
    db.executemany(
        "UPDATE rejections SET trust_key = ? WHERE id = ?",
        [(trust_key(t), i) for i, t, old in rows.fetchall() if trust_key(t) != old],
    )


def _superseded(db: sqlite3.Connection, order: str) -> dict[int, bool]:
    rows = db.execute(
        f"""SELECT id, withdrawn_at IS NULL AND ROW_NUMBER() OVER (
                PARTITION BY template_id, school_key, round, judge, occasion
                ORDER BY withdrawn_at IS NOT NULL, {order}) > 1
            FROM returns"""
    )
    return {row[0]: bool(row[1]) for row in rows}


def _report_reordering(db: sqlite3.Connection) -> None:
    """Superseding once went by arrival time, which a clock stepped back can invert: each return
    whose standing the store's own order changes is recorded in ``reordered`` and logged."""
    before = _superseded(db, "arrived_at DESC, id DESC")
    after = _superseded(db, "id DESC")
    changed = sorted(i for i in after if before.get(i) != after[i])
    db.executemany(
        "INSERT INTO reordered (return_id, now_superseded, at) "
        "VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%f', 'now'))",
        [(i, after[i]) for i in changed],
    )
    for return_id in changed:
        name, school = db.execute(
            "SELECT file_name, school FROM returns WHERE id = ?", (return_id,)
        ).fetchone()
        logger.warning(
            "return %d (%s, %s) is now %s: the later stored return counts, whatever the clock "
            "said when it arrived",
            return_id,
            name,
            school,
            "superseded" if after[return_id] else "current",
        )
