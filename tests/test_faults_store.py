"""The database guarded while the service runs (deleted or replaced under it: it stops with one
line, exit 2, and never makes an empty new database), and ``store backup`` / ``store rebuild``."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sheet_tools.base.workspace import Workspace
from sheet_tools.definitions.frameworks import Framework
from sheet_tools.exceptions import DatabaseMissing
from sheet_tools.store import connection
from sheet_tools.store.facade import Store
from tests.support.helpers import workspace
from tests.test_watch import DEADLINE, REPO, Corpus, drop, fast_env, wait_for


@pytest.fixture(scope="module")
def corpus(spr: Framework, tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return Corpus(spr, tmp_path_factory.mktemp("store-faults-corpus"))


def _returns_in(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.suffix == ".xlsx" and ".annotated" not in p.name]


# -- guarded while open -------------------------------------------------------------------------


def test_an_open_store_stops_writing_when_its_file_is_deleted(tmp_path: Path) -> None:
    path = tmp_path / "sheet-tools.db"
    with Store(path) as store:
        store.guard()
        path.unlink()
        with pytest.raises(DatabaseMissing, match="deleted"):
            store.guard()
        with pytest.raises(DatabaseMissing, match="deleted"):
            store.withdraw(1, "a reason", "someone")
    assert not path.exists()  # nothing made a new, empty database


def test_an_open_store_notices_a_replaced_file_by_inode_and_by_identity(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, other = tmp_path / "sheet-tools.db", tmp_path / "other.db"
    Store(other).close()
    with Store(path) as store:
        os.replace(other, path)
        with pytest.raises(DatabaseMissing, match="replaced"):
            store.guard()
    # Where the OS gives no inode (some shares), the identity inside the file tells.
    monkeypatch.setattr(connection, "_file_id", lambda _path: None)
    with Store(path) as store:
        copy = tmp_path / "copy.db"
        shutil.copyfile(path, copy)
        os.replace(copy, path)
        store.guard()  # the same database put back (a backup of itself): carries on
        Store(other).close()
        os.replace(other, path)
        with pytest.raises(DatabaseMissing, match="replaced"):
            store.guard()


def _start_watch(root: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "sheet_tools.cli", "watch", "--workspace", str(root)],
        cwd=REPO,
        env=fast_env(SHEET_TOOLS_RESCAN_SECONDS="0.3"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    log = Workspace.at(root).log_file
    wait_for(lambda: log.exists() and "watching" in log.read_text(encoding="utf-8"), "the start")
    return process


def _ended(process: subprocess.Popen[str]) -> tuple[int, str]:
    try:
        _, err = process.communicate(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise AssertionError("the watcher did not stop") from None
    return process.returncode, err


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_database_deleted_or_replaced_under_watch_stops_it_with_one_line(
    corpus: Corpus, tmp_path: Path, how: str
) -> None:
    root = workspace(tmp_path / "ws")
    ws = Workspace.at(root)
    other = tmp_path / "other.db"
    Store(other).close()
    other_bytes = other.read_bytes()
    process = _start_watch(root)
    try:
        drop(corpus.school_return(1), ws.inbox)
        wait_for(lambda: len(_returns_in(ws.archive)) == 1, "the first return filed")
        time.sleep(0.5)  # let its summaries be written
        if how == "deleted":
            ws.database.unlink()
        else:
            os.replace(other, ws.database)
        second = drop(corpus.school_return(2), ws.inbox)
        code, err = _ended(process)
    finally:
        if process.poll() is None:
            process.kill()
    lines = [line for line in err.splitlines() if line.startswith("Error:")]
    assert code == 2, err
    assert len(lines) == 1 and how in lines[0] and str(ws.database) in lines[0], err
    assert "Traceback" not in err
    assert _returns_in(ws.rejected) == []
    assert len(_returns_in(ws.archive)) == 1
    left = [p for p in (ws.inbox / second.name, *ws.processing.rglob(second.name)) if p.exists()]
    assert len(left) == 1  # left to be filed once the database is back
    if how == "deleted":
        assert not ws.database.exists()  # never an empty new database
    else:
        assert ws.database.read_bytes() == other_bytes  # the replacing file was not written to
