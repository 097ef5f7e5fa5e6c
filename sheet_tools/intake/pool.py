"""A small pool of bounded worker processes: each with an address-space limit (RLIMIT_AS), a
processor-time budget per task (RLIMIT_CPU, raised before each one) and a wall-clock timeout the
parent enforces by killing it. A worker that dies costs only the task it held: the caller gets a
typed ``Outcome`` (crashed, timeout, out-of-memory) and the pool starts a fresh worker.

Hand-rolled (plain subprocesses, one socket pair each) because
``concurrent.futures.ProcessPoolExecutor`` breaks the whole pool when one worker dies. Workers stay
alive between tasks, so isolation costs one pickled round trip per task, not a start. What runs in
them, and why, is ``worker``'s.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

_START_SECONDS = 120.0  # a worker's start (imports) on a busy machine, not a file's time
_STDERR_TAIL = 4096


class WorkerLimits(BaseModel):
    """What one worker may use. The defaults fit a 2-core, 4 GB school server: a real return
    needs about 60 MB and 10 ms, so these are far above any real file and far below the machine."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    memory_mb: int = Field(default=1536, ge=128)
    cpu_seconds: int = Field(default=30, ge=1)
    timeout_seconds: float = Field(default=60.0, gt=0)
    workers: int = Field(default=1, ge=1, le=16)


DEFAULT_WORKER_LIMITS = WorkerLimits()

OutcomeKind = Literal["ok", "error", "crashed", "timeout", "out-of-memory"]


@dataclass(frozen=True)
class Outcome:
    """What became of one task: its value, or how the worker failed."""

    kind: OutcomeKind
    value: Any = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.kind == "ok"


# --- the worker process ------------------------------------------------------------------------
def _die_with_parent(parent: int, kernel: bool) -> None:
    """A worker never outlives the service (even one killed by kill -9), stuck in a hostile
    file or not. On Linux the kernel kills it when the thread that started it ends, which is the
    service itself only when that was the main thread (``kernel``); a watch on the parent's pid
    covers the rest."""
    if kernel and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def _set_limit(which: int, soft: int) -> None:
    import resource

    _, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(which, (soft, hard))


def _cpu_used() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _serve(conn: Connection, limits: WorkerLimits, parent: int, kernel: bool = True) -> None:
    """The worker's loop: take a task, run it, send back ("ok", value) or ("error", text)."""
    _die_with_parent(parent, kernel)
    if os.getppid() != parent:  # the service died before the line above took effect
        return
    bounded = os.name == "posix"
    # Ctrl+C reaches the whole process group, and systemd's stop every process of the service:
    # the service finishes the file in hand, so its worker must not die under it. The worker
    # ends with the service (end of file on its socket, or the watches above).
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, signal.SIG_IGN)
    if bounded:
        import resource

        _set_limit(resource.RLIMIT_CORE, 0)  # no core file for every aborted worker
        memory = limits.memory_mb * 1024 * 1024
        _set_limit(resource.RLIMIT_AS, memory)
    from . import validate  # noqa: F401 - the check's imports, paid before the first file

    conn.send(("ready", os.getpid()))
    contexts: dict[int, object] = {}
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        fn, args, token, context = message
        if context is not None:
            contexts[token] = context
        os.ftruncate(2, 0)
        os.lseek(2, 0, os.SEEK_SET)
        if bounded:
            import resource

            # Soft limit only: SIGXCPU at this file's budget; raised again for the next file.
            _set_limit(resource.RLIMIT_CPU, int(_cpu_used()) + limits.cpu_seconds + 1)
        try:
            value = fn(contexts[token], *args) if token else fn(*args)
        except MemoryError:
            conn.send(("out-of-memory", "MemoryError"))
            return  # its heap may be in pieces: the pool starts a fresh worker
        except BaseException as exc:
            text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            conn.send(("error", text))
            continue
        try:
            conn.send(("ok", value))
        except MemoryError:
            conn.send(("out-of-memory", "MemoryError while sending the result"))
            return


# --- the pool ----------------------------------------------------------------------------------
class _Worker:
    """One worker: ``python -m sheet_tools.intake.pool`` on one end of a socket pair. Started as a
    plain subprocess rather than through ``multiprocessing``, whose spawn would re-import the
    caller's main script (a benchmark, a test runner) in every worker."""

    def __init__(self, limits: WorkerLimits) -> None:
        # The worker's stderr, a file without a name: nothing is left behind, however it ends.
        self.log = tempfile.TemporaryFile(prefix="sheet-tools-worker-")  # noqa: SIM115
        ours, theirs = socket.socketpair()
        # The worker imports what this process can (a test's hostile task, an unpacked tree).
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
            "RUST_BACKTRACE": "0",  # the abort's one line, not a page of frames
        }
        command = [
            sys.executable,
            "-m",
            "sheet_tools.intake.pool",
            str(theirs.fileno()),
            str(os.getpid()),
            limits.model_dump_json(),
            "1" if threading.current_thread() is threading.main_thread() else "0",
        ]
        try:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self.log,  # a Rust abort message lands here, for the parent to read
                pass_fds=(theirs.fileno(),),
                env=env,
            )
        except BaseException:
            self.log.close()
            raise
        finally:
            theirs.close()  # so the parent sees end-of-file the moment the worker dies
        self.conn = Connection(ours.detach())
        self.tokens: set[int] = set()
        # Wait for the worker to say it is ready, so a file's time starts with the file.
        hello = None
        with contextlib.suppress(EOFError, OSError):
            if self.conn.poll(max(limits.timeout_seconds, _START_SECONDS)):
                hello = self.conn.recv()
        if not (isinstance(hello, tuple) and hello[:1] == ("ready",)):
            self.reap(kill=True)
            stderr = self.stderr_tail().strip()
            self.discard()
            raise OSError(f"a worker process did not start ({stderr[-500:] or 'no message'})")

    def stderr_tail(self) -> str:
        """The start and the end of what the worker wrote for its last task."""
        try:
            fd = self.log.fileno()
            size = os.fstat(fd).st_size
            head = os.pread(fd, _STDERR_TAIL, 0)
            if size <= _STDERR_TAIL:
                return head.decode("utf-8", "replace")
            start = max(_STDERR_TAIL, size - _STDERR_TAIL)
            return (head + b"\n" + os.pread(fd, size - start, start)).decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    def reap(self, *, kill: bool) -> int | None:
        if kill and self.process.poll() is None:
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        with contextlib.suppress(OSError):
            self.conn.close()
        return self.process.returncode

    def discard(self) -> None:
        self.log.close()


def _describe_death(exitcode: int | None, stderr: str, limits: WorkerLimits) -> Outcome:
    """Turn a dead worker's exit status and last words into an outcome."""
    last = next((line.strip() for line in reversed(stderr.splitlines()) if line.strip()), "")
    out_of_memory = "memory allocation of" in stderr or "MemoryError" in stderr
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        if name == "SIGXCPU":
            return Outcome(
                "timeout", detail=f"it used more than {limits.cpu_seconds} s of processor time"
            )
        if out_of_memory:
            first = next((line for line in stderr.splitlines() if "memory allocation" in line), "")
            return Outcome("out-of-memory", detail=first.strip() or last)
        return Outcome("crashed", detail=f"stopped by {name}" + (f": {last}" if last else ""))
    if out_of_memory:
        return Outcome("out-of-memory", detail=last)
    return Outcome("crashed", detail=f"exited with code {exitcode}" + (f": {last}" if last else ""))


class WorkerPool:
    """A few persistent, bounded worker processes; ``run`` is safe from several threads."""

    def __init__(self, limits: WorkerLimits = DEFAULT_WORKER_LIMITS) -> None:
        self.limits = limits
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._started = 0
        self._closed = False
        # Objects sent once per worker (the registry), kept alive so their id stays theirs.
        self._contexts: dict[int, object] = {}
        self.replaced = 0  # workers that died or were stopped and had to be replaced

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _take(self) -> _Worker:
        with self._lock:
            if self._closed:
                raise RuntimeError("the worker pool is closed")
            try:
                return self._idle.get_nowait()
            except queue.Empty:
                spawn = self._started < self.limits.workers
                if spawn:
                    self._started += 1  # the slot is taken now; the start happens unlocked
        if not spawn:
            return self._idle.get()
        try:
            return _Worker(self.limits)
        except BaseException:
            with self._lock:
                self._started -= 1
            raise

    def _lost(self, worker: _Worker) -> None:
        worker.discard()
        with self._lock:
            self._started -= 1
            self.replaced += 1

    def warm(self) -> None:
        """Start every worker now, so the first file does not pay for the start."""
        taken = [self._take() for _ in range(self.limits.workers)]
        for worker in taken:
            self._idle.put(worker)

    def run(
        self,
        fn: Callable[..., Any],
        *args: Any,
        context: object = None,
        before: Callable[[], object] | None = None,
    ) -> Outcome:
        """Run ``fn(*args)`` (``fn(context, *args)`` with a context) in a worker. ``fn`` must be
        a module-level function; ``context`` is sent to each worker only once; ``before`` runs
        once a ready worker is in hand, just before the task is sent."""
        token = 0
        if context is not None:
            token = id(context)
            self._contexts.setdefault(token, context)
        worker = self._take()
        if before is not None:
            before()
        if worker.process.poll() is not None:  # died while idle (killed by someone): replace it
            worker.reap(kill=False)
            self._lost(worker)
            worker = self._take()
        for _ in range(2):  # an idle worker may have been killed meanwhile: start another once
            try:
                payload = None if token in worker.tokens or not token else context
                worker.conn.send((fn, args, token, payload))
                if token:
                    worker.tokens.add(token)
                break
            except (BrokenPipeError, ConnectionError, EOFError, OSError):
                worker.reap(kill=True)
                self._lost(worker)
                worker = self._take()
        else:
            return Outcome("crashed", detail="no worker could be started")
        if not worker.conn.poll(self.limits.timeout_seconds):
            worker.reap(kill=True)
            self._lost(worker)
            return Outcome(
                "timeout", detail=f"it did not finish within {self.limits.timeout_seconds:g} s"
            )
        try:
            kind, value = worker.conn.recv()
        except (EOFError, OSError):
            exitcode = worker.reap(kill=False)
            outcome = _describe_death(exitcode, worker.stderr_tail(), self.limits)
            self._lost(worker)
            return outcome
        if kind == "out-of-memory":
            worker.reap(kill=False)
            self._lost(worker)
            return Outcome("out-of-memory", detail=str(value))
        self._idle.put(worker)
        if kind == "error":
            return Outcome("error", detail=str(value))
        return Outcome("ok", value=value)

    def cpu_seconds(self) -> float:
        """Processor time the live workers have used (for benchmarks: it is not this process's)."""
        total = 0.0
        for _ in range(self._started):
            outcome = self.run(_cpu_used)
            total += outcome.value if outcome.ok else 0.0
        return total

    def close(self) -> None:
        """Stop every worker (idle ones at once; one busy in another thread when it returns)."""
        with self._lock:
            self._closed = True
        while True:
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                break
            with contextlib.suppress(OSError):
                worker.conn.send(None)
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.process.wait(timeout=5)
            worker.reap(kill=True)
            worker.discard()


class InProcessPool:
    """The same interface, running tasks in this process: for benchmarks and trusted callers."""

    limits = DEFAULT_WORKER_LIMITS
    replaced = 0

    def run(
        self,
        fn: Callable[..., Any],
        *args: Any,
        context: object = None,
        before: Callable[[], object] | None = None,
    ) -> Outcome:
        if before is not None:
            before()
        try:
            value = fn(context, *args) if context is not None else fn(*args)
        except Exception as exc:
            return Outcome("error", detail=f"{type(exc).__name__}: {exc}")
        return Outcome("ok", value=value)

    def warm(self) -> None:
        return None

    def cpu_seconds(self) -> float:
        return 0.0

    def close(self) -> None:
        return None

    def __enter__(self) -> InProcessPool:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


Pool = WorkerPool | InProcessPool


def _main(argv: list[str]) -> None:
    """``python -m sheet_tools.intake.pool <fd> <parent pid> <limits json> <1|0>``: one worker."""
    conn = Connection(int(argv[1]))
    _serve(conn, WorkerLimits.model_validate_json(argv[3]), int(argv[2]), argv[4] == "1")


if __name__ == "__main__":
    _main(sys.argv)
