"""Every way a report is shown to a person: the verdict ``validate`` prints, the line ``ingest``
prints, the watcher's log line, ``<file>.errors.txt`` and an accepted return's
``<file>.queries.txt``.

An issue's location (sheet, cell, what the cell is) is shown here, once, beside its message, which
never repeats it; dates read day first (03/10/2026), as everywhere a person reads them.
"""

from __future__ import annotations

from datetime import date, datetime

from ..base.clock import uk_date, uk_time, utc_now
from .codes import PHRASES
from .report import FileReport, Issue


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def short_date(iso: str | None) -> str | None:
    """A report's ISO date (kept so in its data) as a person reads it: 03/10/2026."""
    if not iso:
        return None
    try:
        return uk_date(date.fromisoformat(iso))
    except ValueError:
        return iso


def visit_phrase(report: FileReport) -> str | None:
    """What an accepted follow-up visit was: "a new visit on 05/12/2026" or "corrects the visit
    of 05/12/2026"; None for a form a round holds one of."""
    if report.visit is None:
        return None
    return PHRASES[f"visit-{report.visit}"].format(date=short_date(report.review_date))


def _review(report: FileReport) -> str:
    """The review a one-line rendering names: its visit, for a follow-up visit."""
    return visit_phrase(report) or f"review {short_date(report.review_date)}"


def location(issue: Issue) -> str:
    """Where an issue is, for a person: "Sheet 'Cover', cell C8 (Review date)", "Sheet 'Leadership'
    (statement 1.2)", or "The whole file" when it is about the file itself."""
    where = issue.where
    detail = issue.label or (f"statement {issue.statement}" if issue.statement else "")
    if where and detail:
        where = f"{where} ({detail})"
    elif detail:
        where = detail
    return where[:1].upper() + where[1:] if where else "The whole file"


def located(issue: Issue) -> bool:
    return bool(issue.sheet or issue.cell or issue.statement or issue.label)


def split_location(issue: Issue) -> tuple[str, str]:
    """(where, what): the issue's place and its message, each printed once."""
    return location(issue), issue.message


def _line(issue: Issue) -> str:
    return f"{location(issue)}: {issue.message}" if located(issue) else issue.message


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
            school += f", review date {short_date(report.review_date)}"
        lines.append(f"  School: {school}")
    if errors:
        lines.append("  Errors (these must be fixed before the return can be accepted):")
        lines.extend(f"    - {_line(issue)}" for issue in errors)
    if warnings:
        lines.append("  Warnings (please check these; they do not stop the return being accepted):")
        lines.extend(f"    - {_line(issue)}" for issue in warnings)
    return "\n".join(lines)


def render_line(report: FileReport) -> str:
    """One line for the person running ``ingest``: status, file, school and the first problem."""
    parts = [f"{report.status:<9}", report.file]
    if report.school:
        parts.append(f"- {report.school}" + (f" ({report.urn})" if report.urn else ""))
    if report.review_date:
        parts.append(_review(report))
    errors = report.errors_only()
    if errors:
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        parts.append(f"- {_line(errors[0])}{more}")
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
    return f"{report.status} {report.file}: {who}, {form}, {_review(report)}{warnings}"


def _file_header(
    verdict: str, report: FileReport, form_title: str | None, received: datetime | None
) -> list[str]:
    """The head of a report file beside a return: the verdict, then which file, school, form
    and review it is, when it arrived, and its fingerprint."""
    form = (
        form_title
        or " ".join(p for p in (report.template, report.template_version) if p)
        or "unknown"
    )
    school = report.school or "not known"
    if report.urn:
        school += f" (URN {report.urn})"
    return [
        verdict,
        "",
        f"File:         {report.file}",
        f"School:       {school}",
        f"Form:         {form}",
        f"Review date:  {short_date(report.review_date) or 'not known'}",
        *([f"Visit:        {phrase}"] if (phrase := visit_phrase(report)) else []),
        f"Received:     {uk_time(received or utc_now())}",
        f"SHA-256:      {report.sha256 or 'not known'}",
        "",
    ]


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
    lines = [
        *_file_header("sheet-tools could not accept this return.", report, form_title, received),
        f"{len(errors)} problem{'s' if len(errors) != 1 else ''} must be fixed before the "
        "return can be accepted:",
    ]
    lines += _numbered(errors, "What to do")
    if warnings:
        lines += ["", "Also worth checking (these alone would not stop the return):"]
        for issue in warnings:
            lines.append(f"- {_line(issue)}")
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


def _numbered(issues: list[Issue], next_step: str) -> list[str]:
    """Each issue of a report file, numbered: where, what, and what to do about it."""
    lines: list[str] = []
    for number, issue in enumerate(issues, start=1):
        where, what = split_location(issue)
        lines += ["", f"{number}. {where}", f"   {what}", f"   {next_step}: {issue.advice}"]
    return lines


def render_queries_file(
    report: FileReport, form_title: str | None, received: datetime | None = None
) -> str:
    """The plain-English ``<file>.queries.txt`` beside an accepted return with warnings: each
    thing an administrator should check with the school, where it is, and what to check."""
    warnings = report.warnings_only()
    accepted = "sheet-tools accepted this return, with queries to check with the school."
    lines = [
        *_file_header(accepted, report, form_title, received),
        f"{len(warnings)} {'query' if len(warnings) == 1 else 'queries'} (the return is stored "
        "and counts in the summaries meanwhile):",
    ]
    lines += _numbered(warnings, "What to check")
    lines += [
        "",
        "What to do next",
        "",
        "Check each query with the school. If something needs correcting, the school sends a "
        "corrected workbook; it replaces this return when it is accepted. The trust summary's "
        "Queries sheet lists every query still open.",
    ]
    return "\n".join(lines) + "\n"
