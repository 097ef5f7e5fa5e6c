"""What lies in the inbox that the service must not take: links, pipes, and files it may not
read. Each is reported once where it lies and never filed (a link is never followed into
archive/ or rejected/), through the real watcher and the real ``ingest`` command."""

from __future__ import annotations

import errno
import logging
import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from sheet_tools.base.workspace import Workspace
from sheet_tools.cli import main
from sheet_tools.definitions.frameworks import Framework, Registry
from tests.support.helpers import sha256, workspace
from tests.support.watching import Corpus, drop, fast_settings, filed, running, wait_for

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="pipes and links need POSIX")


@pytest.fixture(scope="module")
def corpus(spr: Framework, tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return Corpus(spr, tmp_path_factory.mktemp("inbox-faults-corpus"))


def _links_under(*folders: Path) -> list[Path]:
    return [p for folder in folders for p in folder.rglob("*") if p.is_symlink()]


def test_links_pipes_and_unreadable_files_are_reported_once_and_left_where_they_lie(
    corpus: Corpus,
    registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    root = workspace(tmp_path / "ws")
    ws = Workspace.at(root)
    outside = tmp_path / "outside"
    outside.mkdir()
    elsewhere = drop(corpus.school_return(1), outside)  # a real return outside the workspace
    secret = outside / "payroll.txt"
    secret.write_text("private", encoding="utf-8")
    (ws.inbox / "return link.xlsx").symlink_to(elsewhere)
    (ws.inbox / "private link.xlsx").symlink_to(secret)
    os.mkfifo(ws.inbox / "pipe.xlsx")
    locked = drop(corpus.school_return(2), ws.inbox, "locked.xlsx")
    good = drop(corpus.school_return(3), ws.inbox)
    expected = sorted([sha256(good), sha256(locked)])

    readable = {"locked": False}
    real_open = Path.open

    def open_refusing(self: Path, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        if self.name == "locked.xlsx" and not readable["locked"]:  # as for the service's account
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "open", open_refusing)
    caplog.set_level(logging.INFO, logger="sheet_tools")
    settings = fast_settings(root, rescan_seconds=0.2)
    with running(settings, registry) as run:
        run.wait_reports(1)
        time.sleep(1.5)  # several rescans pass: the refusals must not be logged again
        assert [r.file for r in run.reports] == [good.name]
        refusals = [r.getMessage() for r in caplog.records if "is not taken" in r.getMessage()]
        for name in ("return link.xlsx", "private link.xlsx", "pipe.xlsx", "locked.xlsx"):
            said = [m for m in refusals if m.startswith(name + " ")]
            assert len(said) == 1, (name, refusals)
        assert "permission denied" in next(m for m in refusals if m.startswith("locked.xlsx"))
        assert "link" in next(m for m in refusals if m.startswith("private link.xlsx"))
        # left where they lie, unclaimed: the links still links, the pipe still a pipe
        assert (ws.inbox / "return link.xlsx").is_symlink()
        assert (ws.inbox / "private link.xlsx").is_symlink()
        assert (ws.inbox / "pipe.xlsx").exists() and locked.exists()
        assert not [p for p in ws.processing.rglob("*.xlsx")]
        readable["locked"] = True  # the administrator gives the service read access
        run.wait_reports(2)
    assert sorted(r.file for r in run.reports) == sorted([good.name, "locked.xlsx"])
    assert all(r.status == "accepted" for r in run.reports)
    assert _links_under(ws.archive, ws.rejected) == []
    assert sorted(filed(ws)) == expected
    assert list(ws.rejected.iterdir()) == []
    assert secret.read_text(encoding="utf-8") == "private" and elsewhere.exists()


def test_a_file_swapped_for_a_link_as_it_is_claimed_goes_back_unclaimed(tmp_path: Path) -> None:
    from sheet_tools.service.claims import Session

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    target = tmp_path / "secret.txt"
    target.write_text("private", encoding="utf-8")
    (inbox / "a.xlsx").symlink_to(target)
    session = Session.open(tmp_path / "processing")
    try:
        assert session.claim(inbox / "a.xlsx") is None
        assert (inbox / "a.xlsx").is_symlink() and session.files() == []
    finally:
        session.close(keep=False)


def test_ingest_reports_links_and_pipes_and_files_nothing(corpus: Corpus, tmp_path: Path) -> None:
    root = workspace(tmp_path / "ws")
    ws = Workspace.at(root)
    secret = tmp_path / "payroll.txt"
    secret.write_text("private", encoding="utf-8")
    link = tmp_path / "link.xlsx"
    link.symlink_to(secret)
    pipe = tmp_path / "pipe.xlsx"
    os.mkfifo(pipe)
    good = drop(corpus.school_return(4), tmp_path)
    digest = sha256(good)
    result = CliRunner().invoke(
        main, ["ingest", str(link), str(pipe), str(good), "--workspace", str(root)]
    )
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert any("link.xlsx" in line and "not an ordinary file" in line for line in lines), lines
    assert any("pipe.xlsx" in line and "not an ordinary file" in line for line in lines), lines
    assert list(filed(ws)) == [digest]
    assert _links_under(ws.archive, ws.rejected) == []
    assert list(ws.rejected.iterdir()) == []
    assert link.is_symlink() and pipe.exists()


def test_a_waiting_file_replaced_by_a_pipe_is_never_opened(tmp_path: Path) -> None:
    from sheet_tools.service.claims import Completeness, completeness

    pipe = tmp_path / "pipe.xlsx"
    os.mkfifo(pipe)
    wait_for(lambda: completeness(pipe) is Completeness.NOT_A_FILE, "the pipe left unopened", 10)
