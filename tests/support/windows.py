"""A Windows CI job in spirit: the POSIX-only calls refused as Windows' Python refuses them, in
this process and in every process it starts with its ``sys.path`` (the worker pool's workers).

No Windows Python can be had on these machines, so this is what the pool, ingest and watch are
run under: ``Popen(pass_fds=...)`` fails as CPython's Windows branch fails it, ``os.pread`` and
``os.pwrite`` are absent, ``import resource`` and ``import fcntl`` fail, ``/proc`` cannot be
read, the POSIX-only signals are gone, ``Popen.kill`` is TerminateProcess (not a signal), and
``msvcrt.locking`` is the only file lock. A worker picks this up through ``sitecustomize`` in
``windows_site/`` (on its ``PYTHONPATH`` because the pool passes ``sys.path`` on) when
``SHEET_TOOLS_TEST_AS_WINDOWS=1``. Kept to the standard library: a worker imports it first.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import os
import signal
import subprocess
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ENV = "SHEET_TOOLS_TEST_AS_WINDOWS"
SITE = Path(__file__).parent / "windows_site"
HIDDEN = ("resource", "fcntl", "msvcrt")
POSIX_SIGNALS = ("SIGKILL", "SIGXCPU", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM")

Setter = Callable[[object, str, Any], None]
Deleter = Callable[[object, str], None]


def _fake_msvcrt() -> types.ModuleType:
    """msvcrt.locking over the real flock (an exclusive lock that dies with the process)."""
    import fcntl

    def locking(fd: int, mode: int, nbytes: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    module = types.ModuleType("msvcrt")
    module.LK_NBLCK = 2  # type: ignore[attr-defined]
    module.locking = locking  # type: ignore[attr-defined]
    return module


def refuse_posix(setattr_: Setter = setattr, delattr_: Deleter = delattr) -> None:
    """Make this process refuse what Windows' Python lacks (``setattr_``/``delattr_`` let a
    test undo it: pytest's monkeypatch)."""
    msvcrt = _fake_msvcrt()
    original_init = subprocess.Popen.__init__

    def popen_init(self: subprocess.Popen[Any], *args: Any, **kwargs: Any) -> None:
        assert not kwargs.get("pass_fds"), "pass_fds not supported on Windows."
        original_init(self, *args, **kwargs)

    def terminate_process(self: subprocess.Popen[Any]) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, 9)  # TerminateProcess: not a signal the child can ignore

    real_open = builtins.open

    def open_(file: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, str | os.PathLike) and os.fspath(file).startswith("/proc"):
            raise FileNotFoundError(2, "No such file or directory", os.fspath(file))
        return real_open(file, *args, **kwargs)

    setattr_(subprocess.Popen, "__init__", popen_init)
    setattr_(subprocess.Popen, "kill", terminate_process)
    setattr_(builtins, "open", open_)
    setattr_(io, "open", open_)
    for name in ("pread", "pwrite"):
        if hasattr(os, name):
            delattr_(os, name)
    for name in POSIX_SIGNALS:
        if hasattr(signal, name):
            delattr_(signal, name)
    # None in sys.modules makes an import fail (the caller puts the old entries back).
    sys.modules.update({"resource": None, "fcntl": None, "msvcrt": msvcrt})  # type: ignore[dict-item]


@contextlib.contextmanager
def as_windows() -> Iterator[None]:
    """Within: this process and the workers it starts refuse the POSIX-only calls."""
    import pytest

    saved = {name: sys.modules.get(name) for name in HIDDEN}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ENV, "1")
        patch.syspath_prepend(str(SITE))
        refuse_posix(patch.setattr, patch.delattr)
        try:
            yield
        finally:
            for name, module in saved.items():
                if module is None:
                    sys.modules.pop(name, None)
                else:
                    sys.modules[name] = module
