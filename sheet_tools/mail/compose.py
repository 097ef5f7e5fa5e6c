"""Messages built from a queued row and the event it tells of, in the wording of
``messages.toml``. Headers go through ``email.message.EmailMessage`` and every header text is
made one line first, so a school name holding a line break cannot add a header; a message carries
only its own school's data and its own annotated copy, read from ``rejected/`` at send time."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from functools import cache
from importlib import resources
from pathlib import Path

from ..base.clock import uk_time, utc_now
from ..definitions.frameworks import Registry
from ..problems.render import render_errors_file, short_date, split_location
from ..problems.report import FileReport
from ..store.facade import Event, QueuedMail
from .settings import MailSettings

# Beside a rejected original ``<stem>.xlsx``: ``<stem>.annotated.xlsx`` (as service.ingest files it)
ANNOTATED_SUFFIX = ".annotated.xlsx"
XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


class ComposeError(ValueError):
    """A message that can never be sent as it stands (a malformed address on the roster)."""


@cache
def wording() -> dict[str, dict[str, str]]:
    text = resources.files(__package__).joinpath("messages.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def one_line(text: str | None) -> str:
    """Header text with every line break and control character made a space."""
    return re.sub(r"[\x00-\x1f\x7f\u2028\u2029\x85]+", " ", text or "").strip()


@dataclass(frozen=True)
class Outgoing:
    message: EmailMessage
    recipient: str


def compose(
    row: QueuedMail,
    event: Event | None,
    workspace_root: Path,
    settings: MailSettings,
    registry: Registry | None = None,
) -> Outgoing:
    if not row.recipient:
        raise ComposeError("there is nobody to send it to")
    words = wording()[row.kind]
    values = _values(row, event, registry)
    message = EmailMessage()
    try:
        to = Address(display_name=one_line(row.school), addr_spec=one_line(row.recipient))
    except (ValueError, IndexError) as exc:
        raise ComposeError(f"the address {row.recipient!r} is not an e-mail address") from exc
    message["From"] = one_line(settings.sender)
    message["To"] = to
    if settings.reply_to:
        message["Reply-To"] = one_line(settings.reply_to)
    message["Subject"] = one_line(words["subject"].format(**values))
    message["Date"] = format_datetime(utc_now())
    message["Message-ID"] = row.message_id
    if row.kind == "rejection" and event is not None:
        attachment = _annotated(event, workspace_root)
        values["attachment_note"] = (
            words["attached"].format(name=attachment.name) if attachment else words["not_attached"]
        )
        values["report"] = _rejection_report(event, registry, attachment)
        message.set_content(words["body"].format(**values).lstrip())
        if attachment is not None:
            message.add_attachment(
                attachment.read_bytes(),
                maintype=XLSX_TYPE[0],
                subtype=XLSX_TYPE[1],
                filename=one_line(attachment.name),
            )
    else:
        message.set_content(words["body"].format(**values).lstrip())
    return Outgoing(message=message, recipient=to.addr_spec)


def _values(row: QueuedMail, event: Event | None, registry: Registry | None) -> dict[str, str]:
    report = event.report if event is not None else FileReport(file="", status="accepted")
    values = {str(key): str(value) for key, value in row.payload.items()}
    values.setdefault("school", one_line(row.school or report.school) or "colleague")
    values.setdefault("round", row.round or report.round or "this round")
    values.setdefault("framework", _title(report, registry))
    values["file"] = report.file
    values["received"] = uk_time(event.arrived_at) if event is not None else ""
    values["queries"] = _queries(report) if row.kind == "receipt" else ""
    values["visit"] = _visit(report) if row.kind == "receipt" else ""
    if row.kind == "duplicate":
        first = next((i for i in report.errors if i.code == "duplicate"), None)
        values["first_received"] = str(first.params.get("received", "")) if first else ""
    return values


def _title(report: FileReport, registry: Registry | None) -> str:
    framework = None
    if registry is not None and report.template and report.template_version:
        framework = registry.get(report.template, report.template_version)
    if framework is not None:
        return framework.title
    return report.template or "review"


def _visit(report: FileReport) -> str:
    """The receipt's line saying which visit a follow-up visit's return was, if it is one."""
    if report.visit is None:
        return ""
    return wording()["receipt"][f"visit_{report.visit}"].format(date=short_date(report.review_date))


def _queries(report: FileReport) -> str:
    words = wording()["receipt"]
    warnings = report.warnings_only()
    if not warnings:
        return words["no_queries"]
    count = f"{len(warnings)} {'query' if len(warnings) == 1 else 'queries'}"
    lines = [words["queries"].format(count=count)]
    for number, issue in enumerate(warnings, start=1):
        where, what = split_location(issue)
        lines.append(
            words["query"].format(number=number, where=where, what=what, advice=issue.advice)
        )
    return "\n".join(lines) + "\n"


def _annotated(event: Event, root: Path) -> Path | None:
    original = root / event.destination
    stem = original.name[: -len(original.suffix)] if original.suffix else original.name
    found = original.with_name(stem + ANNOTATED_SUFFIX)
    return found if found.is_file() else None


def _rejection_report(event: Event, registry: Registry | None, attachment: Path | None) -> str:
    report = event.report
    framework = None
    if registry is not None and report.template and report.template_version:
        framework = registry.get(report.template, report.template_version)
    title = f"{framework.title}, version {framework.version}" if framework else None
    name = attachment.name if attachment else None
    return render_errors_file(report, title, name, event.arrived_at).strip()
