"""Typed problems found in a returned workbook, the per-file report built from them, and every
way a report is shown to a person.

Modelled on frictionless-py: every problem has a stable code registered once here with its
severity, title, advice and message template; an ``Issue`` is one occurrence with its location.
Errors reject a return; warnings do not. All rendering lives here: the verdict ``validate``
prints, the line ``ingest`` prints, the watcher's log line, ``<file>.errors.txt`` and JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .files import as_utc, utc_now


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class ProblemCode:
    """What one code means, wherever it is raised or shown.

    ``template`` is the message when a check has nothing more specific to say; it may name the
    issue's ``where``, ``statement`` and ``value``. ``advice`` tells the school what to do about
    an error. ``about_file`` marks checks on the file itself: a file failing one is not opened
    again to write an annotated copy.
    """

    code: str
    severity: Severity
    title: str
    template: str
    advice: str | None = None
    about_file: bool = False


def _code(
    code: str,
    severity: Severity,
    title: str,
    template: str,
    *,
    advice: str | None = None,
    about_file: bool = False,
) -> tuple[str, ProblemCode]:
    return code, ProblemCode(code, severity, title, template, advice, about_file)


# Every code sheet-tools can emit. Codes are stable: add new ones, never rename or reuse one,
# since trusts may filter reports by them.
CODES: dict[str, ProblemCode] = dict(
    [
        # the file itself (guard)
        _code(
            "empty-file",
            Severity.ERROR,
            "The file is empty",
            "The file is empty (0 bytes).",
            advice="The file that arrived is empty. Ask the school to send the workbook again.",
            about_file=True,
        ),
        _code(
            "not-a-workbook",
            Severity.ERROR,
            "The file is not an Excel workbook",
            "The file is not an Excel workbook.",
            advice=(
                "Ask the school to send the workbook they filled in, saved as an Excel workbook "
                "(.xlsx), not as CSV, PDF or another kind of file."
            ),
            about_file=True,
        ),
        _code(
            "truncated-file",
            Severity.ERROR,
            "The file is incomplete or damaged",
            "The file is incomplete or damaged, so it cannot be opened.",
            advice="The file was cut short or damaged on its way. Ask the school to send it again.",
            about_file=True,
        ),
        _code(
            "legacy-xls",
            Severity.ERROR,
            "Old .xls format",
            "The file is in the old .xls format, which sheet-tools does not read.",
            advice=(
                "Ask the school to open the file and use File > Save As > Excel Workbook "
                "(.xlsx), then send that file."
            ),
            about_file=True,
        ),
        _code(
            "encrypted-workbook",
            Severity.ERROR,
            "The workbook is password-protected",
            "The workbook is protected with a password to open, so it cannot be read.",
            advice=(
                "Ask the school to remove the password (in Excel: File > Info > Protect "
                "Workbook > Encrypt with Password, and clear it), save, and send it again."
            ),
            about_file=True,
        ),
        _code(
            "too-large",
            Severity.ERROR,
            "The file is too large",
            "The file is far larger than a filled-in form can be.",
            advice=(
                "The file is far larger than a filled-in form can be. Ask the school to send "
                "the workbook they were given, without added pictures or sheets."
            ),
            about_file=True,
        ),
        _code(
            "zip-bomb",
            Severity.ERROR,
            "The file expands to an unsafe size",
            "The file expands to an unsafe size when opened, so it was not opened.",
            advice=(
                "The file expands to an unsafe size, so it was not opened. Ask the school to "
                "send the original workbook again."
            ),
            about_file=True,
        ),
        _code(
            "xml-attack",
            Severity.ERROR,
            "The file contains unsafe XML",
            "The file contains XML that sheet-tools refuses to read, for safety.",
            advice=(
                "The file holds XML that sheet-tools refuses to read, for safety. Ask the "
                "school to send the original workbook again."
            ),
            about_file=True,
        ),
        _code(
            "macro-enabled",
            Severity.WARNING,
            "Macro-enabled workbook: data read, macros ignored",
            "The workbook contains macros; its data was read and the macros ignored.",
        ),
        _code(
            "too-many-rows",
            Severity.ERROR,
            "A sheet has far more rows than the form",
            "{where}: the sheet has far more rows than the form.",
            advice=(
                "A sheet has far more rows than the form. Ask the school to delete the extra "
                "rows, or to copy their answers into the workbook they were sent."
            ),
            about_file=True,
        ),
        _code(
            "too-many-columns",
            Severity.ERROR,
            "A sheet has far more columns than the form",
            "{where}: the sheet has far more columns than the form.",
            advice=(
                "A sheet has far more columns than the form. Ask the school to delete the extra "
                "columns, or to copy their answers into the workbook they were sent."
            ),
            about_file=True,
        ),
        _code(
            "unreadable-file",
            Severity.ERROR,
            "The file could not be opened",
            "The file could not be opened as a workbook.",
            advice=(
                "The file could not be opened as a workbook. Ask the school to open it in "
                "Excel, save it again as an Excel workbook (.xlsx) and send it again."
            ),
            about_file=True,
        ),
        _code(
            "unsafe-name",
            Severity.ERROR,
            "The file name is not safe",
            "The file name is not safe to use.",
            advice="Rename the file to a plain name and send it again.",
            about_file=True,
        ),
        # structure (read)
        _code(
            "unknown-template",
            Severity.ERROR,
            "Not a workbook sheet-tools generated",
            "This is not a workbook sheet-tools generated.",
            advice=(
                "This is not a workbook sheet-tools sent out. Ask the school to fill in the "
                "workbook they were sent, leaving its About sheet as it is."
            ),
        ),
        _code(
            "unknown-version",
            Severity.ERROR,
            "A version of the form that is no longer known",
            "This version of the form is no longer known.",
            advice=(
                "This version of the form is no longer used. Send the school a new workbook and "
                "ask them to copy their answers into it."
            ),
        ),
        _code(
            "missing-sheet",
            Severity.ERROR,
            "A sheet is missing",
            "{where}: the sheet is missing.",
            advice=(
                "A sheet has been deleted or renamed. Ask the school to put it back, or to copy "
                "their answers into the workbook they were sent."
            ),
        ),
        _code(
            "missing-statement",
            Severity.ERROR,
            "A statement row is missing",
            "{where}: statement {statement} is missing.",
            advice=(
                "A statement row has been deleted or its ID changed. Ask the school to restore "
                "it (the ID column must stay as it was)."
            ),
        ),
        _code(
            "duplicate-statement",
            Severity.ERROR,
            "A statement appears twice",
            "{where}: statement {statement} appears twice.",
            advice=(
                "A statement appears twice. Ask the school to delete the extra row so each "
                "statement ID appears once."
            ),
        ),
        _code(
            "unknown-statement",
            Severity.WARNING,
            "A row with an id the form does not have",
            "{where}: the row's id is not in the form.",
        ),
        _code(
            "formula-value",
            Severity.WARNING,
            "A cell holds a formula",
            "{where}: the cell holds a formula.",
        ),
        # content (validate)
        _code(
            "invalid-judgement",
            Severity.ERROR,
            "A judgement is not one of the allowed levels",
            "{where}: '{value}' is not one of the allowed levels.",
            advice=(
                "Choose a judgement from the drop-down list in the cell (typing or pasting over "
                "the cell gets past the list)."
            ),
        ),
        _code(
            "blank-judgement",
            Severity.WARNING,
            "A statement has not been judged",
            "{where}: statement {statement} has no judgement.",
        ),
        _code(
            "no-judgements",
            Severity.ERROR,
            "No statement has been judged",
            "No statement has been judged.",
            advice=(
                "No statement has been judged. Ask the school to judge the statements before "
                "sending the workbook back."
            ),
        ),
        _code(
            "missing-field",
            Severity.ERROR,
            "A required cover field is empty",
            "{where}: this required field is empty.",
            advice="Fill in this field on the Cover sheet.",
        ),
        _code(
            "invalid-date",
            Severity.ERROR,
            "The review date is not a date",
            "{where}: '{value}' is not a date.",
            advice="Type the review date as day/month/year, for example 03/10/2026.",
        ),
        _code(
            "invalid-due-date",
            Severity.ERROR,
            "An action's due date is not a date",
            "{where}: '{value}' is not a due date.",
            advice="Type the due date as day/month/year, for example 31/03/2027, or leave it "
            "blank.",
        ),
        _code(
            "invalid-status",
            Severity.ERROR,
            "An action's status is not one of the choices",
            "{where}: '{value}' is not a status.",
            advice="Choose Not started, In progress, Done or Dropped from the drop-down.",
        ),
        _code(
            "done-without-note",
            Severity.WARNING,
            "An action marked Done has no progress note",
            "{where}: the action is marked Done but has no progress note.",
            advice="Say briefly what was done, so the next round can see it.",
        ),
        _code(
            "action-without-text",
            Severity.WARNING,
            "An action plan row has details but no action",
            "{where}: the row has an owner, date, status or note but no action, so it was "
            "not read.",
            advice="Write the action in the row's Action cell, or clear the row.",
        ),
        _code(
            "invalid-urn",
            Severity.ERROR,
            "The URN is not a six-digit number",
            "{where}: '{value}' is not a six-digit URN.",
            advice="Type the school's six-digit URN, as shown on Get Information About Schools.",
        ),
        _code(
            "invalid-choice",
            Severity.ERROR,
            "A cover field is not one of its choices",
            "{where}: '{value}' is not one of the choices.",
            advice="Choose one of the options from the drop-down list in the cell.",
        ),
        _code(
            "missing-next-steps",
            Severity.WARNING,
            "Low judgements but no next steps written",
            "{where}: low judgements but no next steps written.",
        ),
        _code(
            "personal-data",
            Severity.WARNING,
            "Text that looks like pupils' personal data",
            "{where}: the text looks like it names or identifies a pupil.",
        ),
        _code(
            "text-too-long",
            Severity.ERROR,
            "A text answer is too long",
            "{where}: the text is longer than a cell can hold.",
            advice="Shorten the text in this cell.",
        ),
        # identity (validate, against the issued workbook and the roster)
        _code(
            "urn-mismatch",
            Severity.WARNING,
            "The URN typed is not the one the workbook was issued for",
            "{where}: the URN typed is not the one this workbook was issued for.",
        ),
        _code(
            "similar-trust",
            Severity.WARNING,
            "A trust name close to a known trust's",
            "{where}: the trust '{value}' is close to a trust sheet-tools knows.",
        ),
        _code(
            "judge-mismatch",
            Severity.WARNING,
            "'Judgements made by' differs from the role the workbook was issued to",
            "{where}: 'Judgements made by' differs from the role the workbook was issued to.",
        ),
        _code(
            "missing-judge",
            Severity.ERROR,
            "Whose judgements these are is not said",
            "{where}: 'Judgements made by' is empty.",
            advice=(
                "Choose Self-evaluation, External reviewer or Peer reviewer in 'Judgements made "
                "by' on the Cover sheet."
            ),
        ),
        _code(
            "unlikely-review-date",
            Severity.WARNING,
            "A review date in the future or long before the round",
            "{where}: the review date {value} is in the future or long before the round.",
        ),
        # ingest (store / watch)
        _code(
            "duplicate",
            Severity.WARNING,
            "The same file was already received",
            "The same file was already received.",
        ),
        _code(
            "unsupported-file",
            Severity.ERROR,
            "Not a file type sheet-tools reads",
            "This is not a file type sheet-tools reads.",
            advice="Ask the school to send the Excel workbook (.xlsx) they were given.",
            about_file=True,
        ),
        _code(
            "internal-error",
            Severity.ERROR,
            "sheet-tools could not process the file",
            "sheet-tools met an unexpected problem with this file.",
            advice=(
                "This is a fault in sheet-tools, not in the school's file as far as we know: "
                "pass the file and this report to whoever supports sheet-tools."
            ),
            about_file=True,
        ),
    ]
)
DEFAULT_ADVICE = "Please correct this and send the workbook again."


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
