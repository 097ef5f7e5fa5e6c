"""Whole-process ingest with mail on beside mail off: ``sheet-tools ingest`` of a burst of N
distinct returns into a new workspace whose roster gives every school an e-mail address and
whose store records every workbook as issued (so every return is addressed and a message is
queued with it), once with ``[mail]`` pointing at a real SMTP server on 127.0.0.1 (``aiosmtpd``,
started here, plain SMTP as ``security = "none"`` allows on loopback) and once with no
``smtp_host`` (the default: messages become ``.eml`` files when sent), as interleaved runs in
one process-run so the machine's load weighs on both alike. For mail on, ``sheet-tools mail
send`` is then timed on its own, delivering every queued message to the local server.

    python3 benchmarks/bench_mail.py [--count 500] [--pairs 3] [--cache DIR]

The returns are ``bench_ingest``'s (made once and cached). Figures are printed, never asserted;
the target is ingest no more than 10% slower with mail on.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ingest import corpus
from bench_ingest_process import timed_run
from openpyxl import load_workbook
from support.smtp import Mailbox, free_port, start_server

from sheet_tools.base.clock import utc_now
from sheet_tools.definitions import cell_layout
from sheet_tools.store.facade import IssuedWorkbook, Store

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "sheet_tools"]


def issued(path: Path) -> IssuedWorkbook:
    """The workbook as it was issued, from its About sheet (recorded in each new workspace)."""
    book = load_workbook(path, read_only=True)
    try:
        about = book[cell_layout.ABOUT_SHEET]
        held = {row[0]: row[1] for row in about.iter_rows(values_only=True) if row and row[0]}
    finally:
        book.close()
    return IssuedWorkbook(
        issue_id=str(held[cell_layout.KEY_ISSUE_ID]),
        template_id=str(held[cell_layout.KEY_TEMPLATE]),
        template_version=str(held[cell_layout.KEY_VERSION]),
        school=str(held[cell_layout.KEY_SCHOOL]),
        urn=str(held[cell_layout.KEY_URN]),
        trust=str(held[cell_layout.KEY_TRUST]),
        round=str(held[cell_layout.KEY_ROUND]),
        judge=None,
        issued_at=utc_now(),
    )


def workspace(folder: Path, books: list[IssuedWorkbook], port: int | None, env: dict) -> None:
    """A new workspace: roster with addresses, every workbook issued, ``[mail]`` if ``port``."""
    subprocess.run([*CLI, "init", str(folder)], check=True, capture_output=True, env=env)
    with (folder / "roster.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["school", "urn", "trust", "email"])
        for n, book in enumerate(books):
            writer.writerow([book.school, book.urn, book.trust, f"office{n}@school.example.org"])
    with Store(folder / "sheet-tools.db") as store:
        store.record_issued(books)
    if port is not None:
        config = folder / "sheet-tools.toml"
        before = config.read_text(encoding="utf-8") if config.is_file() else ""
        config.write_text(
            before + f'\n[mail]\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\nsecurity = "none"\n'
            'sender = "SEND reviews <send@trust.example.org>"\n',
            encoding="utf-8",
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "sheet-tools")
    args = parser.parse_args()
    paths = corpus(args.count, args.cache)
    books = [issued(path) for path in paths]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    box, port = Mailbox(), free_port()
    server = start_server(box, port)
    runs: dict[str, list[float]] = {"mail off": [], "mail on": []}
    sends: list[float] = []
    try:
        for pair in range(args.pairs):
            # alternate which goes first, so neither always follows the other
            for mode in ("mail off", "mail on") if pair % 2 == 0 else ("mail on", "mail off"):
                with tempfile.TemporaryDirectory(prefix="bench-mail-") as name:
                    folder = Path(name)
                    workspace(folder, books, port if mode == "mail on" else None, env)
                    ingest = [*CLI, "ingest", "--workspace", name, *map(str, paths)]
                    runs[mode].append(timed_run(ingest, env))
                    with Store(folder / "sheet-tools.db") as store:
                        queued = [m for m in store.mail.select() if m.recipient]
                    if len(queued) != len(paths):
                        raise SystemExit(f"{mode}: {len(queued)} of {len(paths)} addressed")
                    if mode == "mail on":
                        before = len(box.received)
                        sends.append(timed_run([*CLI, "mail", "send", "--workspace", name], env))
                        if len(box.received) - before != len(paths):
                            raise SystemExit(f"{len(box.received) - before} messages arrived")
    finally:
        server.stop()
    off, on = statistics.median(runs["mail off"]), statistics.median(runs["mail on"])
    print(f"{len(paths)} returns, every one addressed; {args.pairs} interleaved runs each")
    print("| process | median s | min s | returns/s |")
    print("|---|---:|---:|---:|")
    for label, seconds in runs.items():
        median = statistics.median(seconds)
        print(f"| `sheet-tools ingest`, {label} | {median:.2f} | {min(seconds):.2f} | "
              f"{len(paths) / median:.0f} |")  # fmt: skip
    send = statistics.median(sends)
    print(f"| `sheet-tools mail send` (mail on, to 127.0.0.1) | {send:.2f} | {min(sends):.2f} | "
          f"{len(paths) / send:.0f} |")  # fmt: skip
    print(f"ingest with mail on: {(on / off - 1) * 100:+.1f}% on the median "
          f"({(min(runs['mail on']) / min(runs['mail off']) - 1) * 100:+.1f}% on the minimum); "
          "target: no more than +10%")  # fmt: skip


if __name__ == "__main__":
    main()
