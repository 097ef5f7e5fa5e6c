"""The one clock: the time now in UTC, today's date, and how a date or time is shown to a person.

Times are stored and compared in UTC; a time without a zone is UTC (what the store writes),
never the server's local time. People in England read dates day first: 03/10/2026 in messages
and tables, "3 October 2026" in a heading.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

UK_DATE = "%d/%m/%Y"
UK_TIME = "%d/%m/%Y %H:%M UTC"
ISO_SECONDS = "%Y-%m-%dT%H:%M:%SZ"


def utc_now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """The date where the service runs: a school's "overdue" is counted by its own calendar."""
    return date.today()


def as_utc(moment: datetime) -> datetime:
    """A time in UTC. A time without a zone is taken as UTC (what the store writes), never as
    the server's local time, so every stage compares and prints times alike."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def uk_date(value: date) -> str:
    """03/10/2026: a short date in a message or a table."""
    return value.strftime(UK_DATE)


def uk_time(moment: datetime) -> str:
    """03/10/2026 14:05 UTC: when something happened, in a message or a report."""
    return as_utc(moment).strftime(UK_TIME)


def long_date(value: date) -> str:
    """3 October 2026: a date in a heading or a sentence."""
    return f"{value.day} {value:%B %Y}"


def iso_stamp(moment: datetime) -> str:
    """2026-10-03T14:05:00Z: a time written into a file for programs to read."""
    return as_utc(moment).strftime(ISO_SECONDS)


def file_stamp(moment: datetime) -> str:
    """07-12-2026 2350 (UTC): when, in a file name (no "/" or ":", which a name cannot hold)."""
    return as_utc(moment).strftime("%d-%m-%Y %H%M")
