"""The roster: the schools a trust reviews, with their URNs and trusts.

A roster is a CSV or XLSX whose first row names the columns ``school``, ``urn`` and ``trust``
(any order, any case; optional ``email``, ``trust_email`` and ``frameworks``: the template ids a
school takes, separated by ";", blank for every framework), or the DfE register's extract
(``roster_files`` reads both, in every encoding Excel saves). It is the source of truth for
which trust a school belongs to, and the list summaries chase outstanding returns against.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError, field_validator

from ..base.keys import name_key, school_key, squash, trust_key
from ..exceptions import RosterError
from .roster_files import roster_rows

log = logging.getLogger(__name__)

# The workspace's own roster, looked for in this order.
ROSTER_NAMES = ("roster.csv", "roster.xlsx")
COLUMNS = ("school", "urn", "trust")
# The Diagnostic Review's two self-evaluation templates: by the register's type of establishment,
# special schools, pupil referral units and alternative provision take the specialist one.
MAINSTREAM, SPECIALIST = "send-review-mainstream", "send-review-specialist"
# Its reviewer's forms (the report, the follow-up visits), part of the review of every school that
# takes either self-evaluation, whether or not the roster's ``frameworks`` lists them.
REVIEWER_FORMS = ("send-review-report", "send-review-follow-up")
SPECIALIST_TYPES = ("special", "pupil referral", "alternative provision")


def is_specialist(establishment: str) -> bool:
    """Whether the register's ``TypeOfEstablishment (name)`` is a specialist setting."""
    text = establishment.casefold()
    return any(word in text for word in SPECIALIST_TYPES)


class School(BaseModel):
    """A school a workbook is generated for."""

    name: str = Field(min_length=1, max_length=200)
    urn: str | None = None
    trust: str | None = None
    # the school's contact, and its trust's, for mail (never an address typed in a return)
    email: str | None = None
    trust_email: str | None = None
    # the template ids the school takes (the roster's ``frameworks``); None: every framework
    frameworks: tuple[str, ...] | None = None
    establishment: str | None = None  # the register's type of establishment

    def takes(self, template_id: str) -> bool:
        """Whether a framework applies to the school: the roster's ``frameworks`` when given (the
        Diagnostic Review's report and follow-up forms going with either of its self-evaluations);
        else, where the register's type is known, the Diagnostic Review's mainstream template
        for a mainstream school and its specialist template for a specialist one."""
        if self.frameworks:
            if template_id in REVIEWER_FORMS:
                return any(t in self.frameworks for t in (*REVIEWER_FORMS, MAINSTREAM, SPECIALIST))
            return template_id in self.frameworks
        if self.establishment:
            specialist = is_specialist(self.establishment)
            return template_id != (MAINSTREAM if specialist else SPECIALIST)
        return True

    @field_validator("name", "trust")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        return " ".join(value.split()) if value else value

    @field_validator("urn", mode="before")
    @classmethod
    def _urn_text(cls, value: object) -> str | None:
        if value is None or str(value).strip() == "":
            return None
        text = str(value).strip()
        if text.endswith(".0"):  # a URN read from a spreadsheet as a float
            text = text[:-2]
        if not text.isdigit() or len(text) != 6:
            raise ValueError(f"a URN is six digits, not {value!r}")
        return text


def find_school(roster: Iterable[School], urn: str | None, name: str | None) -> School | None:
    """The roster's entry for a school: by URN, else by name when no URN tells."""
    schools = list(roster)
    if urn:
        by_urn = next((s for s in schools if s.urn == urn), None)
        if by_urn is not None:
            return by_urn
    if name:
        wanted = name_key(name)
        named = [s for s in schools if name_key(s.name) == wanted]
        if len(named) == 1 and (not urn or named[0].urn in (None, urn)):
            return named[0]
    return None


def make_school(
    name: object,
    urn: object = None,
    trust: object = None,
    *,
    email: str | None = None,
    trust_email: str | None = None,
    frameworks: str = "",
    establishment: str | None = None,
) -> School:
    """A School from untrusted input, or a RosterError saying plainly what is wrong."""
    taken = tuple(part.strip() for part in frameworks.split(";") if part.strip())
    try:
        return School(
            name=str(name or "").strip(),
            urn=urn,
            trust=str(trust).strip() if trust not in (None, "") else None,
            email=email,
            trust_email=trust_email,
            frameworks=taken or None,
            establishment=establishment,
        )
    except ValidationError as exc:
        problems = "; ".join(
            str(error["msg"]).removeprefix("Value error, ") for error in exc.errors()
        )
        raise RosterError(problems) from None


# The register's statuses that are schools; "Closed" rows are skipped and counted.
OPEN_STATUSES = frozenset({"open", "open, but proposed to close", "proposed to open"})
# Problems (and schools not carried forward) named one by one before the rest are counted.
MAX_LISTED = 20


class Roster(BaseModel):
    """A roster as read: its schools, how many closed schools were skipped, and what is worth
    telling the administrator about rows that were still accepted."""

    schools: list[School]
    closed: int = 0
    warnings: list[str] = Field(default_factory=list)


def read_roster(path: Path | str) -> list[School]:
    """The schools of a roster file (see ``load_roster``)."""
    return load_roster(path).schools


def load_roster(path: Path | str) -> Roster:
    """A roster from a CSV (any encoding Excel saves), an XLSX or the register's extract, checked
    as a whole: every bad row is named (the first 20, then a count) in one RosterError, before
    anything is generated from it."""
    path = Path(path)
    try:
        columns, found, rows = roster_rows(path)
        if "school" not in columns or "urn" not in columns:
            missing = " and ".join(c for c in ("school", "urn") if c not in columns)
            named = ", ".join(repr(name) for name in found if name) or "none"
            raise RosterError(
                f"{path.name}: the roster has no {missing} column (the first row names: "
                f"{named}); it needs columns school, urn and trust, or the register's "
                "EstablishmentName, URN and Trusts (name)"
            )
        return _check(path.name, columns, rows)
    except OSError as exc:
        raise RosterError(f"{path}: the roster cannot be read: {exc.strerror or exc}") from None


def _check(name: str, columns: dict[str, int], rows: Iterable[list[object]]) -> Roster:
    problems: list[str] = []
    warnings: list[str] = []
    schools: list[School] = []
    closed = 0
    first_row_of: dict[str, int] = {}
    trust_of: dict[str, tuple[str | None, int]] = {}
    email_of: dict[str, tuple[str, int]] = {}
    for number, row in enumerate(rows, start=2):
        value = _reader(row, columns)
        school = value("school")
        if not school:
            continue
        if value("status").casefold() not in OPEN_STATUSES | {""}:
            closed += 1
            continue
        urn = value("urn")
        if urn.endswith(".0"):  # a URN read from a spreadsheet as a number
            urn = urn[:-2]
        if urn and not (urn.isdigit() and len(urn) == 6):
            problems.append(f"row {number}: the URN {urn!r} is not six digits")
            continue
        if not urn:
            warnings.append(
                f"row {number}: {school} has no URN (a school too new for the register?)"
            )
        trust = value("trust") or value("la") or None
        identity = urn or school_key(school, None)
        if identity in first_row_of:
            earlier = first_row_of[identity]
            listed, _ = trust_of[identity]
            what = f"the URN {urn}" if urn else f"the school {school!r}"
            if trust_key(listed) != trust_key(trust):
                problems.append(
                    f"row {number}: {what} is listed in two trusts ({listed or 'none'} on row "
                    f"{earlier}, {trust or 'none'} here)"
                )
            else:
                problems.append(f"row {number}: {what} is listed twice (first on row {earlier})")
            continue
        first_row_of[identity] = number
        trust_of[identity] = (trust, number)
        trust_email = value("trust_email")
        if trust and trust_email:
            seen = email_of.setdefault(trust_key(trust), (trust_email, number))
            if squash(seen[0]) != squash(trust_email):
                problems.append(
                    f"row {number}: {trust} has the trust email {trust_email}, but row {seen[1]} "
                    f"gives {seen[0]}"
                )
        try:
            schools.append(
                make_school(school, urn or None, trust, email=value("email") or None,
                            trust_email=trust_email or None, frameworks=value("frameworks"),
                            establishment=value("type") or None)
            )  # fmt: skip
        except RosterError as exc:
            problems.append(f"row {number}: {exc}")
    if problems:
        listed = problems[:MAX_LISTED]
        if len(problems) > MAX_LISTED:
            listed.append(f"... and {len(problems) - MAX_LISTED} more")
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        raise RosterError(f"{name}: {count}, so nothing was done:\n  " + "\n  ".join(listed))
    return Roster(schools=schools, closed=closed, warnings=warnings)


def _reader(row: list[object], columns: dict[str, int]) -> Callable[[str], str]:
    def value(column: str) -> str:
        index = columns.get(column)
        cell = row[index] if index is not None and index < len(row) else None
        if cell is None:
            return ""
        if isinstance(cell, float) and cell.is_integer():  # a URN as a spreadsheet number
            cell = int(cell)
        return " ".join(str(cell).split())

    return value


def write_roster(path: Path, schools: Iterable[School]) -> Path:
    """Write a CSV roster that ``read_roster`` reads back (with the mail contacts when any
    school has one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = list(schools)
    contacts = any(school.email or school.trust_email for school in rows)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*COLUMNS, *(("email", "trust_email") if contacts else ())])
        for school in rows:
            mail = (school.email or "", school.trust_email or "") if contacts else ()
            writer.writerow([school.name, school.urn, school.trust, *mail])
    return path


def workspace_roster(root: Path | str) -> list[School] | None:
    """The workspace's roster (``roster.csv`` or ``roster.xlsx``), or None when it has none."""
    for name in ROSTER_NAMES:
        path = Path(root) / name
        if path.is_file():
            return read_roster(path)
    return None


class RosterSource:
    """The roster a long-running service works from, read again whenever its file changes, so
    a school moved on the roster moves at the next rebuild without a restart. A roster that
    becomes unreadable keeps the last good one (and says why in the log)."""

    def __init__(self, path: Path | None = None, root: Path | None = None) -> None:
        self._path = Path(path) if path is not None else None
        self._root = Path(root) if root is not None else None
        self._seen: tuple[Path, int, int] | None = None
        self._failed: tuple[Path, int, int] | None = None
        self._schools: list[School] | None = None
        self.current()  # a roster broken from the start is said at once

    def _file(self) -> Path | None:
        if self._path is not None:
            return self._path
        if self._root is None:
            return None
        return next((self._root / n for n in ROSTER_NAMES if (self._root / n).is_file()), None)

    def current(self) -> list[School] | None:
        path = self._file()
        if path is None:
            self._seen, self._schools = None, None
            return None
        try:
            stat = path.stat()
        except OSError:
            return self._schools
        seen = (path, stat.st_mtime_ns, stat.st_size)
        if seen not in (self._seen, self._failed):
            try:
                schools = read_roster(path)
            except RosterError as exc:
                if self._seen is None:
                    raise
                # said once for this version of the file, not for every file that arrives
                self._failed = seen
                log.warning("roster %s cannot be read, so the last one read is used: %s", path, exc)
                return self._schools
            self._seen, self._schools, self._failed = seen, schools, None
        return self._schools
