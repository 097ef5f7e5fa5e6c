"""How many worker processes ingest and watch keep by default: enough to read on every core a
server lets this process use, never more than its memory holds, at most four; and what the
machine says about itself, from the platform module, on POSIX, in a container and on Windows."""

from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import Any

import pytest

from sheet_tools.base import platform
from sheet_tools.service.config import LimitSettings, default_workers, load_limits

GIB = 2**30


@pytest.mark.parametrize(
    ("cores", "memory", "memory_mb", "expected"),
    [
        (2, 4 * GIB, 1536, 2),  # the small school server README describes
        (8, 4 * GIB, 1536, 2),  # cores to spare, memory for two
        (16, 64 * GIB, 1536, 4),  # never more than four
        (1, 64 * GIB, 1536, 1),
        (4, 3 * GIB, 1536, 1),  # memory for one and a half: one
        (4, 1 * GIB, 1536, 1),  # never none
        (8, None, 1536, 4),  # memory unknown: the cores decide
        (4, 8 * GIB, 256, 4),
    ],
)
def test_the_default_fits_the_machine(
    cores: int, memory: int | None, memory_mb: int, expected: int
) -> None:
    fits = (memory or 0) // ((memory_mb + 512) * 2**20) if memory else cores
    assert expected == max(1, min(cores, 4, fits))  # the rule, restated here
    assert default_workers(memory_mb, cores=cores, memory=memory) == expected


def test_a_setting_overrides_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platform, "usable_cores", lambda: 2)
    monkeypatch.setattr(platform, "memory_bytes", lambda: 4 * GIB)
    assert LimitSettings().worker().workers == 2
    assert LimitSettings(workers=1).worker().workers == 1
    (tmp_path / "sheet-tools.toml").write_text("[limits]\nworkers = 3\n", encoding="utf-8")
    assert load_limits(tmp_path, environ={}).worker().workers == 3
    assert load_limits(tmp_path, environ={"SHEET_TOOLS_LIMIT_WORKERS": "1"}).worker().workers == 1


def test_a_container_s_quota_and_memory_limit_count(tmp_path: Path) -> None:
    """cgroup v2 files as a container sees them: a quota of 1.5 cores is one core."""
    (tmp_path / "cpu.max").write_text("150000 100000\n", encoding="ascii")
    (tmp_path / "memory.max").write_text(f"{2 * GIB}\n", encoding="ascii")
    assert platform.usable_cores(tmp_path) == 1
    assert platform.memory_bytes(cgroup=tmp_path) == min(
        2 * GIB, os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    )
    (tmp_path / "cpu.max").write_text("max 100000\n", encoding="ascii")
    (tmp_path / "memory.max").write_text("max\n", encoding="ascii")
    assert platform.usable_cores(tmp_path) == len(os.sched_getaffinity(0))
    assert platform.memory_bytes(cgroup=tmp_path) == os.sysconf("SC_PHYS_PAGES") * os.sysconf(
        "SC_PAGE_SIZE"
    )


class FakeKernel32:
    """GlobalMemoryStatusEx as Windows answers it, for a machine of ``total`` bytes."""

    def __init__(self, total: int) -> None:
        self.total = total

    def GlobalMemoryStatusEx(self, pointer: Any) -> int:
        status = ctypes.cast(pointer, ctypes.POINTER(platform.MemoryStatus)).contents
        assert status.dwLength == ctypes.sizeof(platform.MemoryStatus)
        status.ullTotalPhys = self.total
        return 1


def test_windows_says_its_memory_through_kernel32(tmp_path: Path) -> None:
    assert platform.memory_bytes(FakeKernel32(6 * GIB), cgroup=tmp_path) == 6 * GIB
