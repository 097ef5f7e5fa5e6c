"""The command line's contract: what starting it costs, and its exit statuses (0 done; 1 done,
but a return was rejected; 2 the command could not run), each failure said in one plain line."""

from __future__ import annotations

import errno
import importlib.util
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from sheet_tools import __version__
from sheet_tools.cli import main
from sheet_tools.definitions.frameworks import Framework
from sheet_tools.definitions.roster import School
from sheet_tools.demo import make_return
from tests.conftest import REPO
from tests.support.helpers import workspace

HEAVY = ("openpyxl", "numpy", "matplotlib", "xlsxwriter", "python_calamine")
OAK = School(name="Oakfield Primary", urn="123456", trust="Oak Trust")
FULL = "no space left on the disk"
BEECH = School(name="Beech School", urn="654321", trust="Oak Trust")


def python(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter importing this worktree's code."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120
    )


def sheet_tools(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return python("-m", "sheet_tools", *args, cwd=cwd)


def assert_one_plain_line(process: subprocess.CompletedProcess[str], *words: str) -> None:
    assert "Traceback" not in process.stderr + process.stdout
    [line] = process.stderr.splitlines()
    assert line.startswith("Error: "), line
    for word in words:
        assert word in line, (word, line)


# --- starting up --------------------------------------------------------------------------------
LOADED = (
    "import sys\n"
    "from sheet_tools.cli import main\n"
    "try:\n"
    "    main(sys.argv[1:])\n"
    "except SystemExit as exit:\n"
    "    assert exit.code in (0, None), exit.code\n"
    "print('MODULES', ' '.join(sorted(sys.modules)))\n"
)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--version"], f"sheet-tools, version {__version__}"),
        (["--help"], "Generate, ingest and summarise"),
        (["templates", "list"], "specialist-provision-review  v"),
    ],
)
def test_light_commands_load_no_spreadsheet_or_plotting_library(
    args: list[str], expected: str
) -> None:
    process = python("-c", LOADED, *args)
    assert process.returncode == 0, process.stderr
    assert expected in process.stdout
    [listing] = [line for line in process.stdout.splitlines() if line.startswith("MODULES ")]
    loaded = {name.split(".")[0] for name in listing.split()[1:]}
    assert "sheet_tools" in loaded and "click" in loaded  # the listing is real
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
    assert "sheet_tools.summarise" not in listing.split()  # nor the package that re-exports them


def test_python_dash_m_runs_the_command() -> None:
    for module in ("sheet_tools", "sheet_tools.cli"):
        process = python("-m", module, "--version")
        assert process.returncode == 0, process.stderr
        assert process.stdout.strip() == f"sheet-tools, version {__version__}"
    assert "Usage: sheet-tools " in sheet_tools("--help").stdout


# --- 0 and 1 ------------------------------------------------------------------------------------
def test_a_clean_ingest_exits_0_and_one_with_a_rejected_return_exits_1(
    spr: Framework, tmp_path: Path
) -> None:
    (tmp_path / "good").mkdir()
    (tmp_path / "bad").mkdir()
    good = make_return(spr, tmp_path / "good", OAK, seed=1)
    bad = make_return(spr, tmp_path / "bad", BEECH, seed=2, judgements={"LM01": "Embeded"})
    space = workspace(tmp_path / "ws")
    clean = CliRunner().invoke(main, ["ingest", str(good), "--workspace", str(space), "--json"])
    assert clean.exit_code == 0, clean.output
    assert json.loads(clean.output)["status"] == "accepted"
    mixed = CliRunner().invoke(main, ["ingest", str(bad), "--workspace", str(space), "--json"])
    assert mixed.exit_code == 1, mixed.output
    assert json.loads(mixed.output)["status"] == "rejected"
    assert [p.name for p in (space / "rejected").glob("*.xlsx") if "annotated" not in p.name] == [
        bad.name
    ]


def test_watch_once_exits_1_when_a_file_in_the_backlog_was_rejected(
    spr: Framework, tmp_path: Path
) -> None:
    space = tmp_path / "ws"
    (space / "inbox").mkdir(parents=True)
    (space / "sheet-tools.toml").write_text("[watch]\nstable_seconds = 0.2\n", encoding="utf-8")
    args = ["watch", "--once", "--json", "--workspace", str(space)]
    empty = CliRunner().invoke(main, args, env={})
    assert empty.exit_code == 0, empty.output
    make_return(spr, space / "inbox", BEECH, seed=3, judgements={"LM01": "Embeded"})
    rejected = CliRunner().invoke(main, args, env={})
    assert rejected.exit_code == 1, rejected.output
    assert [json.loads(line)["status"] for line in rejected.stdout.splitlines()] == ["rejected"]


# --- 2: could not run ---------------------------------------------------------------------------
def test_a_missing_workspace_exits_2_in_one_line(tmp_path: Path) -> None:
    nowhere = tmp_path / "nowhere"
    for args in (["summarise"], ["returns", "list"], ["returns", "withdraw", "1", "--reason", "x"]):
        process = sheet_tools(*args, "--workspace", str(nowhere))
        assert process.returncode == 2, process.stderr
        assert_one_plain_line(process, "not a sheet-tools workspace", f"sheet-tools init {nowhere}")
    assert not nowhere.exists()  # nothing made by asking
    empty = workspace(tmp_path / "new")  # a workspace with no return yet
    for args in (["summarise"], ["returns", "list"], ["returns", "withdraw", "1", "--reason", "x"]):
        process = sheet_tools(*args, "--workspace", str(empty))
        assert process.returncode == 2, process.stderr
        assert_one_plain_line(process, "no returns database", str(empty))
    assert not (empty / "sheet-tools.db").exists()


def test_a_missing_templates_folder_exits_2_in_one_line(tmp_path: Path) -> None:
    process = sheet_tools("templates", "list", "--templates", str(tmp_path / "gone"))
    assert process.returncode == 2
    assert_one_plain_line(process, str(tmp_path / "gone"), "no such folder")


def test_generate_out_beneath_a_file_exits_2_naming_the_file(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("school,urn,trust\nOak,123456,Oak Trust\n", encoding="utf-8")
    process = sheet_tools(
        "generate", "specialist-provision-review", "--school", "Oak",
        "--out", str(roster / "x"),
    )  # fmt: skip
    assert process.returncode == 2
    assert_one_plain_line(process, f"{roster} is a file, not a folder")
    assert roster.read_text(encoding="utf-8").startswith("school,urn")


def test_bad_arguments_exit_2() -> None:
    process = sheet_tools("generate", "specialist-provision-review")  # no --school, no --roster
    assert process.returncode == 2
    assert "give either --school NAME or --roster FILE" in process.stderr
    assert "Traceback" not in process.stderr
    assert sheet_tools("ingest").returncode == 2  # no files
    assert sheet_tools("no-such-command").returncode == 2


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (OSError(errno.ENOSPC, "No space left on device", "ws/sheet-tools.db"), FULL),
        (OSError(errno.EACCES, "Permission denied", "ws/archive"), "permission denied"),
        (OSError(errno.EROFS, "Read-only file system"), "the disk is read-only"),
        (sqlite3.OperationalError("database or disk is full"), "database or disk is full"),
    ],
)
def test_a_service_fault_exits_2_in_one_plain_line(
    spr: Framework,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fault: Exception,
    words: str,
) -> None:
    from sheet_tools.service import ingest

    def broken(*args: object, **kwargs: object) -> None:
        raise fault

    monkeypatch.setattr(ingest, "ingest_paths", broken)
    (tmp_path / "in").mkdir()
    path = make_return(spr, tmp_path / "in", OAK, seed=4)
    space = workspace(tmp_path / "ws")
    result = CliRunner().invoke(main, ["ingest", str(path), "--workspace", str(space)])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # said, not raised
    [line] = result.output.splitlines()
    assert line.startswith("Error: ") and words in line, line
    if isinstance(fault, OSError) and fault.filename:
        assert line == f"Error: {fault.filename}: {words}"


def test_a_broken_pipe_is_left_to_click(monkeypatch: pytest.MonkeyPatch) -> None:
    """Output piped into ``head`` ends quietly, as click ends it, not with an "Error:" line."""
    from sheet_tools.definitions import frameworks

    def closed(*args: object, **kwargs: object) -> None:
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    monkeypatch.setattr(frameworks, "load_registry", closed)
    result = CliRunner().invoke(main, ["templates", "list"])
    assert result.exit_code == 1 and "Error" not in result.output


def test_a_damaged_database_exits_2(tmp_path: Path) -> None:
    (tmp_path / "sheet-tools.db").write_bytes(b"not a database, just bytes " * 100)
    process = sheet_tools("returns", "list", "--workspace", str(tmp_path))
    assert process.returncode == 2
    assert_one_plain_line(process, "damaged")


# --- the benchmark ------------------------------------------------------------------------------
def test_the_startup_benchmark_measures_both_commands() -> None:
    spec = importlib.util.spec_from_file_location(
        "bench_startup", REPO / "benchmarks" / "bench_startup.py"
    )
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench  # dataclasses look their module up while it loads
    spec.loader.exec_module(bench)
    rows = bench.compare(repeat=2)
    assert [row.label for row in rows] == ["python3 -c pass", "sheet-tools --version"]
    assert all(len(row.seconds) == 2 and min(row.seconds) > 0 for row in rows)
    table = bench.render(rows)
    assert "median" in table and "sheet-tools --version" in table
