"""``kill -9`` of the watcher between recording a return and sending its message: the message,
queued in the transaction that recorded the return, is sent once after the restart, with the
Message-ID it was given when queued.

The moment is made certain, not guessed: the mail server first is a socket that accepts the
connection and never answers, so the watcher's sender is held inside its first connection when
it is killed; then a real SMTP server (aiosmtpd) takes the port and the watcher is started again.
"""

from __future__ import annotations

import shutil
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

from .support.smtp import Mailbox, free_port, start_server
from .support.trust import SPR, Trust, run
from .support.watching import REPO, fast_env, wait_for

AUTUMN = "Autumn 2026"
CONTACT = "office@oakfield.example.org"


def start(root: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sheet_tools.cli", "watch", "--workspace", str(root)],
        cwd=REPO,
        env=fast_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def mail_rows(database: Path) -> list[tuple[str, str, int]]:
    if not database.exists():
        return []
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as db:
        try:
            return db.execute("SELECT status, message_id, attempts FROM mail").fetchall()
        except sqlite3.OperationalError:  # not made yet
            return []


def test_kill_9_between_recording_and_sending_sends_once_after_restart(trust: Trust) -> None:
    (trust.root / "roster.csv").write_text(
        f"school,urn,trust,email\nOakfield Primary,140101,Oak Trust,{CONTACT}\n", encoding="utf-8"
    )
    out = trust.root / "issued-now"
    run("generate", SPR, "--roster", str(trust.root / "roster.csv"), "--round", AUTUMN,
        "--workspace", str(trust.root), "--out", str(out))  # fmt: skip
    [book] = out.glob("*.xlsx")
    filled = trust.fill(book, SPR)
    port = free_port()
    (trust.root / "sheet-tools.toml").write_text(
        f'[mail]\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\nsecurity = "none"\n'
        "timeout_seconds = 600\n",
        encoding="utf-8",
    )
    database = trust.root / "sheet-tools.db"

    silent = socket.create_server(("127.0.0.1", port))
    silent.settimeout(120)
    watcher = start(trust.root)
    try:
        shutil.copy(filled, trust.root / "inbox" / filled.name)
        wait_for(lambda: mail_rows(database), "the return to be recorded with its message")
        held, _ = silent.accept()  # the sender is inside its first connection, waiting
        [(status, message_id, attempts)] = mail_rows(database)
        assert (status, attempts) == ("queued", 0)
        watcher.kill()  # SIGKILL: no clean-up of any kind
        watcher.wait(60)
    finally:
        if watcher.poll() is None:
            watcher.kill()
        silent.close()
    held.close()
    assert [path.name for path in (trust.root / "archive").rglob("*.xlsx")] == [filled.name]

    box = Mailbox()
    controller = start_server(box, port)
    again = start(trust.root)
    try:
        wait_for(lambda: [r[0] for r in mail_rows(database)] == ["sent"], "the message sent")
        again.terminate()
        again.wait(60)
    finally:
        if again.poll() is None:
            again.kill()
        controller.stop()
    [received] = box.received
    assert received.rcpt_tos == [CONTACT]
    assert received.message()["Message-ID"] == message_id
    assert mail_rows(database) == [("sent", message_id, 1)]
