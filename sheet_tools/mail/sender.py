"""Sending what the store has queued: over SMTP (STARTTLS or SSL, certificates always verified,
AUTH with the password from the environment) or, with no ``smtp_host``, as ``.eml`` files under
the workspace's ``mail/`` folder.

Each message is sent, then marked; a crash in between sends it again with the same Message-ID,
the one repeat the design allows. A temporary failure (a 4xx reply, a refused connection, a
timeout) is retried with back-off; a permanent one (5xx) is marked failed with the server's reply.
``BackgroundSender`` does this inside the watcher on its own thread and database connection, so a
slow or dead server delays mail, never returns.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from ..base.clock import utc_now
from ..base.files import safe_filename, write_bytes_atomically
from ..definitions.frameworks import Registry
from ..definitions.roster import School
from ..store.facade import QueuedMail, Store
from .compose import ComposeError, Outgoing, compose
from .reminders import ReminderError, plan_reminders, queue_reminders
from .settings import MailSettings

logger = logging.getLogger(__name__)
MAIL_FOLDER = "mail"
_MAX_DELAY = timedelta(hours=1)
_REMIND_CHECK = timedelta(days=1)


class TemporaryFailure(Exception):
    """Worth trying again later."""


class PermanentFailure(Exception):
    """The server refused the message for good; the text is its reply."""


@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0
    postponed: int = 0
    written: list[Path] = field(default_factory=list)


class EmlTransport:
    """The default: each message an ``.eml`` file any mail program opens."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.written: list[Path] = []

    def send(self, row: QueuedMail, outgoing: Outgoing) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = safe_filename(f"{row.id:06d} {row.kind} {row.school or 'school'}", ".eml")
        target = write_bytes_atomically(outgoing.message.as_bytes(), self.folder / name)
        self.written.append(target)

    def close(self) -> None:
        return None


class SmtpTransport:
    """One connection for a batch, opened at the first message."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self._client: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context()
        if s.ca_file:
            context.load_verify_locations(cafile=str(s.ca_file))
        try:
            if s.security == "ssl":
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.smtp_host, s.smtp_port, timeout=s.timeout_seconds, context=context
                )
            else:
                client = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.timeout_seconds)
                if s.security == "starttls":
                    client.starttls(context=context)
            if s.username:
                password = os.environ.get(s.password_env)
                if not password:
                    client.close()
                    raise TemporaryFailure(
                        f"the SMTP password is not set (environment variable {s.password_env})"
                    )
                client.login(s.username, password)
        except smtplib.SMTPResponseException as exc:
            reply = f"{exc.smtp_code} {_text(exc.smtp_error)}"
            raise TemporaryFailure(f"the server said {reply}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"cannot reach {s.smtp_host}:{s.smtp_port}: {exc}") from None
        return client

    def send(self, row: QueuedMail, outgoing: Outgoing) -> None:
        if self._client is None:
            self._client = self._connect()
        try:
            self._client.send_message(outgoing.message, to_addrs=[outgoing.recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise _failure(code, f"{outgoing.recipient} refused: {code} {_text(reply)}") from None
        except smtplib.SMTPResponseException as exc:
            self.close()
            raise _failure(exc.smtp_code, f"{exc.smtp_code} {_text(exc.smtp_error)}") from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise TemporaryFailure(f"the connection failed: {exc}") from None

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()


def transport_for(settings: MailSettings, root: Path) -> EmlTransport | SmtpTransport:
    if settings.smtp_host:
        return SmtpTransport(settings)
    return EmlTransport(root / MAIL_FOLDER)


def send_due(
    store: Store,
    root: Path,
    settings: MailSettings,
    registry: Registry | None = None,
    *,
    now: datetime | None = None,
    transport: EmlTransport | SmtpTransport | None = None,
) -> SendResult:
    """Send every queued message whose time has come and mark each; never raises for mail."""
    result = SendResult()
    carrier = transport or transport_for(settings, root)
    try:
        for row in store.mail.due(now):
            event = store.event(row.event_id) if row.event_id is not None else None
            try:
                outgoing = compose(row, event, root, settings, registry)
                carrier.send(row, outgoing)
            except (ComposeError, PermanentFailure) as exc:
                store.mail.mark_failed(row.id, str(exc))
                result.failed += 1
                continue
            except (TemporaryFailure, OSError) as exc:
                if row.attempts + 1 >= settings.max_attempts:
                    store.mail.mark_failed(row.id, f"gave up after {row.attempts + 1} tries: {exc}")
                    result.failed += 1
                else:
                    store.mail.postpone(row.id, str(exc), _delay(row.attempts))
                    result.postponed += 1
                if isinstance(carrier, SmtpTransport) and carrier._client is None:
                    break  # the server is unreachable: the rest wait for the next round
                continue
            store.mail.mark_sent(row.id)
            result.sent += 1
    finally:
        carrier.close()
    if isinstance(carrier, EmlTransport):
        result.written = carrier.written
    return result


def _delay(attempts: int) -> timedelta:
    return min(timedelta(minutes=2**attempts), _MAX_DELAY)


def _failure(code: int, reason: str) -> Exception:
    return PermanentFailure(reason) if code >= 500 else TemporaryFailure(reason)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


class BackgroundSender:
    """The watcher's sender: every ``interval`` seconds, ``send_due`` on its own connection."""

    def __init__(
        self,
        database: Path,
        root: Path,
        settings: MailSettings,
        registry: Registry | None = None,
        interval: float = 30.0,
        roster: Callable[[], Sequence[School] | None] | None = None,
    ) -> None:
        self._args = (database, root, settings, registry)
        self.interval = interval
        self._roster = roster
        self._reminded_at: datetime | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sheet-tools-mail", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        """Send soon (a return was just recorded)."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        database, root, settings, registry = self._args
        with Store(database) as store:
            while not self._stop.is_set():
                try:
                    self._remind(store)
                except Exception:  # a reminder that cannot be worked out never stops receipts
                    logger.exception("working out reminders failed; trying again tomorrow")
                try:
                    send_due(store, root, settings, registry)
                except Exception:  # mail must never stop the service
                    logger.exception("sending mail failed; trying again later")
                self._wake.wait(self.interval)
                self._wake.clear()

    def _remind(self, store: Store) -> None:
        """With ``remind_round`` set, queue the reminders due, once a day (the interval of each
        school's reminder is kept in the store, so a restart repeats nobody's)."""
        _, _, settings, registry = self._args
        now = utc_now()
        if not settings.remind_round or registry is None:
            return
        if self._reminded_at is not None and now - self._reminded_at < _REMIND_CHECK:
            return
        self._reminded_at = now
        roster = self._roster() if self._roster is not None else None
        try:
            plan = plan_reminders(store, registry, roster, settings.remind_round, settings)
        except ReminderError as exc:
            logger.warning("no reminders for %s: %s", settings.remind_round, exc)
            return
        if queue_reminders(store, plan):
            logger.info(
                "queued %d reminder(s) and %d digest(s) for %s",
                len(plan.reminders), len(plan.digests), plan.round,
            )  # fmt: skip
