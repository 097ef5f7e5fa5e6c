"""The watcher's test harness: real generated returns (``Corpus``), the service in a thread
(``running``) or a process (``start_watcher``), short settings, and what ended up where. Shared by
the watch, crash, poison and fault tests."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sheet_tools.base.workspace import Workspace
from sheet_tools.definitions.frameworks import Framework, Registry
from sheet_tools.definitions.roster import School
from sheet_tools.demo import make_return
from sheet_tools.problems.report import FileReport
from sheet_tools.service.config import WatchSettings
from sheet_tools.service.watch import Pipeline, Watcher, WatchStats, run_watch
from sheet_tools.summarise import school_summary_path

from .helpers import sha256

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = "specialist-provision-review"
DEADLINE = 120.0  # seconds: generous, for a loaded CI machine; a pass never waits this long


# -- helpers shared with test_watch_crash.py -----------------------------------------------------


def wait_for(
    condition: Callable[[], object], what: str, timeout: float = DEADLINE, poll: float = 0.05
) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(poll)


def school(i: int) -> School:
    return School(name=f"Watch School {i:03d}", urn=str(140000 + i), trust=f"Trust {i % 3}")


@dataclass
class Corpus:
    """Real generated-and-filled returns, made once per test session and copied from here."""

    framework: Framework
    folder: Path
    made: dict[int, Path] = field(default_factory=dict)

    def school_return(self, i: int) -> Path:
        if i not in self.made:
            folder = self.folder / f"s{i}"
            folder.mkdir()
            self.made[i] = make_return(self.framework, folder, school(i), seed=i)
        return self.made[i]

    def variant(self, i: int, k: int, folder: Path, name: str | None = None) -> Path:
        """School ``i``'s return re-zipped with entry times moved on by ``k`` steps of two
        seconds (a zip's resolution): the same answers in different bytes (as when a school saves
        its workbook again), different for every ``k`` >= 1, whatever time the return was made."""
        source = self.school_return(i)
        target = folder / (name or f"{source.stem} v{k}.xlsx")
        with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
            for info in zin.infolist():
                data = zin.read(info)
                when = datetime(*info.date_time) + timedelta(seconds=2 * k)
                moved = zipfile.ZipInfo(info.filename, when.timetuple()[:6])
                moved.compress_type = info.compress_type
                moved.external_attr = info.external_attr
                zout.writestr(moved, data)
        return target


def fast_settings(root: Path, **overrides: object) -> WatchSettings:
    """Short intervals so tests run quickly; the mechanics are the production ones."""
    values: dict[str, object] = {
        "workspace": root,
        "stable_seconds": 0.3,
        "incomplete_seconds": 3.0,
        "rescan_seconds": 600.0,  # events (or polling) must do the work, not the rescan
        "summary_quiet_seconds": 0.3,
        "summary_max_delay_seconds": 5.0,
    }
    values.update(overrides)
    return WatchSettings.model_validate(values)


def fast_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": str(REPO),
            "SHEET_TOOLS_STABLE_SECONDS": "0.2",
            "SHEET_TOOLS_INCOMPLETE_SECONDS": "2",
            "SHEET_TOOLS_SUMMARY_QUIET_SECONDS": "0.3",
            "SHEET_TOOLS_SUMMARY_MAX_DELAY_SECONDS": "5",
        }
    )
    env.update(extra)
    return env


@dataclass
class Running:
    watcher: Watcher
    reports: list[FileReport]
    thread: threading.Thread
    outcome: dict[str, object]

    def names(self) -> Counter[str]:
        return Counter(report.file for report in list(self.reports))

    def wait_reports(self, count: int) -> None:
        wait_for(lambda: len(self.reports) >= count, f"{count} processed files")

    @property
    def stats(self) -> WatchStats:
        return self.outcome["stats"]  # type: ignore[return-value]


@contextmanager
def running(
    settings: WatchSettings,
    registry: Registry,
    pipeline: Pipeline | None = None,
    also: Callable[[FileReport], None] | None = None,
) -> Iterator[Running]:
    """The service in a background thread, stopped (and checked to have stopped) on exit."""
    reports: list[FileReport] = []
    box: dict[str, Watcher] = {}
    outcome: dict[str, object] = {}

    def on_report(report: FileReport) -> None:
        if also is not None:
            also(report)
        reports.append(report)

    def ready(watcher: Watcher) -> None:
        box["w"] = watcher

    def target() -> None:
        try:
            outcome["stats"] = run_watch(
                settings, registry, pipeline=pipeline, on_report=on_report, ready=ready
            )
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    wait_for(
        lambda: "error" in outcome or ("w" in box and box["w"].started.is_set()),
        "the watcher to start",
    )
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    handle = Running(box["w"], reports, thread, outcome)
    try:
        yield handle
    finally:
        handle.watcher.stop()
        thread.join(DEADLINE)
    assert not thread.is_alive(), "the watcher did not stop"
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]


def filed(workspace: Workspace) -> dict[str, list[Path]]:
    """Originals filed in archive/ and rejected/ by SHA-256 (report files left out)."""
    found: dict[str, list[Path]] = {}
    for folder in (workspace.archive, workspace.rejected):
        for path in folder.iterdir() if folder.is_dir() else []:
            report_file = path.name.endswith((".errors.txt", ".annotated.xlsx", ".queries.txt"))
            if report_file or not path.is_file() or path.name.startswith("."):
                continue  # the ledger and temporaries are hidden
            found.setdefault(sha256(path), []).append(path)
    return found


def files_under(folder: Path) -> list[Path]:
    """Claimed files in a folder: session locks and markers aside. ``os.walk`` passes over a
    session folder a watcher removes while it is being walked."""
    return [
        Path(top, name)
        for top, _, names in os.walk(folder)
        for name in names
        if not name.endswith(".lock") and not name.startswith(".")
    ]


def db_rows(workspace: Workspace, table: str) -> list[tuple]:
    with sqlite3.connect(workspace.database) as db:
        if table == "returns":
            return db.execute("SELECT sha256, file_name FROM returns").fetchall()
        return db.execute("SELECT sha256, file_name FROM rejections").fetchall()


def summary_of(workspace: Workspace, i: int) -> Path:
    s = school(i)
    return school_summary_path(workspace.outbox, s.trust, s.name, s.urn, TEMPLATE)


def drop(source: Path, inbox: Path, name: str | None = None) -> Path:
    """Copy a file into the inbox the way a person would (written in place, not renamed)."""
    target = inbox / (name or source.name)
    shutil.copyfile(source, target)
    return target


def start_watcher(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sheet_tools.cli", "watch", "--workspace", str(root), *args],
        cwd=REPO,
        env=env or fast_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def log_lines(ws: Workspace) -> list[str]:
    return ws.log_file.read_text(encoding="utf-8").splitlines() if ws.log_file.exists() else []


def watching(ws: Workspace, pid: int) -> bool:
    return any(f"[{pid}] watching" in line for line in log_lines(ws))
