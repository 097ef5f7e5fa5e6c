"""Every problem code sheet-tools can emit, registered once: its severity, a title, the message
template used when a check has nothing more specific to say, and the advice a school is given.
``report`` builds issues from it and renders them; nothing else says what a code means.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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
        # bounded reading (worker): a file that stopped or outgrew the reader
        _code(
            "reader-crashed",
            Severity.ERROR,
            "The workbook made the reader stop",
            "The workbook could not be read: the reader stopped while opening it.",
            advice=(
                "The workbook is damaged or was saved by an unusual program. Ask the school to "
                "open it in Excel, use File > Save As > Excel Workbook (.xlsx) and send it again."
            ),
            about_file=True,
        ),
        _code(
            "reader-timeout",
            Severity.ERROR,
            "Reading the workbook took far too long",
            "Reading this workbook took far longer than any form takes, so it was stopped.",
            advice=(
                "The workbook is damaged or was saved by an unusual program. Ask the school to "
                "open it in Excel, use File > Save As > Excel Workbook (.xlsx) and send it again."
            ),
            about_file=True,
        ),
        _code(
            "reader-out-of-memory",
            Severity.ERROR,
            "Reading the workbook needed far too much memory",
            "Reading this workbook needed far more memory than any form needs, so it was stopped.",
            advice=(
                "The workbook is damaged or was saved by an unusual program. Ask the school to "
                "open it in Excel, use File > Save As > Excel Workbook (.xlsx) and send it again."
            ),
            about_file=True,
        ),
        # damaged or unusual workbooks (guard): not attacks, but not safe to read as they are
        _code(
            "duplicate-part",
            Severity.ERROR,
            "The file holds two parts with the same name",
            "The file holds two parts with the same name, so it is not read.",
            advice=(
                "The file was damaged or put together by a program other than a spreadsheet "
                "application. Ask the school to open it in Excel, save it again as an Excel "
                "workbook (.xlsx) and send it again."
            ),
            about_file=True,
        ),
        _code(
            "row-zero",
            Severity.ERROR,
            "A cell is addressed in row 0, which does not exist",
            "{where}: a cell is addressed in row 0, which does not exist.",
            advice=(
                "The file was written by a program other than a spreadsheet application. Ask the "
                "school to open it in Excel, save it again as an Excel workbook (.xlsx) and send "
                "it again."
            ),
            about_file=True,
        ),
        _code(
            "xml-encoding",
            Severity.ERROR,
            "A part of the file is in an encoding Excel never writes",
            "A part of the file is in an encoding Excel never writes.",
            advice=(
                "The file was written by a program other than a spreadsheet application. Ask the "
                "school to open it in Excel, save it again as an Excel workbook (.xlsx) and send "
                "it again."
            ),
            about_file=True,
        ),
    ]
)
DEFAULT_ADVICE = "Please correct this and send the workbook again."
