"""A small pool of bounded worker processes: each with a memory limit, a processor-time budget
per task (raised before each one) and a wall-clock timeout the parent enforces by killing it; the
limits themselves are ``base.platform``'s (rlimits on POSIX, a Job Object on Windows). A worker
that dies costs only the task it held: the caller gets a typed ``Outcome`` (crashed, timeout,
out-of-memory) and the pool starts a fresh worker.

Hand-rolled (plain subprocesses talking over their stdin and stdout) rather than
``concurrent.futures.ProcessPoolExecutor``, which breaks the whole pool when one worker dies, or
``pebble``/``loky``, which would cost what this pool does well: workers stay alive between tasks
(isolation costs one pickled round trip per task, not a start), the registry is sent to each
worker once, the caller is told when a ready worker is in hand (so an attempt is counted only
then), and a dead worker's last words (a Rust abort's message) tell its outcome. Nothing here is
POSIX-only: no inherited descriptors, no ``os.pread``, no parent-pid check. What runs in the
workers, and why, is ``worker``'s.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import queue
import struct
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..base import platform

logger = logging.getLogger("sheet_tools.pool")

_START_SECONDS = 120.0  # a worker's start (imports) on a busy machine, not a file's time
_STDERR_TAIL = 4096
_HEADER = struct.Struct("!Q")
_CLOSED = object()
_told_missing = False


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


# --- the channel: pickles with a length before each, over a worker's stdin and stdout ----------
def _send(stream: IO[bytes], message: object) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)))
    stream.write(data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


class _Inbox:
    """Messages from a stream, read by a thread of their own: waiting for one with a timeout
    then works on any pipe (``select`` does not on Windows). ``on_close`` runs at end of file."""

    def __init__(self, stream: IO[bytes], on_close: Callable[[], None] | None = None) -> None:
        self.messages: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.stream = stream
        self.on_close = on_close
        threading.Thread(target=self._pump, daemon=True, name="sheet-tools-channel").start()

    def _pump(self) -> None:
        try:
            while True:
                self.messages.put(_receive(self.stream))
        except (EOFError, OSError, ValueError, pickle.UnpicklingError):
            self.messages.put(_CLOSED)
            if self.on_close is not None:
                self.on_close()

    def get(self, timeout: float | None = None) -> Any:
        """The next message; ``queue.Empty`` after ``timeout``; ``EOFError`` once closed."""
        message = self.messages.get(timeout=timeout)
        if message is _CLOSED:
            self.messages.put(_CLOSED)
            raise EOFError
        return message


# --- the worker process ------------------------------------------------------------------------
def _take_channel() -> tuple[IO[bytes], IO[bytes]]:
    """The worker's stdin and stdout become its channel; fd 0 is then empty and fd 1 goes to
    stderr, so stray output of a library (a print, a C library's warning) cannot corrupt it."""
    channel_in = os.fdopen(os.dup(0), "rb")
    channel_out = os.fdopen(os.dup(1), "wb")
    empty = os.open(os.devnull, os.O_RDONLY)
    os.dup2(empty, 0)
    os.close(empty)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return channel_in, channel_out


def _serve(limits: WorkerLimits, kernel: bool = True) -> None:
    """The worker's loop: take a task, run it, send back ("ok", value) or ("error", text)."""
    channel_in, channel_out = _take_channel()
    platform.die_with_parent(kernel)
    # Ctrl+C, Ctrl+Break and a service manager's stop reach the worker too: the service
    # finishes the file in hand, so the worker must not die under it. It ends with the service:
    # end of file on its stdin (even mid-task), the Job Object on Windows, the kernel on Linux.
    platform.ignore_stop_signals()
    platform.limit_self(limits.memory_mb)
    inbox = _Inbox(channel_in, on_close=lambda: os._exit(0))
    from . import validate  # noqa: F401 - the check's imports, paid before the first file

    _send(channel_out, ("ready", os.getpid()))
    contexts: dict[int, object] = {}
    while True:
        try:
            message = inbox.get()
        except EOFError:
            return
        if message is None:
            return
        fn, args, token, context = message
        if context is not None:
            contexts[token] = context
        with contextlib.suppress(OSError):  # this task's stderr only, for the parent to read
            os.ftruncate(2, 0)
            os.lseek(2, 0, os.SEEK_SET)
        platform.budget_self(limits.cpu_seconds)
        try:
            value = fn(contexts[token], *args) if token else fn(*args)
        except MemoryError:
            _send(channel_out, ("out-of-memory", "MemoryError"))
            return  # its heap may be in pieces: the pool starts a fresh worker
        except BaseException as exc:
            text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            _send(channel_out, ("error", text))
            continue
        try:
            _send(channel_out, ("ok", value))
        except MemoryError:
            _send(channel_out, ("out-of-memory", "MemoryError while sending the result"))
            return


# --- the pool ----------------------------------------------------------------------------------
class _Worker:
    """One worker: ``python -m sheet_tools.intake.pool``, its channel its stdin and stdout.
    Started as a plain subprocess rather than through ``multiprocessing``, whose spawn would
    re-import the caller's main script (a benchmark, a test runner) in every worker."""

    def __init__(self, limits: WorkerLimits) -> None:
        # The worker's stderr, a file without a name: nothing is left behind, however it ends.
        self.log = tempfile.TemporaryFile(prefix="sheet-tools-worker-")  # noqa: SIM115
        self.settled = False  # back among the idle, or discarded, after its last task
        # The worker imports what this process can (a test's hostile task, an unpacked tree).
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
            "RUST_BACKTRACE": "0",  # the abort's one line, not a page of frames
        }
        command = [
            platform.worker_python(),
            "-m",
            "sheet_tools.intake.pool",
            limits.model_dump_json(),
            "1" if threading.current_thread() is threading.main_thread() else "0",
        ]
        try:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.log,  # a Rust abort message lands here, for the parent to read
                env=env,
                creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
            )
        except BaseException:
            self.log.close()
            raise
        self.containment = _contain(self.process, limits)
        assert self.process.stdin is not None and self.process.stdout is not None
        self.inbox = _Inbox(self.process.stdout)
        self.tokens: set[int] = set()
        # Wait for the worker to say it is ready, so a file's time starts with the file.
        hello = None
        with contextlib.suppress(EOFError, queue.Empty):
            hello = self.inbox.get(max(limits.timeout_seconds, _START_SECONDS))
        if not (isinstance(hello, tuple) and hello[:1] == ("ready",)):
            self.reap(kill=True)
            stderr = self.stderr_tail().strip()
            self.discard()
            raise OSError(f"a worker process did not start ({stderr[-500:] or 'no message'})")

    def send(self, message: object) -> None:
        assert self.process.stdin is not None
        _send(self.process.stdin, message)

    def stderr_tail(self) -> str:
        """The start and the end of what the worker wrote for its last task (read once it has
        stopped writing: the file's position is shared with the worker's)."""
        try:
            self.log.seek(0, os.SEEK_END)
            size = self.log.tell()
            self.log.seek(0)
            head = self.log.read(_STDERR_TAIL)
            if size <= _STDERR_TAIL:
                return head.decode("utf-8", "replace")
            self.log.seek(max(_STDERR_TAIL, size - _STDERR_TAIL))
            return (head + b"\n" + self.log.read()).decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    def reap(self, *, kill: bool) -> int | None:
        if kill and self.process.poll() is None:
            with contextlib.suppress(OSError):
                self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError, ValueError):
                stream.close()  # type: ignore[union-attr]
        return self.process.returncode

    def discard(self) -> None:
        self.containment.close()
        self.log.close()


def _contain(process: subprocess.Popen[bytes], limits: WorkerLimits) -> platform.Containment:
    """The worker's Job Object on Windows (nothing on POSIX). One that cannot be made leaves
    the worker with the wall-clock limit only, said in the log rather than stopping the service."""
    if not platform.WINDOWS:
        return platform.Containment()
    try:
        return platform.contain(int(process._handle), limits.memory_mb)  # type: ignore[attr-defined]
    except OSError as exc:
        logger.warning("a worker runs without memory or processor-time limits: %s", exc)
        return platform.Containment()


def _describe_death(exitcode: int | None, stderr: str, limits: WorkerLimits) -> Outcome:
    """Turn a dead worker's exit status and last words into an outcome."""
    last = next((line.strip() for line in reversed(stderr.splitlines()) if line.strip()), "")
    out_of_memory = "memory allocation of" in stderr or "MemoryError" in stderr
    how, kind = platform.describe_exit(exitcode)
    if kind == "timeout":
        return Outcome(
            "timeout", detail=f"it used more than {limits.cpu_seconds} s of processor time"
        )
    if out_of_memory:
        first = next((line for line in stderr.splitlines() if "memory allocation" in line), "")
        return Outcome("out-of-memory", detail=first.strip() or last)
    return Outcome("crashed", detail=how + (f": {last}" if last else ""))


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
        _tell_missing_limits()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _take(self) -> _Worker:
        while True:
            with self._lock:
                if self._closed:
                    raise RuntimeError("the worker pool is closed")
                try:
                    worker = self._idle.get_nowait()
                except queue.Empty:
                    spawn = self._started < self.limits.workers
                    if spawn:
                        self._started += 1  # the slot is taken now; the start happens unlocked
                else:
                    worker.settled = False
                    return worker
            if spawn:
                break
            # Wait for a worker to come back, looking again now and then: one that dies frees
            # its slot without coming back.
            try:
                worker = self._idle.get(timeout=0.5)
            except queue.Empty:
                continue
            worker.settled = False
            return worker
        try:
            return _Worker(self.limits)
        except BaseException:
            with self._lock:
                self._started -= 1
            raise

    def _keep(self, worker: _Worker) -> None:
        worker.settled = True
        self._idle.put(worker)

    def _lost(self, worker: _Worker, *, kill: bool = True) -> int | None:
        """Stop (with ``kill``) and discard a worker; its slot is free for a fresh one."""
        exitcode = worker.reap(kill=kill)
        worker.settled = True
        worker.discard()
        with self._lock:
            self._started -= 1
            self.replaced += 1
        return exitcode

    def warm(self) -> None:
        """Start every worker now, so the first file does not pay for the start."""
        taken = [self._take() for _ in range(self.limits.workers)]
        for worker in taken:
            self._keep(worker)

    def run(
        self,
        fn: Callable[..., Any],
        *args: Any,
        context: object = None,
        before: Callable[[], object] | None = None,
    ) -> Outcome:
        """Run ``fn(*args)`` (``fn(context, *args)`` with a context) in a worker. ``fn`` must be
        a module-level function; ``context`` is sent to each worker only once; ``before`` runs
        once a ready worker is in hand, just before the task is sent. On every path, an
        exception included, the worker goes back to the idle ones or is replaced."""
        token = 0
        if context is not None:
            token = id(context)
            self._contexts.setdefault(token, context)
        worker = self._take()
        sent = False
        try:
            if before is not None:
                before()
            if worker.process.poll() is not None:  # died while idle (killed by someone)
                self._lost(worker, kill=False)
                worker = self._take()
            for _ in range(2):  # an idle worker may have been killed meanwhile: start another
                try:
                    payload = None if token in worker.tokens or not token else context
                    sent = True
                    worker.send((fn, args, token, payload))
                    if token:
                        worker.tokens.add(token)
                    break
                except (OSError, ValueError):
                    self._lost(worker)
                    sent = False
                    worker = self._take()
            else:
                return Outcome("crashed", detail="no worker could be started")
            return self._answer(worker)
        finally:
            if not worker.settled:  # an exception on the way: nothing may wait for it for ever
                if sent:
                    self._lost(worker)
                else:
                    self._keep(worker)

    def _answer(self, worker: _Worker) -> Outcome:
        """Wait for the worker's answer to its task, within the wall-clock limit."""
        try:
            kind, value = worker.inbox.get(self.limits.timeout_seconds)
        except queue.Empty:
            self._lost(worker)
            return Outcome(
                "timeout", detail=f"it did not finish within {self.limits.timeout_seconds:g} s"
            )
        except EOFError:
            exitcode = worker.reap(kill=False)
            outcome = _describe_death(exitcode, worker.stderr_tail(), self.limits)
            self._lost(worker, kill=False)
            return outcome
        if kind == "out-of-memory":
            self._lost(worker, kill=False)
            return Outcome("out-of-memory", detail=str(value))
        self._keep(worker)
        if kind == "error":
            return Outcome("error", detail=str(value))
        return Outcome("ok", value=value)

    def cpu_seconds(self) -> float:
        """Processor time the live workers have used (for benchmarks: it is not this process's)."""
        total = 0.0
        for _ in range(self._started):
            outcome = self.run(platform.cpu_used)
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
            with contextlib.suppress(OSError, ValueError):
                worker.send(None)
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.process.wait(timeout=5)
            worker.reap(kill=True)
            worker.discard()


def _tell_missing_limits() -> None:
    """Once per process, at the first pool's start: the limits this system cannot apply."""
    global _told_missing
    if _told_missing:
        return
    _told_missing = True
    missing = platform.missing_limits()
    if missing:
        logger.warning(
            "this system cannot limit a worker's %s: only the wall-clock timeout bounds a file",
            " or ".join(missing),
        )


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
    """``python -m sheet_tools.intake.pool <limits json> <1|0>``: one worker, its channel its
    stdin and stdout (1: started from the service's main thread)."""
    _serve(WorkerLimits.model_validate_json(argv[1]), argv[2] == "1")


if __name__ == "__main__":
    _main(sys.argv)
