"""base/platform and netfs's Windows branches, against a fake kernel32 (no Windows Python can be
had here), and the parts that run everywhere: long paths, UTF-8 output, the limits log line."""

from __future__ import annotations

import ctypes
import io
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sheet_tools.base import netfs, platform
from sheet_tools.base.netfs import NetworkDatabaseError, require_local_database, windows_share


class FakeKernel32:
    """Records what the Job Object code asks of Windows and answers like it."""

    def __init__(self, drives: dict[str, int] | None = None, user_ticks: int = 0) -> None:
        self.drives = drives or {}
        self.user_ticks = user_ticks
        self.limits: list[platform.ExtendedLimits] = []
        self.assigned: list[tuple[int, int]] = []
        self.closed: list[int] = []

    def CreateJobObjectW(self, attributes: object, name: object) -> int:
        return 77

    def SetInformationJobObject(self, job: int, cls: int, info: Any, size: int) -> int:
        assert (job, cls) == (77, platform.JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS)
        assert size == ctypes.sizeof(platform.ExtendedLimits)
        copy = platform.ExtendedLimits()
        ctypes.memmove(ctypes.byref(copy), info, size)
        self.limits.append(copy)
        return 1

    def AssignProcessToJobObject(self, job: int, process: int) -> int:
        self.assigned.append((job, process))
        return 1

    def GetProcessTimes(self, process: int, *times: Any) -> int:
        times[3]._obj.value = self.user_ticks
        return 1

    def CloseHandle(self, handle: int) -> int:
        self.closed.append(handle)
        return 1

    def GetDriveTypeW(self, root: str) -> int:
        return self.drives.get(root.upper(), 3)  # DRIVE_FIXED


def test_a_worker_s_job_object_limits_memory_and_dies_with_the_service() -> None:
    kernel = FakeKernel32()
    job = platform.contain(4242, 768, kernel32=kernel)
    assert kernel.assigned == [(77, 4242)]
    basic = kernel.limits[0].BasicLimitInformation
    assert basic.LimitFlags & platform.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
    assert basic.LimitFlags & platform.JOB_OBJECT_LIMIT_PROCESS_MEMORY
    assert kernel.limits[0].ProcessMemoryLimit == 768 * 1024 * 1024
    job.close()
    job.close()
    assert kernel.closed == [77]  # closing the last handle is what kills the worker


def test_each_task_s_processor_time_is_counted_from_what_the_worker_has_used() -> None:
    kernel = FakeKernel32(user_ticks=123 * platform.TICKS_PER_SECOND)
    job = platform.contain(1, 512, kernel32=kernel)
    job.budget(30)
    basic = kernel.limits[-1].BasicLimitInformation
    assert basic.LimitFlags & platform.JOB_OBJECT_LIMIT_PROCESS_TIME
    assert basic.PerProcessUserTimeLimit == (123 + 30 + 1) * 10_000_000
    assert kernel.limits[-1].ProcessMemoryLimit == 512 * 1024 * 1024  # kept
    assert basic.LimitFlags & platform.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE


def test_a_refused_job_object_is_an_os_error_and_closes_the_job() -> None:
    kernel = FakeKernel32()
    kernel.AssignProcessToJobObject = lambda job, process: 0  # type: ignore[method-assign]
    with pytest.raises(OSError, match="could not limit a worker"):
        platform.contain(1, 512, kernel32=kernel)
    assert kernel.closed == [77]


def test_on_posix_the_worker_limits_itself_and_nothing_is_missing() -> None:
    assert platform.contain(1, 512).job == 0  # no Job Object off Windows
    assert platform.missing_limits() == []
    assert platform.missing_limits(kernel32=object()) == ["memory", "processor time"]
    assert platform.missing_limits(kernel32=FakeKernel32()) == []


def test_a_windows_time_limit_exit_is_a_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    assert platform.describe_exit(-24)[1] == "timeout"  # SIGXCPU
    assert platform.describe_exit(platform.WINDOWS_TIME_LIMIT_EXIT)[1] == ""
    monkeypatch.setattr(platform, "WINDOWS", True)
    assert platform.describe_exit(platform.WINDOWS_TIME_LIMIT_EXIT)[1] == "timeout"
    assert platform.describe_exit(3) == ("exited with code 3", "")


def test_the_launcher_of_a_windows_venv_is_not_the_worker(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    base = tmp_path / "python.exe"
    base.write_bytes(b"")
    monkeypatch.setattr(sys, "_base_executable", str(base), raising=False)
    assert platform.worker_python() == sys.executable
    monkeypatch.setattr(platform, "WINDOWS", True)
    assert platform.worker_python() == str(base)


def test_the_missing_limits_are_said_once_at_start(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from sheet_tools.intake import pool

    monkeypatch.setattr(pool, "_told_missing", False)
    monkeypatch.setattr(platform, "missing_limits", lambda: ["memory", "processor time"])
    with caplog.at_level(logging.WARNING, logger="sheet_tools.pool"):
        pool.WorkerPool().close()
        pool.WorkerPool().close()
    lines = [r.getMessage() for r in caplog.records if "cannot limit" in r.getMessage()]
    assert lines == [
        "this system cannot limit a worker's memory or processor time: only the wall-clock "
        "timeout bounds a file"
    ]


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("\\\\server\\returns\\sheet-tools.db", "UNC path"),
        ("//server/returns/sheet-tools.db", "UNC path"),
        ("\\\\?\\UNC\\server\\returns\\sheet-tools.db", "UNC path"),
        ("Z:\\sheet-tools\\sheet-tools.db", "mapped network drive"),
        ("z:\\sheet-tools\\sheet-tools.db", "mapped network drive"),
        ("C:\\Users\\head\\OneDrive - North Star Trust\\ws\\sheet-tools.db", "OneDrive"),
        ("c:\\users\\head\\onedrive\\ws\\sheet-tools.db", "OneDrive"),
        ("C:\\SheetTools\\sheet-tools.db", None),
        ("\\\\?\\C:\\SheetTools\\sheet-tools.db", None),
        ("C:\\Users\\head\\OneDriveBackup\\sheet-tools.db", None),
    ],
)
def test_windows_shares_are_found(path: str, kind: str | None) -> None:
    environ = {
        "OneDriveCommercial": "C:\\Users\\head\\OneDrive - North Star Trust",
        "OneDrive": "C:\\Users\\head\\OneDrive\\",
    }
    found = windows_share(path, FakeKernel32({"Z:\\": netfs.DRIVE_REMOTE}), environ)
    assert (found is None) if kind is None else (kind in str(found)), found


def test_a_database_on_a_windows_share_is_refused_and_an_inbox_there_warned() -> None:
    kernel = FakeKernel32({"Z:\\": netfs.DRIVE_REMOTE})
    with pytest.raises(NetworkDatabaseError, match="mapped network drive"):
        require_local_database(Path("Z:\\ws\\sheet-tools.db"), kernel32=kernel)
    require_local_database(Path("C:\\ws\\sheet-tools.db"), kernel32=kernel)
    warning = netfs.shared_inbox_warning(Path("\\\\server\\inbox"), kernel32=kernel)
    assert warning is not None and "exactly once" in warning and "two servers" in warning
    assert netfs.shared_inbox_warning(Path("C:\\inbox"), kernel32=kernel) is None


def test_long_paths_get_the_windows_prefix_and_short_ones_do_not() -> None:
    long = "C:\\inbox\\" + "a" * 260 + ".xlsx"
    assert str(platform.long_path(Path(long), windows=True)) == "\\\\?\\" + long
    unc = "\\\\server\\share\\" + "b" * 260
    assert str(platform.long_path(Path(unc), windows=True)) == "\\\\?\\UNC\\server\\share\\" + (
        "b" * 260
    )
    assert platform.long_path(Path("C:\\inbox\\x.xlsx"), windows=True) == Path("C:\\inbox\\x.xlsx")
    posix = Path("/srv/" + "c" * 300)
    assert platform.long_path(posix) == posix  # no effect off Windows


def test_redirected_output_is_utf8_and_never_stops_at_a_school_s_name() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="cp1252")
    platform.utf8_output(stream)
    stream.write("Ysgol Gymraeg Ŵyr \U0001f3eb")
    stream.flush()
    assert raw.getvalue().decode("utf-8") == "Ysgol Gymraeg Ŵyr \U0001f3eb"


def test_the_cli_with_a_cp1252_log_prints_a_welsh_name(tmp_path: Path) -> None:
    """As a scheduled task whose output is redirected to a file in the ANSI code page."""
    name = "Ysgol Ŵyr Ŝ.xlsx"
    (tmp_path / name).write_bytes(b"not a workbook")
    done = subprocess.run(
        [sys.executable, "-m", "sheet_tools", "validate", name],
        cwd=tmp_path,
        env={**os.environ, "PYTHONIOENCODING": "cp1252", "PYTHONPATH": os.pathsep.join(sys.path)},
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr  # rejected, not a crash (which exits 2)
    assert done.stdout.decode("utf-8").startswith(f"{name}: REJECTED")
    assert b"UnicodeEncodeError" not in done.stderr
