"""A follow-up visit of the SEND Diagnostic Review is known by its visit date, and what happened
to each visit's return is said where people read it: the watcher's log line and the school's
receipt say whether it was a new visit or corrected the visit of its date."""

from __future__ import annotations

import json
import logging
import shutil
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner

from sheet_tools.cli import main

from .support.trust import AUTUMN, Trust, run

VISIT = "send-review-follow-up"
OAK = ("Oakfield Primary", "140101", "Oak Trust", "office@oakfield.example.org")


def _watch_once(trust: Trust, path: Path) -> dict:
    """Drop one file into the inbox and let the watcher take it, as the service does."""
    shutil.copyfile(path, trust.root / "inbox" / path.name)
    result = CliRunner().invoke(
        main,
        ["watch", "--workspace", str(trust.root), "--once", "--json"],
        env={"SHEET_TOOLS_STABLE_SECONDS": "0.2", "SHEET_TOOLS_INCOMPLETE_SECONDS": "2"},
    )
    assert result.exit_code == 0, result.output
    [report] = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return report


def _receipts(trust: Trust) -> list[EmailMessage]:
    """The receipts the watcher sent, oldest first: .eml files, as no SMTP server is set."""
    output = run("mail", "status", "--workspace", str(trust.root))
    assert output.count(" sent ") == 3, output
    files = sorted((trust.root / "mail").rglob("*.eml"))  # numbered in the order queued
    messages = [message_from_bytes(p.read_bytes(), policy=policy.default) for p in files]
    return [m for m in messages if isinstance(m, EmailMessage)]


def test_a_reused_follow_up_workbook_says_new_visit_or_correction(
    trust: Trust, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sheet_tools")
    books = trust.issue_roster(VISIT, ["school", "urn", "trust", "email"], [OAK], AUTUMN)
    book = books[OAK[0]]
    # the 3 December visit, then the same workbook re-used for 5 December, then 5 December again
    # with its summary corrected
    filled = [
        trust.fill(book, VISIT, texts={"V.summary": summary}, cover={"review_date": day})
        for day, summary in (
            (date(2026, 12, 3), "First visit."),
            (date(2026, 12, 5), "Second visit."),
            (date(2026, 12, 5), "Second visit, corrected."),
        )
    ]
    reports = [_watch_once(trust, path) for path in filled]
    assert [(r["status"], r["visit"]) for r in reports] == [
        ("accepted", "new"),
        ("accepted", "new"),
        ("accepted", "corrects"),
    ]

    logged = [m for m in caplog.messages if m.startswith("accepted ")]
    assert len(logged) == 3, caplog.messages
    for line, path in zip(logged, filled, strict=True):
        assert path.name in line
    # dates as a person reads them, never ISO
    assert logged[0].endswith(", a new visit on 03/12/2026"), logged[0]
    assert logged[1].endswith(", a new visit on 05/12/2026"), logged[1]
    assert logged[2].endswith(", corrects the visit of 05/12/2026"), logged[2]
    assert not any("2026-12-0" in line for line in logged)

    receipts = _receipts(trust)
    assert [m["To"].addresses[0].addr_spec for m in receipts] == [OAK[3]] * 3
    bodies = [m.get_content() for m in receipts]
    for body, path in zip(bodies, filled, strict=True):
        assert f"File:      {path.name}" in body
    assert "Visit:     a new visit on 03/12/2026\n" in bodies[0]
    assert "Visit:     a new visit on 05/12/2026\n" in bodies[1]
    assert "Visit:     corrects the visit of 05/12/2026 (" in bodies[2]
    assert not any("corrects" in body for body in bodies[:2])

    # and the store keeps the two visits, the correction in place of the first 5 December return
    with trust.store() as store:
        live = store.returns(VISIT)
    assert sorted((r.review_date, r.texts.get("V.summary")) for r in live) == [
        (date(2026, 12, 3), "First visit."),
        (date(2026, 12, 5), "Second visit, corrected."),
    ]


def test_ingest_says_which_visit_and_nothing_of_visits_for_a_report(trust: Trust) -> None:
    visit = trust.issue(VISIT, *OAK[:3])
    first = trust.fill(visit, VISIT, cover={"review_date": date(2026, 12, 3)})
    again = trust.fill(visit, VISIT, seed=2, cover={"review_date": date(2026, 12, 3)})
    lines = [
        run("ingest", str(path), "--workspace", str(trust.root)).strip() for path in (first, again)
    ]
    assert lines[0].startswith("accepted") and lines[0].endswith(" a new visit on 03/12/2026")
    assert lines[1].endswith(" corrects the visit of 03/12/2026"), lines[1]
    book = trust.issue("send-review-report", *OAK[:3])
    [report] = trust.ingest(trust.fill(book, "send-review-report"))
    assert report["status"] == "accepted"
    assert report["visit"] is None
