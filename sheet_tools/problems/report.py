"""Typed problems found in a returned workbook, the per-file report built from them, and every
way a report is shown to a person.

Modelled on frictionless-py: every problem has a stable code registered once (``codes``) with its
severity, title, advice and message template; an ``Issue`` is one occurrence with its location.
Errors reject a return; warnings do not. All rendering lives here: the verdict ``validate``
prints, the line ``ingest`` prints, the watcher's log line, ``<file>.errors.txt`` and JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..base.files import as_utc, utc_now
from .codes import CODES, DEFAULT_ADVICE, Severity


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
    def of(cls, code: str, message: str | None = None, **location: str | None) -> Issue:
        """An issue with its code's registered severity; without a message, the code's
        template filled in from the location."""
        problem = CODES[code]
        if message is None:
            where = _place(location.get("sheet"), location.get("cell"))
            message = problem.template.format(
                where=where[:1].upper() + where[1:] if where else "The file",
                statement=location.get("statement") or "",
                value=location.get("value") or "",
            )
        return cls(code=code, severity=problem.severity, message=message, **location)

    @property
    def where(self) -> str:
        return _place(self.sheet, self.cell)

    @property
    def advice(self) -> str:
        return CODES[self.code].advice or DEFAULT_ADVICE


def _place(sheet: str | None, cell: str | None) -> str:
    parts = [f"sheet '{sheet}'" if sheet else "", f"cell {cell}" if cell else ""]
    return ", ".join(p for p in parts if p)


Status = Literal["accepted", "rejected", "duplicate"]
FLATTEN_SPEC = ("code", "sheet", "cell")


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
    round: str | None = None
    sha256: str | None = None
    errors: list[Issue] = Field(default_factory=list)

    @property
    def error_count(self) -> int:
        return sum(1 for issue in self.errors if issue.severity is Severity.ERROR)

    @property
    def warning_count(self) -> int:
        return sum(1 for issue in self.errors if issue.severity is Severity.WARNING)

    def errors_only(self) -> list[Issue]:
        return [issue for issue in self.errors if issue.severity is Severity.ERROR]

    def warnings_only(self) -> list[Issue]:
        return [issue for issue in self.errors if issue.severity is Severity.WARNING]

    def flatten(self, spec: Sequence[str] = FLATTEN_SPEC) -> list[list[object]]:
        """Each issue as a list of the named fields, in order: a whole report compared in one
        assertion, as frictionless-py's ``Report.flatten``."""
        return [[getattr(issue, name) for name in spec] for issue in self.errors]

    def codes(self) -> set[str]:
        return {issue.code for issue in self.errors}

    def to_json(self) -> dict[str, object]:
        """The object ``--json`` prints: file, status, template, ..., errors."""
        return self.model_dump(mode="json")


def has_errors(issues: list[Issue]) -> bool:
    return any(issue.severity is Severity.ERROR for issue in issues)


def about_the_file(report: FileReport) -> bool:
    """Whether a check on the file itself failed (so it is not opened again to annotate it)."""
    return any(CODES[issue.code].about_file for issue in report.errors)


# --- rendering --------------------------------------------------------------------------------
def _uk_date(iso: str) -> str:
    parts = iso.split("-")
    return "/".join(reversed(parts)) if len(parts) == 3 else iso


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def split_location(issue: Issue) -> tuple[str, str]:
    """(where, what): the issue's place, and its message without the place it may start with, so
    each is printed once ("Sheet 'Cover', cell C8 (Review date)", "'31/02/2026' is not a date")."""
    where = issue.where
    if where:
        head, colon, rest = issue.message.partition(": ")
        if colon and head.casefold().startswith(where.casefold()):
            return head[:1].upper() + head[1:], rest.strip()
    if issue.statement:
        where = (
            f"{where} (statement {issue.statement})" if where else f"statement {issue.statement}"
        )
    return (where[:1].upper() + where[1:] if where else "The whole file"), issue.message


def render_text(report: FileReport) -> str:
    """The report in plain English for a school administrator: what ``validate`` prints."""
    errors = report.errors_only()
    warnings = report.warnings_only()
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


def render_line(report: FileReport) -> str:
    """One line for the person running ``ingest``: status, file, school and the first problem."""
    parts = [f"{report.status:<9}", report.file]
    if report.school:
        parts.append(f"- {report.school}" + (f" ({report.urn})" if report.urn else ""))
    if report.review_date:
        parts.append(f"review {report.review_date}")
    errors = report.errors_only()
    if errors:
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        where, what = split_location(errors[0])
        parts.append(f"- {where}: {what}{more}")
    elif report.warning_count and report.status != "duplicate":
        parts.append(f"- {report.warning_count} warning(s)")
    return " ".join(parts)


def render_log_line(report: FileReport) -> str:
    """The watcher's one log line for a file: codes rather than messages, for grepping."""
    who = report.school or "unknown school"
    if report.urn:
        who += f" (URN {report.urn})"
    form = f"{report.template} v{report.template_version}" if report.template else "unknown form"
    if report.status == "rejected":
        codes = sorted({i.code for i in report.errors_only()})
        return (
            f"rejected {report.file}: {who}, {form}: {report.error_count} error(s) "
            f"[{', '.join(codes)}]; the reasons are beside it in rejected/"
        )
    warnings = f", {report.warning_count} warning(s)" if report.warning_count else ""
    return f"{report.status} {report.file}: {who}, {form}, review {report.review_date}{warnings}"


def render_errors_file(
    report: FileReport,
    form_title: str | None,
    annotated: str | None,
    received: datetime | None = None,
) -> str:
    """The plain-English ``<file>.errors.txt``: what is wrong, where, and what to do.

    ``form_title`` names the form ("Title, version 1.0") when its definition is known.
    """
    errors = report.errors_only()
    warnings = report.warnings_only()
    form = (
        form_title
        or " ".join(p for p in (report.template, report.template_version) if p)
        or "unknown"
    )
    school = report.school or "not known"
    if report.urn:
        school += f" (URN {report.urn})"
    received_at = as_utc(received or utc_now())
    lines = [
        "sheet-tools could not accept this return.",
        "",
        f"File:         {report.file}",
        f"School:       {school}",
        f"Form:         {form}",
        f"Review date:  {report.review_date or 'not known'}",
        f"Received:     {received_at.strftime('%d/%m/%Y %H:%M UTC')}",
        f"SHA-256:      {report.sha256 or 'not known'}",
        "",
        f"{len(errors)} problem{'s' if len(errors) != 1 else ''} must be fixed before the "
        "return can be accepted:",
    ]
    for number, issue in enumerate(errors, start=1):
        where, what = split_location(issue)
        lines += ["", f"{number}. {where}", f"   {what}", f"   What to do: {issue.advice}"]
    if warnings:
        lines += ["", "Also worth checking (these alone would not stop the return):"]
        for issue in warnings:
            lines.append("- {}: {}".format(*split_location(issue)))
    lines += ["", "What to do next", ""]
    if errors and all(issue.code == "internal-error" for issue in errors):
        lines.append(
            "The fault is in sheet-tools, not (as far as we know) in the school's file: pass "
            "the file and this report to whoever supports sheet-tools. Nothing from this file "
            "has been stored."
        )
    elif annotated:
        lines.append(
            f'The cells with problems are highlighted, each with a note, in "{annotated}" '
            "beside this file. Send that copy to the school: once they have corrected the "
            "highlighted cells and sent it back, it will be checked again."
        )
    else:
        lines.append(
            "Send this report to the school and ask them to send a corrected workbook. "
            "Nothing from this file has been stored."
        )
    return "\n".join(lines) + "\n"
