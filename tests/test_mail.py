"""Mail back to schools, against a real SMTP server on 127.0.0.1 (aiosmtpd): a receipt, a
rejection with its annotated copy, a duplicate; STARTTLS with a self-signed certificate and AUTH;
a refused recipient; a server down then up; never an address typed in a return, never an extra
header from a school's name; and the ``.eml`` default. Driven through the CLI where a user would."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from openpyxl import load_workbook

from sheet_tools.base.clock import uk_time, utc_now
from sheet_tools.definitions import cell_layout
from sheet_tools.mail.sender import send_due
from sheet_tools.mail.settings import MailSettings
from sheet_tools.service.config import load_mail_settings
from sheet_tools.store.facade import Addressee

from .support.smtp import Mailbox, free_port, self_signed, start_server
from .support.trust import SPR, Trust, run, table_rows

AUTUMN = "Autumn 2026"
TRUST = "Oak Trust"
ROWS = [
    ("Oakfield Primary", "140101", TRUST, "office@oakfield.example.org"),
    ("Ash Grove", "140102", TRUST, "admin@ashgrove.example.org"),
    ("Birch Lane", "140103", TRUST, ""),
]
TYPED = "head@attacker.example.net"


def issue_all(trust: Trust) -> dict[str, Path]:
    """Each roster school's workbook, generated into the workspace (so recorded as issued)."""
    return trust.issue_roster(SPR, ["school", "urn", "trust", "email"], ROWS, AUTUMN)


def configure(trust: Trust, lines: str) -> None:
    path = trust.root / "sheet-tools.toml"
    before = path.read_text(encoding="utf-8") if path.is_file() else ""
    path.write_text(before + "\n[mail]\n" + lines + "\n", encoding="utf-8")


def plain(port: int) -> str:
    return (
        f'smtp_host = "127.0.0.1"\nsmtp_port = {port}\nsecurity = "none"\n'
        'sender = "SEND reviews <send@trust.example.org>"\nreply_to = "team@trust.example.org"'
    )


def status(trust: Trust) -> list[dict]:
    output = run("mail", "status", "--workspace", str(trust.root), "--json")
    return [json.loads(line) for line in output.splitlines()]


def test_receipt_rejection_and_duplicate_reach_the_roster_contact_only(
    trust: Trust, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    configure(trust, plain(port))
    books = issue_all(trust)
    # an accepted return with a typed address (a query), a rejected one, then a copy of the first
    typed = {"personnel": f"Head {TYPED}", "urn": 140199}  # another URN typed: a query
    accepted = trust.fill(books["Oakfield Primary"], SPR, cover=typed)
    rejected = trust.fill(books["Ash Grove"], SPR, cover={"review_date": "next Tuesday"})
    reports = trust.ingest(accepted, rejected)
    assert [r["status"] for r in reports] == ["accepted", "rejected"]
    copy = trust.filled / "copy of oakfield.xlsx"
    copy.write_bytes(accepted.read_bytes())
    assert trust.ingest(copy)[0]["status"] == "duplicate"
    # queued with the returns, in the same transaction: nothing is sent until asked
    assert [m["status"] for m in status(trust)] == ["queued"] * 3
    assert box.received == []

    output = run("mail", "send", "--workspace", str(trust.root))
    assert "3 sent" in output
    assert len(box.received) == 3
    assert all(r.mail_from == "send@trust.example.org" for r in box.received)
    rcpts = [r.rcpt_tos for r in box.received]
    assert rcpts == [[ROWS[0][3]], [ROWS[1][3]], [ROWS[0][3]]]
    assert not any(TYPED in r.content.decode("utf-8", "replace").split("\n\n", 1)[0]
                   for r in box.received)  # fmt: skip

    receipt, rejection, duplicate = (r.message() for r in box.received)
    with trust.store() as store:
        arrived = {e.file_name: e.arrived_at for e in store.events()}
        ids = {m.kind: m.message_id for m in store.mail.select()}
    body = receipt.get_content()
    assert receipt["To"].addresses[0].addr_spec == ROWS[0][3]
    assert receipt["Reply-To"] == "team@trust.example.org"
    assert receipt["Message-ID"] == ids["receipt"]
    assert accepted.name in receipt["Subject"] and AUTUMN in body
    assert trust.registry.latest(SPR).title in body
    assert uk_time(arrived[accepted.name]) in body
    # the typed address is a query listed with its sheet and cell, never a recipient
    assert "1. Sheet 'Cover', cell C" in body and "What to check:" in body
    assert "The URN typed, 140199" in body

    assert rejection["Message-ID"] == ids["rejection"]
    text = rejection.get_body(("plain",)).get_content()
    assert "could not accept" in text and "annotated" in text
    [attachment] = list(rejection.iter_attachments())
    assert attachment.get_filename().endswith(".annotated.xlsx")
    annotated = load_workbook(io.BytesIO(attachment.get_content()))
    filed = trust.root / "rejected" / attachment.get_filename()
    assert attachment.get_content() == filed.read_bytes()
    assert cell_layout.ABOUT_SHEET in annotated.sheetnames

    first = uk_time(arrived[accepted.name])
    assert f"already received on {first}" in duplicate.get_content().replace("\n", " ")
    # sent once: another send has nothing to do
    assert "0 sent" in run("mail", "send", "--workspace", str(trust.root))
    assert len(box.received) == 3
    assert [m["status"] for m in status(trust)] == ["sent"] * 3


def test_no_address_and_not_issued_are_listed_and_sent_nothing(
    trust: Trust, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    configure(trust, plain(port))
    books = issue_all(trust)
    elsewhere = trust.issue(SPR, "Oakfield Primary", urn="140101", trust=TRUST)  # no workspace
    trust.ingest(trust.fill(books["Birch Lane"], SPR), trust.fill(elsewhere, SPR, seed=2))
    run("mail", "send", "--workspace", str(trust.root))
    assert box.received == []
    rows = status(trust)
    assert [(m["status"], m["reason"]) for m in rows] == [
        ("not-told", "no e-mail address on the roster"),
        ("not-told", "not issued by sheet-tools"),
    ]
    listing = run("mail", "status", "--workspace", str(trust.root))
    assert "not issued by sheet-tools" in listing and "Birch Lane -> nobody" in listing


def test_a_refused_recipient_is_failed_with_the_reply_and_can_be_retried(
    trust: Trust, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    box.refuse.add(ROWS[0][3])
    configure(trust, plain(port))
    books = issue_all(trust)
    trust.ingest(trust.fill(books["Oakfield Primary"], SPR))
    run("mail", "send", "--workspace", str(trust.root))
    [row] = status(trust)
    assert row["status"] == "failed" and "550" in row["reason"]
    assert "No such mailbox" in row["reason"]
    box.refuse.clear()
    assert "again" in run("mail", "retry", str(row["id"]), "--workspace", str(trust.root))
    run("mail", "send", "--workspace", str(trust.root))
    [again] = status(trust)
    assert again["status"] == "sent" and again["message_id"] == row["message_id"]
    assert len(box.received) == 1
    assert box.received[0].message()["Message-ID"] == row["message_id"]


def test_server_down_then_up_sends_once(trust: Trust, tmp_path: Path) -> None:
    port = free_port()  # nothing listens yet
    configure(trust, plain(port))
    books = issue_all(trust)
    trust.ingest(trust.fill(books["Oakfield Primary"], SPR))
    assert "1 to try again later" in run("mail", "send", "--workspace", str(trust.root))
    [row] = status(trust)
    assert row["status"] == "queued" and row["attempts"] == 1 and row["reason"]
    box = Mailbox()
    controller = start_server(box, port)
    try:
        settings = MailSettings(smtp_host="127.0.0.1", smtp_port=port, security="none")
        with trust.store() as store:
            # not due yet: the back-off holds it
            assert send_due(store, trust.root, settings).sent == 0
            later = utc_now() + timedelta(hours=2)
            assert send_due(store, trust.root, settings, now=later).sent == 1
            assert send_due(store, trust.root, settings, now=later).sent == 0
    finally:
        controller.stop()
    assert len(box.received) == 1
    assert status(trust)[0]["status"] == "sent"


def test_starttls_with_a_self_signed_certificate_and_auth(
    trust: Trust, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert = self_signed(tmp_path)
    box, port = Mailbox(), free_port()
    controller = start_server(box, port, cert=cert, login=("sender@trust.example.org", "s3cret"))
    try:
        books = issue_all(trust)
        trust.ingest(trust.fill(books["Oakfield Primary"], SPR))
        common = f'smtp_host = "127.0.0.1"\nsmtp_port = {port}\nsecurity = "starttls"\n'
        common += 'username = "sender@trust.example.org"\npassword_env = "TEST_SMTP_PASSWORD"'
        monkeypatch.setenv("TEST_SMTP_PASSWORD", "s3cret")
        # without the test CA the certificate is not trusted: nothing is sent, it waits
        configure(trust, common)
        assert "1 to try again later" in run("mail", "send", "--workspace", str(trust.root))
        assert "certificate" in status(trust)[0]["reason"].lower()
        assert box.received == []
        config = trust.root / "sheet-tools.toml"
        config.write_text(
            config.read_text(encoding="utf-8") + f'ca_file = "{cert[0].as_posix()}"\n',
            encoding="utf-8",
        )
        with trust.store() as store:
            later = utc_now() + timedelta(hours=2)
            settings = load_mail_settings(trust.root)
            assert send_due(store, trust.root, settings, now=later).sent == 1
        # a wrong password is not accepted by the server
        monkeypatch.setenv("TEST_SMTP_PASSWORD", "wrong")
        with trust.store() as store:
            store.mail.add([Addressee(recipient=ROWS[1][3], school="Ash Grove", kind="reminder")])
            result = send_due(store, trust.root, settings)
            assert (result.sent, result.postponed) == (0, 1)
    finally:
        controller.stop()
    assert len(box.received) == 1 and box.received[0].rcpt_tos == [ROWS[0][3]]


def test_a_line_break_in_a_school_name_adds_no_header(
    trust: Trust, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    hostile = "Oakfield\r\nBcc: x@example.org"
    with trust.store() as store:
        store.mail.add([Addressee(recipient=ROWS[0][3], school=hostile, kind="reminder",
                                  round=AUTUMN, payload={"framework": "SPR"})])  # fmt: skip
        settings = MailSettings(smtp_host="127.0.0.1", smtp_port=port, security="none")
        assert send_due(store, trust.root, settings).sent == 1
    [received] = box.received
    assert received.rcpt_tos == [ROWS[0][3]]
    message = received.message()
    assert message["Bcc"] is None
    assert "x@example.org" not in [a.addr_spec for a in message["To"].addresses]
    assert not any(line.lower().startswith(b"bcc:") for line in received.content.splitlines())


def test_plain_smtp_is_refused_unless_the_server_is_on_this_machine() -> None:
    with pytest.raises(ValueError, match="localhost"):
        MailSettings(smtp_host="mail.trust.example", security="none")
    assert MailSettings(smtp_host="::1", security="none").security == "none"


def test_without_a_server_each_message_is_an_eml_file(trust: Trust) -> None:
    books = issue_all(trust)
    trust.ingest(trust.fill(books["Ash Grove"], SPR))
    output = run("mail", "send", "--workspace", str(trust.root))
    [written] = sorted((trust.root / "mail").glob("*.eml"))
    assert str(written) in output
    message = message_from_bytes(written.read_bytes(), policy=policy.default)
    assert message["To"].addresses[0].addr_spec == ROWS[1][3]
    assert "Received:" in message.get_content()
    # prune keeps what is recent, then forgets it all with --days 0
    assert "deleted 0" in run("mail", "prune", "--days", "30", "--workspace", str(trust.root))
    assert written.exists()
    output = run("mail", "prune", "--days", "0", "--workspace", str(trust.root))
    assert "Forgot 1 message(s); deleted 1" in output
    assert not written.exists() and status(trust) == []


def test_the_trust_returns_log_says_whether_each_school_was_told(
    trust: Trust, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    box.refuse.add(ROWS[1][3])
    configure(trust, plain(port))
    books = issue_all(trust)
    trust.ingest(
        trust.fill(books["Oakfield Primary"], SPR),
        trust.fill(books["Ash Grove"], SPR, cover={"review_date": "next Tuesday"}),
        trust.fill(books["Birch Lane"], SPR, seed=2),
    )
    run("mail", "send", "--workspace", str(trust.root))
    trust.summarise()
    [summary] = (trust.root / "outbox").rglob("*trust summary.xlsx")
    header, *rows = table_rows(summary, "Returns log")
    told_at = header.index("Told")
    told = {row[0]: row[told_at] for row in rows if row[2]}
    assert told["Oakfield Primary"] == "Sent"
    assert told["Ash Grove"].startswith("Failed: ") and "550" in told["Ash Grove"]
    assert told["Birch Lane"] == "Not told: no e-mail address on the roster"
