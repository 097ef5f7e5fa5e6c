"""Typed problems found in a returned workbook, and the per-file report built from them.

Modelled on frictionless-py: every problem has a stable code, a severity, a location and a
plain-English message for a school administrator. Errors reject a return; warnings do not.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


# Every code sheet-tools can emit, with its severity and a one-line title. Codes are stable: add
# new ones, never rename or reuse one, since trusts may filter reports by them.
CODES: dict[str, tuple[Severity, str]] = {
    # the file itself (guard)
    "empty-file": (Severity.ERROR, "The file is empty"),
    "not-a-workbook": (Severity.ERROR, "The file is not an Excel workbook"),
    "truncated-file": (Severity.ERROR, "The file is incomplete or damaged"),
    "legacy-xls": (Severity.ERROR, "Old .xls format"),
    "encrypted-workbook": (Severity.ERROR, "The workbook is password-protected"),
    "too-large": (Severity.ERROR, "The file is too large"),
    "zip-bomb": (Severity.ERROR, "The file expands to an unsafe size"),
    "xml-attack": (Severity.ERROR, "The file contains unsafe XML"),
    "macro-enabled": (Severity.WARNING, "Macro-enabled workbook: data read, macros ignored"),
    "too-many-rows": (Severity.ERROR, "A sheet has far more rows than the form"),
    "too-many-columns": (Severity.ERROR, "A sheet has far more columns than the form"),
    "unreadable-file": (Severity.ERROR, "The file could not be opened"),
    "unsafe-name": (Severity.ERROR, "The file name is not safe"),
    # structure (read)
    "unknown-template": (Severity.ERROR, "Not a workbook sheet-tools generated"),
    "unknown-version": (Severity.ERROR, "A version of the form that is no longer known"),
    "missing-sheet": (Severity.ERROR, "A sheet is missing"),
    "missing-statement": (Severity.ERROR, "A statement row is missing"),
    "duplicate-statement": (Severity.ERROR, "A statement appears twice"),
    "unknown-statement": (Severity.WARNING, "A row with an id the form does not have"),
    "formula-value": (Severity.WARNING, "A cell holds a formula"),
    # content (validate)
    "invalid-judgement": (Severity.ERROR, "A judgement is not one of the allowed levels"),
    "blank-judgement": (Severity.WARNING, "A statement has not been judged"),
    "no-judgements": (Severity.ERROR, "No statement has been judged"),
    "missing-field": (Severity.ERROR, "A required cover field is empty"),
    "invalid-date": (Severity.ERROR, "The review date is not a date"),
    "invalid-urn": (Severity.ERROR, "The URN is not a six-digit number"),
    "invalid-choice": (Severity.ERROR, "A cover field is not one of its choices"),
    "missing-next-steps": (Severity.WARNING, "Low judgements but no next steps written"),
    "personal-data": (Severity.WARNING, "Text that looks like pupils' personal data"),
    "text-too-long": (Severity.ERROR, "A text answer is too long"),
    # ingest (store / watch)
    "duplicate": (Severity.WARNING, "The same file was already received"),
    "unsupported-file": (Severity.ERROR, "Not a file type sheet-tools reads"),
    "internal-error": (Severity.ERROR, "sheet-tools could not process the file"),
    # bounded reading (worker)
    "reader-crashed": (Severity.ERROR, "The workbook made the reader stop"),
    "reader-timeout": (Severity.ERROR, "Reading the workbook took far too long"),
    "reader-out-of-memory": (Severity.ERROR, "Reading the workbook needed far too much memory"),
    # damaged or unusual workbooks (guard): not attacks, but not safe to read as they are
    "duplicate-part": (Severity.ERROR, "The file holds two parts with the same name"),
    "row-zero": (Severity.ERROR, "A cell is addressed in row 0, which does not exist"),
    "xml-encoding": (Severity.ERROR, "A part of the file is in an encoding Excel never writes"),
}


class Issue(BaseModel):
    """One problem, located as precisely as it can be."""

    model_config = ConfigDict(frozen=True)

    code: str
    severity: Severity
    message: str
    sheet: str | None = None
    cell: str | None = None
    statement: str | None = None
    value: str | None = None

    @classmethod
    def of(cls, code: str, message: str, **location: str | None) -> Issue:
        """An issue with its code's registered severity."""
        severity, _ = CODES[code]
        return cls(code=code, severity=severity, message=message, **location)

    @property
    def where(self) -> str:
        parts = [
            f"sheet '{self.sheet}'" if self.sheet else "",
            f"cell {self.cell}" if self.cell else "",
        ]
        return ", ".join(p for p in parts if p)


Status = Literal["accepted", "rejected", "duplicate"]


class FileReport(BaseModel):
    """What happened to one file: the object printed by ``validate``, ``ingest`` and ``watch``."""

    file: str
    status: Status
    template: str | None = None
    template_version: str | None = None
    school: str | None = None
    urn: str | None = None
    trust: str | None = None
    review_date: str | None = None
    sha256: str | None = None
    errors: list[Issue] = Field(default_factory=list)

    @property
    def error_count(self) -> int:
        return sum(1 for issue in self.errors if issue.severity is Severity.ERROR)

    @property
    def warning_count(self) -> int:
        return sum(1 for issue in self.errors if issue.severity is Severity.WARNING)

    def to_json(self) -> dict[str, object]:
        """The object ``--json`` prints: file, status, template, ..., errors."""
        return self.model_dump(mode="json")


def has_errors(issues: list[Issue]) -> bool:
    return any(issue.severity is Severity.ERROR for issue in issues)


def _uk_date(iso: str) -> str:
    parts = iso.split("-")
    return "/".join(reversed(parts)) if len(parts) == 3 else iso


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def render_text(report: FileReport) -> str:
    """The report in plain English for a school administrator: what ``validate`` prints."""
    errors = [i for i in report.errors if i.severity is Severity.ERROR]
    warnings = [i for i in report.errors if i.severity is Severity.WARNING]
    if report.status == "rejected":
        verdict = f"REJECTED ({_count(len(errors), 'error')}"
        verdict += f", {_count(len(warnings), 'warning')})" if warnings else ")"
    else:
        verdict = report.status.upper()
        verdict += f" with {_count(len(warnings), 'warning')}" if warnings else ""
    lines = [f"{report.file}: {verdict}"]
    if report.template:
        lines.append(f"  Form: {report.template}, version {report.template_version}")
    if report.school or report.review_date:
        school = report.school or "(school not given)"
        if report.urn:
            school += f" (URN {report.urn})"
        if report.review_date:
            school += f", review date {_uk_date(report.review_date)}"
        lines.append(f"  School: {school}")
    if errors:
        lines.append("  Errors (these must be fixed before the return can be accepted):")
        lines.extend(f"    - {issue.message}" for issue in errors)
    if warnings:
        lines.append("  Warnings (please check these; they do not stop the return being accepted):")
        lines.extend(f"    - {issue.message}" for issue in warnings)
    return "\n".join(lines)


def render_errors_file(report: FileReport) -> str:
    """The text of ``<file>.errors.txt`` beside a rejected original: what to do, then why."""
    name = report.file.replace("\\", "/").rsplit("/", 1)[-1]
    head = [
        f"The return '{name}' could not be accepted.",
        "Please correct the problems listed below in the workbook, save it, and send it again.",
        "Nothing in the file has been changed.",
        "",
    ]
    tail = ["", f"(file fingerprint SHA-256: {report.sha256})"] if report.sha256 else []
    return "\n".join([*head, render_text(report), *tail]) + "\n"
