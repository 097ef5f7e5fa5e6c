"""Everything that differs between Windows and POSIX, in one place: a worker's memory and
processor-time limits, the signals that stop the service, the OS lock on a claim session, long
paths and the console's encoding. The rest of the code calls these and never ``resource``,
``fcntl``, ``msvcrt`` or a POSIX-only signal itself.

Limits: on POSIX a worker limits itself (``RLIMIT_AS``, and ``RLIMIT_CPU`` raised before each
task). On Windows the service puts each worker in a Job Object of its own (through ``ctypes``):
a per-process memory limit, a per-process user-time limit raised before each task, and
kill-on-close, so a worker dies with the service however the service ends. The wall-clock limit
is the service's, on every system. Where a limit cannot be applied, ``missing_limits`` says so.

The Windows branches take a ``kernel32`` object, so tests can drive them with a fake one.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

WINDOWS = os.name == "nt"
LONG_PATH = 260  # MAX_PATH: longer paths need the \\?\ prefix on Windows

# Job Object constants (winnt.h)
JOB_OBJECT_LIMIT_PROCESS_TIME = 0x00000002
JOB_OBJECT_LIMIT_PROCESS_MEMORY = 0x00000100
JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION = 0x00000400
JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x00002000
JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS = 9
TICKS_PER_SECOND = 10_000_000  # FILETIME and job times count 100 ns ticks
# How Windows ends a process over its job's time limit (ERROR_NOT_ENOUGH_QUOTA).
WINDOWS_TIME_LIMIT_EXIT = 1816


class IoCounters(ctypes.Structure):
    _fields_ = [(name, ctypes.c_ulonglong) for name in ("r", "w", "o", "rb", "wb", "ob")]


class BasicLimits(ctypes.Structure):
    _fields_ = [
        ("PerProcessUserTimeLimit", ctypes.c_int64),
        ("PerJobUserTimeLimit", ctypes.c_int64),
        ("LimitFlags", ctypes.c_uint32),
        ("MinimumWorkingSetSize", ctypes.c_size_t),
        ("MaximumWorkingSetSize", ctypes.c_size_t),
        ("ActiveProcessLimit", ctypes.c_uint32),
        ("Affinity", ctypes.c_size_t),
        ("PriorityClass", ctypes.c_uint32),
        ("SchedulingClass", ctypes.c_uint32),
    ]


class ExtendedLimits(ctypes.Structure):
    _fields_ = [
        ("BasicLimitInformation", BasicLimits),
        ("IoInfo", IoCounters),
        ("ProcessMemoryLimit", ctypes.c_size_t),
        ("JobMemoryLimit", ctypes.c_size_t),
        ("PeakProcessMemoryUsed", ctypes.c_size_t),
        ("PeakJobMemoryUsed", ctypes.c_size_t),
    ]


def load_kernel32() -> Any:
    """Windows' kernel32, its errors kept for ``ctypes.get_last_error``."""
    return ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]


def _last_error() -> int:
    """Windows' last error code (0 where ctypes has none to give)."""
    return int(getattr(ctypes, "get_last_error", lambda: 0)())


def _resource() -> Any:
    try:
        import resource
    except ImportError:
        return None
    return resource


# --- limits, worker side (POSIX) ---------------------------------------------------------------
def _set_limit(resource: Any, which: int, soft: int) -> None:
    _, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(which, (soft, hard))


def limit_self(memory_mb: int) -> None:
    """In a worker: no core files, and an address-space limit (POSIX; on Windows the service's
    Job Object holds the limit instead)."""
    resource = _resource()
    if resource is None:
        return
    _set_limit(resource, resource.RLIMIT_CORE, 0)  # no core file for every aborted worker
    _set_limit(resource, resource.RLIMIT_AS, memory_mb * 1024 * 1024)


def budget_self(cpu_seconds: int) -> None:
    """In a worker, before a task: SIGXCPU once this task has used ``cpu_seconds`` (soft limit
    only, raised again for the next task)."""
    resource = _resource()
    if resource is not None:
        _set_limit(resource, resource.RLIMIT_CPU, int(cpu_used()) + cpu_seconds + 1)


def cpu_used() -> float:
    """Processor time this process has used (what RLIMIT_CPU counts)."""
    return time.process_time()


def missing_limits(kernel32: Any = None) -> list[str]:
    """The worker limits this system cannot apply (empty where all can)."""
    if WINDOWS or kernel32 is not None:
        try:
            kernel32 = kernel32 or load_kernel32()
        except (AttributeError, OSError):
            return ["memory", "processor time"]
        return [] if hasattr(kernel32, "CreateJobObjectW") else ["memory", "processor time"]
    return [] if _resource() is not None else ["memory", "processor time"]


# --- limits, service side (Windows) ------------------------------------------------------------
class Containment:
    """A worker's Job Object (Windows); on POSIX nothing, as the worker limits itself."""

    def __init__(self, kernel32: Any = None, handle: int = 0, process: int = 0) -> None:
        self.kernel32 = kernel32
        self.job = handle
        self.process = process
        self.memory = 0

    def _apply(self, cpu_ticks: int) -> None:
        info = ExtendedLimits()
        flags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION
        if self.memory:
            flags |= JOB_OBJECT_LIMIT_PROCESS_MEMORY
            info.ProcessMemoryLimit = self.memory
        if cpu_ticks:
            flags |= JOB_OBJECT_LIMIT_PROCESS_TIME
            info.BasicLimitInformation.PerProcessUserTimeLimit = cpu_ticks
        info.BasicLimitInformation.LimitFlags = flags
        ok = self.kernel32.SetInformationJobObject(
            self.job,
            JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS,
            ctypes.byref(info),
            ctypes.sizeof(info),
        )
        if not ok:
            raise OSError(f"could not limit a worker (Windows error {_last_error()})")

    def budget(self, cpu_seconds: int) -> None:
        """Before a task: the worker may use ``cpu_seconds`` more of user time."""
        if not self.job:
            return
        times = [ctypes.c_int64() for _ in range(4)]  # creation, exit, kernel, user
        used = 0
        if self.kernel32.GetProcessTimes(self.process, *(ctypes.byref(t) for t in times)):
            used = times[3].value
        self._apply(used + (cpu_seconds + 1) * TICKS_PER_SECOND)

    def close(self) -> None:
        """Closing the job's last handle kills what is left in it."""
        if self.job:
            self.kernel32.CloseHandle(self.job)
            self.job = 0


def contain(process_handle: int, memory_mb: int, kernel32: Any = None) -> Containment:
    """Put a just-started worker (its process handle) in a Job Object of its own."""
    if not (WINDOWS or kernel32 is not None):
        return Containment()
    kernel32 = kernel32 or load_kernel32()
    job = kernel32.CreateJobObjectW(None, None)
    if not job:
        raise OSError(f"could not make a Job Object (Windows error {_last_error()})")
    containment = Containment(kernel32, job, process_handle)
    containment.memory = memory_mb * 1024 * 1024
    try:
        containment._apply(0)
        if not kernel32.AssignProcessToJobObject(job, process_handle):
            raise OSError(f"could not limit a worker (Windows error {_last_error()})")
    except BaseException:
        containment.close()
        raise
    return containment


def worker_python() -> str:
    """The interpreter to start workers with. In a Windows virtual environment ``python.exe``
    is a launcher that starts the real interpreter as its child, which a Job Object, a kill and
    an exit status would miss; the base interpreter is started instead (the caller passes
    ``sys.path`` on, so it imports what this process does)."""
    base = getattr(sys, "_base_executable", None)
    if WINDOWS and base and os.path.exists(base):
        return str(base)
    return sys.executable


def die_with_parent(kernel: bool) -> None:
    """Linux: the kernel kills this worker when the thread that started it ends (the service,
    when that was its main thread). Elsewhere the end of the channel, or the Job Object, does."""
    if kernel and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL


def describe_exit(exitcode: int | None) -> tuple[str, str]:
    """(what ended a process, "timeout" when it was over its processor-time limit, else "")."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"stopped by {name}", "timeout" if name == "SIGXCPU" else ""
    if WINDOWS and exitcode == WINDOWS_TIME_LIMIT_EXIT:
        return "stopped by its processor-time limit", "timeout"
    return f"exited with code {exitcode}", ""


# --- signals -----------------------------------------------------------------------------------
def stop_signals() -> list[signal.Signals]:
    """The signals that ask the service to stop: Ctrl+C, a service manager's stop, and on
    Windows Ctrl+Break (how service wrappers such as NSSM stop a console program)."""
    wanted = [signal.SIGINT, signal.SIGTERM]
    if hasattr(signal, "SIGBREAK"):
        wanted.append(signal.SIGBREAK)
    return wanted


def ignore_stop_signals() -> None:
    """In a worker: the service finishes the file in hand, so its worker must not die under it
    when a stop reaches the whole process group or console."""
    for stop in stop_signals():
        signal.signal(stop, signal.SIG_IGN)


@contextlib.contextmanager
def on_stop(handler: Callable[[str], None]) -> Iterator[None]:
    """Within: a stop signal calls ``handler(name)`` (main thread only; elsewhere nothing)."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wanted = stop_signals()
    previous = {sig: signal.getsignal(sig) for sig in wanted}
    for sig in wanted:
        signal.signal(sig, lambda signum, _frame: handler(signal.Signals(signum).name))
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


# --- files -------------------------------------------------------------------------------------
def try_lock(fd: int) -> bool:
    """An exclusive, non-blocking OS lock on an open file, released when the process dies."""
    try:
        import msvcrt
    except ImportError:
        msvcrt = None  # type: ignore[assignment]
    try:
        if msvcrt is not None:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def long_path(path: Path, windows: bool = WINDOWS) -> Path:
    """``path`` as Windows opens it when it is 260 characters or more (``\\\\?\\`` and absolute);
    unchanged elsewhere and when short."""
    text = str(path)
    if not windows or len(text) < LONG_PATH or text.startswith("\\\\?\\"):
        return path
    import ntpath

    full = ntpath.normpath(text if ntpath.isabs(text) else ntpath.join(os.getcwd(), text))
    if full.startswith("\\\\"):
        return Path("\\\\?\\UNC\\" + full[2:])
    return Path("\\\\?\\" + full)


# --- output ------------------------------------------------------------------------------------
def utf8_output(*streams: Any) -> None:
    """Redirected output (a scheduled task's log) in UTF-8, with anything it cannot hold
    replaced, so a school's name never stops a batch; a console keeps its own encoding."""
    for stream in streams or (sys.stdout, sys.stderr):
        if not isinstance(stream, io.TextIOWrapper):
            continue
        with contextlib.suppress(OSError, ValueError):
            if stream.isatty():
                stream.reconfigure(errors="replace")
            else:
                stream.reconfigure(encoding="utf-8", errors="replace")


# --- the machine's size, for the worker pool's default -------------------------------------------
class MemoryStatus(ctypes.Structure):
    """MEMORYSTATUSEX (sysinfoapi.h)."""

    _fields_ = [
        ("dwLength", ctypes.c_ulong),
        ("dwMemoryLoad", ctypes.c_ulong),
        ("ullTotalPhys", ctypes.c_ulonglong),
        ("ullAvailPhys", ctypes.c_ulonglong),
        ("ullTotalPageFile", ctypes.c_ulonglong),
        ("ullAvailPageFile", ctypes.c_ulonglong),
        ("ullTotalVirtual", ctypes.c_ulonglong),
        ("ullAvailVirtual", ctypes.c_ulonglong),
        ("ullAvailExtendedVirtual", ctypes.c_ulonglong),
    ]


CGROUP = Path("/sys/fs/cgroup")  # cgroup v2: a container's CPU quota and memory limit


def usable_cores(cgroup: Path = CGROUP) -> int:
    """The cores this process may use: its CPU affinity where the system has one, else every
    core, and no more than a container's CPU quota allows."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    try:
        quota, period = (cgroup / "cpu.max").read_text(encoding="ascii").split()[:2]
        if quota != "max":
            cores = min(cores, max(1, int(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cores)


def memory_bytes(kernel32: Any = None, cgroup: Path = CGROUP) -> int | None:
    """The memory this process may use: the machine's, or a container's limit where lower;
    None when the system will not say."""
    total: int | None = None
    if WINDOWS or kernel32 is not None:
        kernel32 = kernel32 or load_kernel32()
        status = MemoryStatus()
        status.dwLength = ctypes.sizeof(MemoryStatus)
        if kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):
            total = int(status.ullTotalPhys)
    else:
        try:
            total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, OSError, ValueError):
            total = None
    try:
        limit = (cgroup / "memory.max").read_text(encoding="ascii").strip()
        if limit != "max":
            total = min(total, int(limit)) if total else int(limit)
    except (OSError, ValueError):
        pass
    return total
