"""Deliberately hostile tasks, run through the production worker pool (``worker.using(check=)``
or ``WorkerPool.run``), for what no real file does on demand: spin, hang, allocate, abort.

Each has the signature of ``worker.read_task`` (registry, path, guard limits). Those named
``*_if_named`` behave as the real check for every file except one whose name starts with the
trigger word, and count each time they meet such a file in ``$SHEET_TOOLS_TEST_COUNTER``, so a
test can prove how often the file was read.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from sheet_tools.definitions.frameworks import Registry
from sheet_tools.intake.guard import Limits
from sheet_tools.intake.worker import read_task

COUNTER = "SHEET_TOOLS_TEST_COUNTER"


def _count(path: str) -> None:
    counter = os.environ.get(COUNTER)
    if counter:
        with open(counter, "a", encoding="utf-8") as handle:
            handle.write(Path(path).name + "\n")
            handle.flush()
            os.fsync(handle.fileno())


def spin(registry: Registry, path: str, limits: Limits) -> None:
    """Burns processor time until the CPU limit stops it."""
    _count(path)
    while True:
        pass


def sleep(registry: Registry, path: str, limits: Limits) -> None:
    """Hangs without using processor time: only the wall-clock timeout stops it."""
    _count(path)
    time.sleep(3600)


def allocate(registry: Registry, path: str, limits: Limits) -> int:
    """Asks for 8 GiB, far over any worker's address-space limit."""
    _count(path)
    block = bytearray(8 * 1024**3)
    return len(block)


def abort(registry: Registry, path: str, limits: Limits) -> None:
    """Dies as a Rust or C abort does (SIGABRT)."""
    _count(path)
    os.abort()


def exit_with_3(registry: Registry, path: str, limits: Limits) -> None:
    _count(path)
    os._exit(3)


def raise_error(registry: Registry, path: str, limits: Limits) -> None:
    raise ValueError("a fault in the task")


def add(registry: Registry, a: int, b: int) -> int:
    return a + b


def pid(registry: Registry, *args: object) -> int:
    return os.getpid()


def sleep_if_named(registry: Registry, path: str, limits: Limits):
    """The real check, except that a file named hang* hangs the worker."""
    if Path(path).name.startswith("hang"):
        sleep(registry, path, limits)
    return read_task(registry, path, limits)


def counted_check(registry: Registry, path: str, limits: Limits):
    """The real check, counting every file it reads; a file named abort* aborts the worker."""
    _count(path)
    if Path(path).name.startswith("abort"):
        os.abort()
    return read_task(registry, path, limits)


def nap(registry: Registry, path: str, limits: Limits) -> str:
    """A second's honest work: a task still running when a stop signal arrives."""
    _count(path)
    time.sleep(1.0)
    return "done"


def chatter(registry: Registry, path: str, limits: Limits) -> int:
    """Writes to stdout, as a careless library does, by print and straight to fd 1."""
    print("a library's chatter " * 100, flush=True)
    os.write(1, b"\x80\x04 not a message\n" * 100)
    return 42


MEETING = "SHEET_TOOLS_TEST_MEETING"


def meeting_check(registry: Registry, path: str, limits: Limits):
    """The real check, after waiting (a few seconds at most) for another read to be under way
    at the same time; each file's line in ``$SHEET_TOOLS_TEST_MEETING``'s folder says whether
    it met one, so a test can show reads overlap without timing anything."""
    folder = Path(os.environ[MEETING])
    mine = folder / f"{os.getpid()}-{time.monotonic_ns()}.running"  # files may share a name
    mine.touch()
    met = False
    for _ in range(100):
        if len(list(folder.glob("*.running"))) > 1:
            met = True
            break
        time.sleep(0.05)
    with open(folder / "met.txt", "a", encoding="utf-8") as handle:
        handle.write(f"{Path(path).name} {'met' if met else 'alone'}\n")
    result = read_task(registry, path, limits)
    mine.unlink()
    return result
