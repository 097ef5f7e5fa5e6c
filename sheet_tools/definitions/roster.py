"""The roster: the schools a trust reviews, with their URNs and trusts.

A roster is a CSV or XLSX whose first row names the columns ``school``, ``urn`` and ``trust``
(any order, any case). It is the source of truth for which trust a school belongs to, and the
list summaries chase outstanding returns against.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError, field_validator

from ..base.keys import name_key
from ..exceptions import RosterError

log = logging.getLogger(__name__)

# The workspace's own roster, looked for in this order.
ROSTER_NAMES = ("roster.csv", "roster.xlsx")
COLUMNS = ("school", "urn", "trust")


class School(BaseModel):
    """A school a workbook is generated for."""

    name: str = Field(min_length=1, max_length=200)
    urn: str | None = None
    trust: str | None = None

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
        if not text.isdigit() or not 5 <= len(text) <= 7:
            raise ValueError(f"URN must be a 6-digit number, not {value!r}")
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


def make_school(name: object, urn: object = None, trust: object = None) -> School:
    """A School from untrusted input, or a RosterError saying plainly what is wrong."""
    try:
        return School(
            name=str(name or "").strip(),
            urn=urn,
            trust=str(trust).strip() if trust not in (None, "") else None,
        )
    except ValidationError as exc:
        problems = "; ".join(
            str(error["msg"]).removeprefix("Value error, ") for error in exc.errors()
        )
        raise RosterError(problems) from None


def read_roster(path: Path | str) -> list[School]:
    """Schools from a CSV or XLSX roster with columns school, urn, trust (any order, any case)."""
    path = Path(path)
    rows: list[list[object]]
    try:
        if path.suffix.lower() in {".xlsx", ".xlsm", ".ods"}:
            from python_calamine import CalamineWorkbook

            workbook = CalamineWorkbook.from_path(str(path))
            rows = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
        else:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                rows = [list(row) for row in csv.reader(handle)]
    except OSError as exc:
        raise RosterError(f"{path}: the roster cannot be read: {exc.strerror or exc}") from None
    if not rows:
        raise RosterError(f"{path.name}: the roster is empty")
    header = [str(cell).strip().casefold() for cell in rows[0]]
    if "school" not in header:
        raise RosterError(f"{path.name}: the first row must name the columns school, urn, trust")
    index = {name: header.index(name) for name in COLUMNS if name in header}
    schools: list[School] = []
    for number, row in enumerate(rows[1:], start=2):
        values = {k: (row[i] if i < len(row) else None) for k, i in index.items()}
        if not str(values.get("school") or "").strip():
            continue
        try:
            schools.append(make_school(values["school"], values.get("urn"), values.get("trust")))
        except RosterError as exc:
            raise RosterError(f"{path.name}, row {number}: {exc}") from None
    return schools


def write_roster(path: Path, schools: Iterable[School]) -> Path:
    """Write a CSV roster that ``read_roster`` reads back."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows([school.name, school.urn, school.trust] for school in schools)
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
        if seen != self._seen:
            try:
                schools = read_roster(path)
            except RosterError as exc:
                if self._seen is None:
                    raise
                log.warning("roster %s cannot be read, so the last one read is used: %s", path, exc)
                return self._schools
            self._seen, self._schools = seen, schools
        return self._schools
