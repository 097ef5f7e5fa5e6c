"""Poison files dropped beside good returns into a running watcher: the watcher goes on.

A real watcher (run_watch, real watchdog observer, real database) with the real bounded worker
pool. The sharedStrings files are real shapes that abort python-calamine 0.9 (see
test_worker.py); the hang is a deliberately hostile task run through the same pool, since no file
hangs the installed calamine on demand.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sheet_tools.base.workspace import Workspace
from sheet_tools.definitions.frameworks import Framework, Registry
from sheet_tools.intake import worker
from tests.support import corpus, hostile
from tests.support.helpers import sha256
from tests.support.watching import (
    DEADLINE,
    REPO,
    Corpus,
    fast_settings,
    files_under,
    running,
    wait_for,
)
from tests.test_worker import SST_COUNT, SST_LARGE, SST_UNIQUE

POISON = {
    "count.xlsx": (SST_COUNT, "reader-out-of-memory"),
    "unique-count.xlsx": (SST_UNIQUE, "reader-out-of-memory"),
    "large-count.xlsx": (SST_LARGE, "reader-out-of-memory"),  # only under the memory limit
}
LIMITS = {"memory_mb": 512, "cpu_seconds": 5, "timeout_seconds": 5}


def codes(path: Path) -> str:
    return path.with_name(path.name + ".errors.txt").read_text(encoding="utf-8")


def assert_rejected_unchanged(ws: Workspace, name: str, digest: str) -> None:
    filed = ws.rejected / name
    assert filed.is_file(), sorted(p.name for p in ws.rejected.iterdir())
    assert sha256(filed) == digest
    text = codes(filed)
    assert "Save As > Excel Workbook (.xlsx)" in text, text


def test_poison_files_beside_good_returns_cost_only_themselves(
    corpus_for_poison: Corpus, registry: Registry, tmp_path: Path
) -> None:
    ws = Workspace.at(tmp_path / "ws")
    ws.ensure()
    staging = tmp_path / "staging"
    staging.mkdir()
    good = [corpus_for_poison.variant(i, 1, staging) for i in range(4)]
    poison = {
        name: corpus.shared_strings_copy(good[0], staging, attributes, name)
        for name, (attributes, _) in POISON.items()
    }
    hang = corpus_for_poison.variant(0, 7, staging, "hang.xlsx")  # a good return, other bytes
    everything = [*poison.items(), ("hang.xlsx", hang)]
    digests = {name: sha256(path) for name, path in everything}
    settings = fast_settings(ws.root, limits=LIMITS)
    with worker.using(check=hostile.sleep_if_named), running(settings, registry) as svc:
        for name, path in everything:
            os.rename(path, ws.inbox / name)  # each poison file beside a good return
        for path in good[:3]:
            os.rename(path, ws.inbox / path.name)
        svc.wait_reports(len(poison) + 4)
        assert svc.watcher.stopping is False
        # still running, and still reading: a return dropped after them all is accepted
        os.rename(good[3], ws.inbox / good[3].name)
        svc.wait_reports(len(poison) + 5)
    statuses = {r.file: (r.status, [i.code for i in r.errors]) for r in svc.reports}
    for path in good:
        assert statuses[path.name][0] == "accepted", statuses
        assert (ws.archive / path.name).is_file()
    for name, (_, code) in POISON.items():
        assert statuses[name] == ("rejected", [code])
        assert_rejected_unchanged(ws, name, digests[name])
    assert statuses["hang.xlsx"] == ("rejected", ["reader-timeout"])
    assert_rejected_unchanged(ws, "hang.xlsx", digests["hang.xlsx"])
    assert list(ws.inbox.iterdir()) == []
    assert files_under(ws.processing) == []
    assert svc.stats.accepted == 4 and svc.stats.rejected == len(poison) + 1


@pytest.fixture(scope="module")
def corpus_for_poison(spr: Framework, tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return Corpus(spr, tmp_path_factory.mktemp("poison-corpus"))


WATCH_SCRIPT = """
import sys
from sheet_tools.intake import worker
from sheet_tools.service.config import load_watch_settings
from sheet_tools.definitions.frameworks import load_registry
from sheet_tools.service.watch import run_watch, service_logging, workspace_for
from tests.support import hostile

settings = load_watch_settings({"workspace": sys.argv[1], "once": sys.argv[2] == "once"})
with service_logging(workspace_for(settings).log_file), worker.using(check=hostile.sleep_if_named):
    run_watch(settings, load_registry())
"""


def start(root: Path, counter: Path, *, once: bool) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        hostile.COUNTER: str(counter),
        "SHEET_TOOLS_STABLE_SECONDS": "0.1",
        "SHEET_TOOLS_LIMIT_TIMEOUT_SECONDS": "600",  # only the kill stops the hung worker
    }
    return subprocess.Popen(
        [sys.executable, "-c", WATCH_SCRIPT, str(root), "once" if once else "watch"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def reads(counter: Path) -> list[str]:
    return counter.read_text(encoding="utf-8").splitlines() if counter.exists() else []


def test_a_file_the_service_died_reading_twice_is_set_aside_unread(
    corpus_for_poison: Corpus, tmp_path: Path
) -> None:
    """kill -9 of the whole watcher while the worker holds the file, twice: the first stop
    may have been nobody's fault, so the file is read once more; after the second the next
    start rejects it without reading it, and files the good return."""
    ws = Workspace.at(tmp_path / "ws")
    ws.ensure()
    counter = tmp_path / "reads.txt"
    good = corpus_for_poison.variant(5, 2, tmp_path)
    hang = corpus_for_poison.variant(5, 3, tmp_path, "hang.xlsx")
    digest = sha256(hang)
    os.rename(hang, ws.inbox / "hang.xlsx")
    for expected_reads in (1, 2):
        watcher = start(ws.root, counter, once=False)
        try:
            wait_for(
                lambda n=expected_reads, w=watcher: (
                    len(reads(counter)) >= n or w.poll() is not None
                ),
                "the worker to hold the file",
            )
            assert watcher.poll() is None, watcher.communicate()[1][-2000:]
        finally:
            watcher.send_signal(signal.SIGKILL)
            watcher.communicate(timeout=DEADLINE)
        assert reads(counter) == ["hang.xlsx"] * expected_reads
    os.rename(good, ws.inbox / good.name)
    final = start(ws.root, counter, once=True)
    _, err = final.communicate(timeout=DEADLINE)
    assert final.returncode == 0, err[-3000:]
    assert reads(counter) == ["hang.xlsx"] * 2  # not read a third time
    assert (ws.archive / good.name).is_file()
    filed = ws.rejected / "hang.xlsx"
    assert sha256(filed) == digest
    text = codes(filed)
    assert "stopped 2 times while reading this workbook" in text
    assert "Save As > Excel Workbook (.xlsx)" in text
    assert list(ws.inbox.iterdir()) == []
    assert files_under(ws.processing) == []
    assert list((ws.temp / "attempts").iterdir()) == []
