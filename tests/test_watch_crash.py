"""kill -9 at random moments: a restarted watcher loses nothing and counts nothing twice.

A watcher process (the real command, real ingest, real database, real summaries) is killed with
SIGKILL at seeded random moments while it works through a batch dropped a few files at a time,
then restarted, again and again. At the end every file is filed exactly once, nothing is left
in the inbox or in processing, the database holds one record per distinct return and one
event per file, and every school's summary was rebuilt after its last return was stored.
"""

from __future__ import annotations

import os
import random
import re
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from sheet_tools.base.workspace import Workspace
from sheet_tools.definitions.frameworks import Framework
from sheet_tools.demo import make_return
from sheet_tools.service.ingest import ERRORS_SUFFIX
from tests.support.helpers import sha256, workspace
from tests.support.watching import (
    DEADLINE,
    REPO,
    Corpus,
    fast_env,
    filed,
    files_under,
    school,
    summary_of,
    wait_for,
    watching,
)

SEED = 20261125
ROUNDS = 24
SCHOOLS = 10


@pytest.fixture(scope="module")
def crash_corpus(spr: Framework, tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return Corpus(spr, tmp_path_factory.mktemp("crash-corpus"))


def make_batch(corpus: Corpus, spr: Framework, staging: Path) -> list[tuple[Path, str]]:
    """~50 files: distinct returns, byte-identical copies under other names, rejected files.
    Returns (path, expected status) in a seeded random order."""
    batch: list[tuple[Path, str]] = []
    for k in range(4):
        for i in range(SCHOOLS):
            batch.append((corpus.variant(i, k + 1, staging), "accepted"))
    for n, (path, _) in enumerate(batch[:4]):
        copy = staging / f"copy {n} of {path.name}"
        copy.write_bytes(path.read_bytes())
        batch.append((copy, "duplicate"))
    typo_folder = staging / "typo"
    typo_folder.mkdir()
    first_statement = next(iter(spr.judged_statements()))[1].id
    typo = make_return(
        spr, typo_folder, school(90), seed=90, judgements={first_statement: "Embeded"}
    )
    batch.append((typo.rename(staging / "typo.xlsx"), "rejected"))
    data = corpus.school_return(0).read_bytes()
    (staging / "half.xlsx").write_bytes(data[: len(data) // 2])
    (staging / "notes.txt").write_text("We will send the review next week.\n", encoding="utf-8")
    (staging / "blank.xlsx").write_bytes(b"")
    batch += [(staging / n, "rejected") for n in ("half.xlsx", "notes.txt", "blank.xlsx")]
    random.Random(SEED).shuffle(batch)
    return batch


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def claimed(ws: Workspace) -> bool:
    """Whether a file is claimed in a session folder; a watcher removes its folder when it
    stops, so one may go between being listed and being read."""
    for session in ws.processing.glob("*/"):
        try:
            if any(e.is_file() and not e.name.startswith(".") for e in session.iterdir()):
                return True
        except FileNotFoundError:
            continue
    return False


def start(root: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sheet_tools.cli", "watch", "--workspace", str(root), *args],
        cwd=REPO,
        env=fast_env(SHEET_TOOLS_STABLE_SECONDS="0.05", SHEET_TOOLS_INCOMPLETE_SECONDS="0.5"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_kill_9_at_random_moments_loses_nothing_and_counts_nothing_twice(
    crash_corpus: Corpus, spr: Framework, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    ws = Workspace.at(workspace(tmp_path / "ws"))
    ws.ensure()
    staging = tmp_path / "staging"
    staging.mkdir()
    batch = make_batch(crash_corpus, spr, staging)
    expected = {path.name: (sha256(path), status) for path, status in batch}
    waiting = [path for path, _ in batch]
    per_round = len(waiting) // ROUNDS + 1

    for _ in range(ROUNDS):
        dropped = waiting[:per_round]
        for path in dropped:
            os.rename(path, ws.inbox / path.name)
        waiting = waiting[per_round:]
        watcher = start(ws.root)
        moment = rng.random()
        if moment < 0.2:  # while it starts up, recovers or lists the backlog
            pause = rng.uniform(0.0, 2.0)
        elif moment < 0.6 or not dropped:  # at any point of its work
            wait_for(lambda w=watcher: watching(ws, w.pid) or w.poll() is not None, "a start")
            pause = rng.uniform(0.0, 1.0)
        else:  # while a file is claimed: inside ingest, between storing and filing
            wait_for(lambda w=watcher: claimed(ws) or w.poll() is not None, "a claim", poll=0.001)
            pause = rng.uniform(0.0, 0.004)
        assert watcher.poll() is None, watcher.communicate()[1][-2000:]
        time.sleep(pause)  # picks the moment of the kill; nothing is timed
        watcher.kill()
        watcher.communicate(timeout=DEADLINE)

    for path in waiting:
        os.rename(path, ws.inbox / path.name)
    final = start(ws.root, "--once")
    _, err = final.communicate(timeout=DEADLINE)
    # exit 1 when this last run rejected a file (its own count, in its last log line), else 0
    [rejected] = re.findall(r"stopped: \d+ accepted, (\d+) rejected", err)
    assert final.returncode == (1 if int(rejected) else 0), err[-3000:]
    assert "Traceback" not in err

    # every file in exactly one place, under its own name, byte for byte
    assert [p.name for p in ws.inbox.iterdir()] == []
    assert files_under(ws.processing) == []
    # every dead session was recovered and removed; only a lock file a kill caught between
    # making it and making its folder may remain, until it is old enough to be swept
    assert [p.name for p in ws.processing.iterdir() if p.suffix != ".lock"] == []
    by_hash = filed(ws)
    assert Counter({d: len(p) for d, p in by_hash.items()}) == Counter(
        d for d, _ in expected.values()
    )
    # A file whose reading two kills interrupted is set aside unread (no file is tried more than
    # twice): filed in rejected/ with a report that says so, it counts as a rejection.
    quarantined = {
        name
        for name in expected
        if "times while reading this workbook" in _text(ws.rejected / f"{name}{ERRORS_SUFFIX}")
    }
    expected = {n: (d, "rejected" if n in quarantined else s) for n, (d, s) in expected.items()}
    for name, (digest, status) in expected.items():
        folder = ws.rejected if status == "rejected" else ws.archive
        assert (folder / name).is_file() and sha256(folder / name) == digest, name

    # one record per distinct return, one rejection per rejected file, one event per file
    with sqlite3.connect(ws.database) as db:
        stored = [row[0] for row in db.execute("SELECT sha256 FROM returns")]
        rejections = [row[0] for row in db.execute("SELECT file_name FROM rejections")]
        events = db.execute("SELECT file_name, status, done_at FROM events").fetchall()
        latest = dict(
            db.execute("SELECT school_key, MAX(arrived_at) FROM returns GROUP BY school_key")
        )
    # the bytes stored: those of every file not rejected (copies share their bytes)
    accepted = {d for d, s in expected.values() if s != "rejected"}
    assert sorted(stored) == sorted(accepted)
    assert sorted(rejections) == sorted(n for n, (_, s) in expected.items() if s == "rejected")
    assert len(events) == len(expected)
    statuses: dict[str, list[str]] = {}
    for name, status, _ in events:
        if name in quarantined:
            assert status == "rejected", name
            continue
        statuses.setdefault(expected[name][0], []).append(status)
    for digest, seen in statuses.items():
        if digest in accepted:  # the first of the same bytes is accepted, any later a duplicate
            assert sorted(seen) == ["accepted"] + ["duplicate"] * (len(seen) - 1)
        else:
            assert seen == ["rejected"]
    assert all(done for _, _, done in events)

    # summaries owed when a kill came were rebuilt by a later run
    for i in range(SCHOOLS):
        summary = summary_of(ws, i)
        assert summary.is_file(), summary
        stored_at = datetime.fromisoformat(latest[school(i).urn]).timestamp()
        assert summary.stat().st_mtime >= stored_at, f"{summary.name} is older than its data"
