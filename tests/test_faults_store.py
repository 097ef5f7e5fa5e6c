"""The database guarded while the service runs (deleted or replaced under it: it stops with one
line, exit 2, and never makes an empty new database), and ``store backup`` / ``store rebuild``."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from sheet_tools.base.workspace import Workspace
from sheet_tools.cli import main
from sheet_tools.definitions.frameworks import Framework, Registry
from sheet_tools.exceptions import DatabaseMissing
from sheet_tools.store import connection
from sheet_tools.store.facade import Store
from sheet_tools.summarise.cells import TABLE_TOP
from sheet_tools.summarise.trust import TOLD_UNKNOWN
from tests.support.helpers import workspace
from tests.support.trust import SPR, Trust, run
from tests.support.watching import DEADLINE, REPO, Corpus, drop, fast_env, wait_for


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


# -- store backup and store rebuild, through the CLI --------------------------------------------


def _cells(path: Path) -> dict[str, list[tuple[object, ...]]]:
    book = load_workbook(path, read_only=True)
    try:
        return {ws.title: [tuple(row) for row in ws.iter_rows(values_only=True)] for ws in book}
    finally:
        book.close()


def _outbox_cells(outbox: Path) -> dict[str, dict[str, list[tuple[object, ...]]]]:
    return {str(p.relative_to(outbox)): _cells(p) for p in sorted(outbox.rglob("*.xlsx"))}


def _told_column(cells: dict[str, list[tuple[object, ...]]]) -> list[object]:
    """The Told cells of a trust workbook's Returns log rows that show a file."""
    header, *rows = cells["Returns log"][TABLE_TOP - 1 :]
    at = header.index("Told")
    return [row[at] for row in rows if row[0] and row[2] in ("Returned", "Rejected")]


def _without_told(outbox: dict[str, dict[str, list[tuple[object, ...]]]]) -> object:
    masked = {}
    for name, cells in outbox.items():
        sheets = dict(cells)
        if "Returns log" in sheets:
            sheets["Returns log"] = [row[:8] for row in sheets["Returns log"]]
        masked[name] = sheets
    return masked


def test_backup_and_a_rebuilt_store_yield_the_same_summaries_cell_by_cell(
    registry: Registry, tmp_path: Path
) -> None:
    root = tmp_path / "ws"
    trust = Trust(root, registry)
    ws = Workspace.at(root)
    files = [
        trust.fill(trust.issue(SPR, f"Rebuild School {i}", f"15000{i}", "Oak Trust"), SPR, seed=i)
        for i in range(3)
    ]
    later = trust.fill(trust.issue(SPR, "Rebuild School 0", "150000", "Oak Trust"), SPR, seed=7)
    bad = tmp_path / "not a workbook.xlsx"
    bad.write_text("this is not a spreadsheet", encoding="utf-8")
    reports = trust.ingest(*files, later, bad)
    assert [r["status"] for r in reports] == ["accepted"] * 4 + ["rejected"]
    listed = [
        json.loads(line)
        for line in run("returns", "list", "--workspace", str(root), "--json").splitlines()
    ]
    first, second = listed[0]["id"], listed[1]["id"]
    run("returns", "withdraw", str(first), "--reason", "sent in error", "--workspace", str(root))
    run("returns", "restore", str(first), "--workspace", str(root))
    run("returns", "withdraw", str(second), "--reason", "wrong school", "--workspace", str(root))
    before = run("returns", "list", "--workspace", str(root), "--json")
    trust.summarise()
    expected = _outbox_cells(ws.outbox)
    assert any("trust" in name.lower() for name in expected) and len(expected) == 3

    copy = tmp_path / "backups" / "nightly.db"
    copy.parent.mkdir()
    assert "4 return(s)" in run("store", "backup", str(copy), "--workspace", str(root))
    assert "4 return(s)" in run("store", "backup", str(copy), "--workspace", str(root))  # again
    with Store(copy) as backup:
        assert len(backup.returns(include_superseded=True, include_withdrawn=True)) == 4
        assert [c.action for c in backup.corrections()] == ["withdraw", "restore", "withdraw"]

    for path in root.glob("sheet-tools.db*"):
        path.unlink()  # the database lost
    for path in ws.outbox.rglob("*.xlsx"):
        path.unlink()
    result = CliRunner().invoke(main, ["store", "rebuild", "--workspace", str(root)])
    assert result.exit_code == 0, result.output
    assert "4 accepted" in result.output and "1 rejected" in result.output, result.output
    assert "3 withdrawal(s)" in result.output
    assert run("returns", "list", "--workspace", str(root), "--json") == before
    with Store(ws.database) as rebuilt:
        assert [r.file_name for r in rebuilt.rejections()] == [bad.name]
    with sqlite3.connect(ws.database) as db:
        assert db.execute("SELECT count(*) FROM mail").fetchone()[0] == 0  # no mail queued
    trust.summarise()
    # the same summaries, but for what was sent: the ledger restores returns, not mail, so the
    # Returns log's Told column says the rebuilt store has no record of a message
    rebuilt = _outbox_cells(ws.outbox)
    told = {name: _told_column(cells) for name, cells in rebuilt.items() if "Returns log" in cells}
    assert told and all(v == TOLD_UNKNOWN for col in told.values() for v in col)
    assert _without_told(rebuilt) == _without_told(expected)

    refused = CliRunner().invoke(main, ["store", "rebuild", "--workspace", str(root)])
    assert refused.exit_code == 2 and "already" in refused.output
