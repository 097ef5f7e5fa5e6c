"""``sheet-tools mail remind`` against a real SMTP server on 127.0.0.1 (aiosmtpd): only schools
with no accepted return in the round are reminded, each at most once per interval; each trust
contact's digest lists exactly its outstanding schools; ``--dry-run`` queues and sends nothing;
and the watcher's sender queues due reminders itself when ``remind_round`` is set."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

from sheet_tools.base.clock import utc_now
from sheet_tools.definitions.roster import workspace_roster
from sheet_tools.mail.reminders import plan_reminders, queue_reminders
from sheet_tools.mail.sender import BackgroundSender, send_due
from sheet_tools.mail.settings import MailSettings
from sheet_tools.store.facade import Store

from .support.smtp import Mailbox
from .support.trust import SPR, Trust, run

AUTUMN = "Autumn 2026"
OAK, ELM = "Oak Trust", "Elm Trust"
OAK_CONTACT, ELM_CONTACT = "send-lead@oak.example.org", "send-lead@elm.example.org"
# school, urn, trust, email, trust_email
ROWS = [
    ("Oakfield Primary", "140101", OAK, "office@oakfield.example.org", OAK_CONTACT),
    ("Ash Grove", "140102", OAK, "admin@ashgrove.example.org", OAK_CONTACT),
    ("Birch Lane", "140103", OAK, "", OAK_CONTACT),
    ("Elm Primary", "140201", ELM, "office@elm.example.org", ELM_CONTACT),
]
COLUMNS = ["school", "urn", "trust", "email", "trust_email"]


def issue_all(trust: Trust) -> dict[str, Path]:
    """Every roster school's workbook, generated into the workspace (so recorded as issued)."""
    return trust.issue_roster(SPR, COLUMNS, ROWS, AUTUMN)


def configure(trust: Trust, port: int) -> None:
    (trust.root / "sheet-tools.toml").write_text(
        f'[mail]\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\nsecurity = "none"\n'
        'sender = "SEND reviews <send@trust.example.org>"\n',
        encoding="utf-8",
    )


def kinds(trust: Trust, kind: str) -> list[dict]:
    output = run("mail", "status", "--workspace", str(trust.root), "--json")
    rows = [json.loads(line) for line in output.splitlines()]
    return [row for row in rows if row["kind"] == kind]


def listed_schools(body: str) -> set[str]:
    """The schools a digest lists, one per "- Name (URN n): ..." line."""
    return set(re.findall(r"^- (.+?) \(URN \d+\)", body, flags=re.MULTILINE))


def test_only_outstanding_schools_once_per_interval_with_a_digest_per_trust_contact(
    trust: Trust, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    configure(trust, port)
    books = issue_all(trust)
    # Oakfield returns and is accepted; Ash Grove's return is rejected, so it still owes one
    accepted = trust.fill(books["Oakfield Primary"], SPR)
    rejected = trust.fill(books["Ash Grove"], SPR, cover={"review_date": "next Tuesday"})
    assert [r["status"] for r in trust.ingest(accepted, rejected)] == ["accepted", "rejected"]
    run("mail", "send", "--workspace", str(trust.root))
    assert len(box.received) == 2  # the receipt and the rejection

    dry = run("mail", "remind", "--round", AUTUMN, "--dry-run", "--workspace", str(trust.root))
    assert "3 school return(s) outstanding" in dry and "nothing was queued or sent" in dry
    assert "Oakfield" not in dry
    assert "Birch Lane: " in dry and "nobody (no e-mail address on the roster)" in dry
    assert f"-> {OAK_CONTACT}" in dry and f"-> {ELM_CONTACT}" in dry
    assert len(box.received) == 2 and kinds(trust, "reminder") == []

    output = run("mail", "remind", "--round", AUTUMN, "--workspace", str(trust.root))
    assert "4 sent" in output  # two reminders, two digests; Birch Lane has no address
    new = box.received[2:]
    reminders = [r for r in new if "Reminder:" in r.message()["Subject"]]
    assert sorted(r.rcpt_tos[0] for r in reminders) == sorted([ROWS[1][3], ROWS[3][3]])
    for received in reminders:
        assert AUTUMN in received.message().get_content()
    digests = {r.rcpt_tos[0]: r.message() for r in new if "Outstanding" in r.message()["Subject"]}
    assert set(digests) == {OAK_CONTACT, ELM_CONTACT}
    assert listed_schools(digests[OAK_CONTACT].get_content()) == {"Ash Grove", "Birch Lane"}
    assert listed_schools(digests[ELM_CONTACT].get_content()) == {"Elm Primary"}
    assert "not reminded: no e-mail address" in digests[OAK_CONTACT].get_content()
    assert [row["status"] for row in kinds(trust, "reminder")] == ["sent", "not-told", "sent"]

    # again at once: within the interval nobody is reminded twice
    again = run("mail", "remind", "--round", AUTUMN, "--workspace", str(trust.root))
    assert "0 sent" in again and again.count("waiting") == 3
    assert len(box.received) == 6
    # pruning everything sent keeps the reminders for their interval
    run("mail", "prune", "--days", "0", "--workspace", str(trust.root))
    assert len(kinds(trust, "reminder")) == 3

    # Elm Primary returns; a week later the others are reminded again, and Elm is not
    trust.ingest(trust.fill(books["Elm Primary"], SPR, seed=3))
    settings = MailSettings(smtp_host="127.0.0.1", smtp_port=port, security="none")
    later = utc_now() + timedelta(days=7, minutes=1)
    with trust.store() as store:
        roster = workspace_roster(trust.root)
        plan = plan_reminders(store, trust.registry, roster, AUTUMN, settings, now=later)
        assert [a.school for a in plan.reminders] == ["Ash Grove", "Birch Lane"]
        assert [a.recipient for a in plan.digests] == [OAK_CONTACT]
        soon = utc_now() + timedelta(days=6)
        assert (
            plan_reminders(store, trust.registry, roster, AUTUMN, settings, now=soon).messages == []
        )


def test_without_issued_workbooks_each_roster_school_is_reminded(
    trust: Trust, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    configure(trust, port)
    trust.write_roster(COLUMNS, ROWS)
    # a workbook made outside the workspace: nothing is recorded as issued
    book = trust.issue(SPR, "Elm Primary", urn="140201", trust=ELM)
    assert trust.ingest(trust.fill(book, SPR))[0]["status"] == "accepted"
    dry = run("mail", "remind", "--round", AUTUMN, "--dry-run", "--workspace", str(trust.root))
    assert "3 school return(s) outstanding" in dry and "Elm Primary" not in dry
    output = run("mail", "remind", "--round", AUTUMN, "--template", SPR,
                 "--workspace", str(trust.root))  # fmt: skip
    assert "3 sent" in output  # Oakfield, Ash Grove, and Oak Trust's digest
    assert sorted(r.rcpt_tos[0] for r in box.received) == sorted(
        [ROWS[0][3], ROWS[1][3], OAK_CONTACT]
    )


def test_a_round_nobody_owes_anything_says_so(trust: Trust) -> None:
    trust.write_roster(COLUMNS, ROWS)
    from click.testing import CliRunner

    from sheet_tools.cli import main

    result = CliRunner().invoke(
        main, ["mail", "remind", "--round", "Spring 2027", "--workspace", str(trust.root)]
    )
    assert result.exit_code == 2
    assert "nothing was recorded as issued for Spring 2027" in result.output
    assert "--template" in result.output


def test_the_watchers_sender_queues_due_reminders_itself(trust: Trust) -> None:
    issue_all(trust)
    settings = MailSettings(remind_round=AUTUMN)  # no server: .eml files
    roster = workspace_roster(trust.root)
    sender = BackgroundSender(
        trust.root / "sheet-tools.db", trust.root, settings, trust.registry, interval=0.05,
        roster=lambda: roster,
    )  # fmt: skip
    sender.start()
    try:
        deadline = utc_now() + timedelta(seconds=30)
        while utc_now() < deadline and len(list((trust.root / "mail").glob("*.eml"))) < 5:
            sender.wake()
            sender._stop.wait(0.1)
    finally:
        sender.stop()
    names = sorted(p.name for p in (trust.root / "mail").glob("*.eml"))
    assert sum("reminder" in n for n in names) == 3 and sum("digest" in n for n in names) == 2
    # once a day: the reminders were queued once, however often it woke
    assert len(kinds(trust, "reminder")) == 4 and len(kinds(trust, "digest")) == 2
    with trust.store() as store:
        assert send_due(store, trust.root, settings).sent == 0
        plan = plan_reminders(store, trust.registry, roster, AUTUMN, settings)
        assert queue_reminders(store, plan) == 0


def test_two_processes_planning_at_once_remind_nobody_twice(trust: Trust) -> None:
    """``mail remind`` and the watcher's daily check may plan the same round at the same time,
    each on its own connection: what one queued first, the other leaves out."""
    issue_all(trust)
    settings = MailSettings()
    roster = workspace_roster(trust.root)
    database = trust.root / "sheet-tools.db"
    with Store(database) as first, Store(database) as second:
        plans = [
            plan_reminders(store, trust.registry, roster, AUTUMN, settings)
            for store in (first, second)
        ]
        assert [len(p.messages) for p in plans] == [6, 6]  # 4 schools, 2 trust contacts
        assert queue_reminders(first, plans[0]) == 6
        assert queue_reminders(second, plans[1]) == 0
    assert len(kinds(trust, "reminder")) == 4 and len(kinds(trust, "digest")) == 2
