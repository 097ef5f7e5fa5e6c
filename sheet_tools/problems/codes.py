"""Every problem code sheet-tools can emit, registered once, with all the wording a school reads:
its severity, a title, the message template (and named variants where one code covers several
situations) and the advice a school is given.

As in frictionless-py's ``errors``, callers pass only values (``Issue.of(code, variant=...,
**params)``): the sentence is always made here, so wording is consistent and lives in one file.
Templates never name the issue's location (sheet, cell, statement): the renderer shows it once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from string import Formatter


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class MessageError(ValueError):
    """A message asked for with an unknown variant or without a parameter its template names: a
    programming error, caught by the tests."""


@dataclass(frozen=True)
class ProblemCode:
    """What one code means, wherever it is raised or shown.

    ``template`` and each of ``variants`` is a ``str.format`` template whose named fields are the
    values a caller passes (``value``, ``statement`` and code-specific parameters). ``advice``
    tells the school what to do; ``variant_advice`` replaces it for a variant that needs other
    advice. ``about_file`` marks checks on the file itself: a file failing one is not opened again
    to write an annotated copy.
    """

    code: str
    severity: Severity
    title: str
    template: str
    advice: str | None = None
    about_file: bool = False
    variants: Mapping[str, str] = field(default_factory=dict)
    variant_advice: Mapping[str, str] = field(default_factory=dict)

    def template_for(self, variant: str | None = None) -> str:
        if variant is None:
            return self.template
        try:
            return self.variants[variant]
        except KeyError:
            raise MessageError(f"{self.code}: no variant {variant!r}") from None

    def advice_for(self, variant: str | None = None) -> str:
        if variant is not None and variant in self.variant_advice:
            return self.variant_advice[variant]
        return self.advice or DEFAULT_ADVICE

    def fields(self, variant: str | None = None) -> set[str]:
        """The names a template asks for (``{rows:,}`` asks for ``rows``)."""
        parsed = Formatter().parse(self.template_for(variant))
        return {name.split(".")[0].split("[")[0] for _, name, _, _ in parsed if name}

    def message(self, variant: str | None = None, **values: object) -> str:
        template = self.template_for(variant)
        try:
            return template.format(**values)
        except (KeyError, IndexError) as exc:
            which = variant or "default"
            raise MessageError(f"{self.code} ({which}): no value for {exc}") from None


def _code(
    code: str,
    severity: Severity,
    title: str,
    template: str,
    *,
    advice: str | None = None,
    about_file: bool = False,
    variants: Mapping[str, str] | None = None,
    variant_advice: Mapping[str, str] | None = None,
) -> tuple[str, ProblemCode]:
    return code, ProblemCode(
        code, severity, title, template, advice, about_file, variants or {}, variant_advice or {}
    )


RESAVE = (
    "The file is probably damaged or was saved by an unusual program. Ask the school to open it "
    "in Excel, use File > Save As > Excel Workbook (.xlsx) and send the new file."
)
ASK_FOR_NEW = (
    "Ask whoever sent the form for a fresh copy, copy the answers into it and send that back."
)
NOT_SAFE = "It was not opened, to keep the system safe."
DEFAULT_ADVICE = "Please correct this and send the workbook again."

# Every code sheet-tools can emit. Codes are stable: add new ones, never rename or reuse one,
# since trusts may filter reports by them.
CODES: dict[str, ProblemCode] = dict(
    [
        # the file itself (guard)
        _code(
            "empty-file",
            Severity.ERROR,
            "The file is empty",
            "The file is empty (0 bytes): it may not have finished saving or copying.",
            advice="Ask the school to save the workbook again and send it again.",
            about_file=True,
        ),
        _code(
            "not-a-workbook",
            Severity.ERROR,
            "The file is not an Excel workbook",
            "This file is not an Excel workbook.",
            advice=(
                "Ask the school to send the workbook they filled in, saved as an Excel workbook "
                "(.xlsx), not as CSV, PDF or another kind of file."
            ),
            about_file=True,
            # what the file plainly is, from its leading bytes (never its name)
            variants={
                "pdf": "This is a PDF document, not an Excel workbook.",
                "image": "This is a picture ({format}), not an Excel workbook.",
                "rich-text": "This is a Rich Text document, not an Excel workbook.",
                "archive": "This is a {format} archive, not an Excel workbook.",
                "zip": "This is a zip archive, not an Excel workbook.",
                "html": "This is a web page (HTML) saved with a spreadsheet's name, not an Excel "
                "workbook.",
                "xml": "This is an XML file (perhaps 'XML Spreadsheet 2003'), not an Excel "
                "workbook.",
                "csv": "This is a text (CSV) file, not an Excel workbook.",
                "text": "This is a text file, not an Excel workbook.",
                "word": "This is a Word document, not an Excel workbook.",
                "powerpoint": "This is a PowerPoint presentation, not an Excel workbook.",
                "opendocument": "This is an OpenDocument file, but not a spreadsheet.",
            },
        ),
        _code(
            "truncated-file",
            Severity.ERROR,
            "The file is incomplete or damaged",
            "The file is incomplete or damaged, so it cannot be opened.",
            advice=(
                "The file was cut short or damaged on its way. Ask the school to save it again "
                "and send it again."
            ),
            about_file=True,
            variants={
                "ends-early": "The file is incomplete: it ends before the workbook does, and may "
                "not have finished copying, downloading or saving.",
                "unopenable": "The file is damaged and cannot be opened ({detail}).",
                "damaged-part": "A part of the file ({part}) is damaged and cannot be read.",
                "bad-xml": "A part of the file ({part}) is not well-formed.",
                "short-part": "A part of the file ({part}) is shorter than the file says.",
                "no-content-list": "The file is damaged: it has no content list.",
                "no-workbook-part": "The file is damaged: its workbook part is missing.",
                "no-sheets": "The file is damaged: it has no sheets.",
                "old-office": "The file is an old-style Office file, and it is damaged or "
                "incomplete.",
                "sheet-data": "The file is damaged: its sheet data cannot be read ({detail}).",
                "unreadable-sheets": "The workbook is damaged and its sheets cannot be read "
                "({detail}).",
            },
        ),
        _code(
            "legacy-xls",
            Severity.ERROR,
            "Old .xls format",
            "The workbook is in the old Excel 97-2003 format (.xls) and could not be read "
            "({detail}).",
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
            "The file is {size_mb:,.1f} MB; returns are limited to {limit_mb:,} MB (a filled-in "
            "form is usually well under 1 MB).",
            advice=(
                "Large pictures pasted into the workbook are the usual cause. Ask the school to "
                "remove them, or to send the workbook they were given without added pictures or "
                "sheets."
            ),
            about_file=True,
        ),
        _code(
            "zip-bomb",
            Severity.ERROR,
            "The file expands to an unsafe size",
            "The file expands to an unsafe size when opened. " + NOT_SAFE,
            advice="Ask the school to send the original workbook again.",
            about_file=True,
            variants={
                "parts": "The file is made of {parts:,} parts; a form has a few dozen. " + NOT_SAFE,
                "size": "The file would expand to {megabytes:,.0f} MB when opened, far more than "
                "any form. " + NOT_SAFE,
                "budget": "The file expands to more than {megabytes:,} MB when opened, far more "
                "than any form. " + NOT_SAFE,
                "ratio": "A part of the file ({part}) expands {ratio:,.0f} times when opened, "
                "which is how 'zip bombs' are built. " + NOT_SAFE,
                "hidden-data": "A part of the file ({part}) holds more data than the file says "
                "it does, which is how 'zip bombs' hide. " + NOT_SAFE,
            },
        ),
        _code(
            "xml-attack",
            Severity.ERROR,
            "The file contains unsafe XML",
            "The file contains XML that sheet-tools refuses to read. " + NOT_SAFE,
            advice="Ask the school to send the original workbook again.",
            about_file=True,
            variants={
                "doctype": "A part of the file ({part}) declares XML entities (a DOCTYPE), which "
                "spreadsheet applications never write and which can be used to attack the "
                "computer opening it. " + NOT_SAFE,
                "long-tag": "A part of the file ({part}) holds a single XML tag longer than "
                "64 KB, which spreadsheet applications never write. " + NOT_SAFE,
            },
        ),
        _code(
            "macro-enabled",
            Severity.WARNING,
            "Macro-enabled workbook: data read, macros ignored",
            "The workbook contains macros: its answers were read and the macros ignored (they "
            "were never run).",
            advice="Next time, save it as an ordinary Excel Workbook (.xlsx).",
        ),
        _code(
            "too-many-rows",
            Severity.ERROR,
            "A sheet has far more rows than the form",
            "The sheet reaches row {rows:,}; the form has a few dozen rows, so something was "
            "pasted or filled far down the sheet.",
            advice=(
                "Ask the school to delete the extra rows, or to copy their answers into the "
                "workbook they were sent, and send it again."
            ),
            about_file=True,
        ),
        _code(
            "too-many-columns",
            Severity.ERROR,
            "A sheet has far more columns than the form",
            "The sheet reaches column {columns:,}; the form has a handful of columns.",
            advice=(
                "Ask the school to delete the extra columns, or to copy their answers into the "
                "workbook they were sent, and send it again."
            ),
            about_file=True,
        ),
        _code(
            "unreadable-file",
            Severity.ERROR,
            "The file could not be opened",
            "The file could not be opened ({reason}).",
            advice="Check that the file exists and is not open in another program, then try again.",
            about_file=True,
        ),
        _code(
            # Registered, never raised: names from the inbox are made safe (base.files.
            # safe_filename) when a file is filed, so no name is refused.
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
            "This workbook was not made by sheet-tools, or its About sheet has been deleted, so "
            "it cannot be matched to a form.",
            advice=(
                "Ask the school to fill in the workbook they were sent (without deleting any "
                "sheets) and send that back."
            ),
            variants={
                "unknown-form": "This workbook says it is the form '{value}', which sheet-tools "
                "does not know: it may have been made for another organisation, or its About "
                "sheet was edited.",
            },
            variant_advice={"unknown-form": ASK_FOR_NEW},
        ),
        _code(
            "unknown-version",
            Severity.ERROR,
            "A version of the form that is no longer known",
            "This workbook was made from version '{value}' of the form '{form}', which "
            "sheet-tools does not know (the versions it knows: {known}).",
            advice=ASK_FOR_NEW,
        ),
        _code(
            "missing-sheet",
            Severity.ERROR,
            "A sheet is missing",
            "The sheet for '{title}' is missing from the workbook: it may have been deleted.",
            advice=(
                "Ask the school to send back the workbook they were sent, with all its sheets, "
                "or to copy their answers into a fresh copy."
            ),
            variants={
                "cover": "The cover sheet (school, review date and other details) is missing "
                "from the workbook.",
                "action-plan": "The action plan sheet is missing from the workbook: it may have "
                "been deleted.",
            },
            variant_advice={"cover": ASK_FOR_NEW, "action-plan": ASK_FOR_NEW},
        ),
        _code(
            "missing-statement",
            Severity.ERROR,
            "A statement row is missing",
            "The statement's row is missing: it may have been deleted, or its id in column A "
            "changed.",
            advice=(
                "Ask the school to put the row back as it was in the form they were sent (the id "
                "in column A must stay as it was). " + ASK_FOR_NEW
            ),
            variants={
                "box": "The row of this box (id {statement} in column A) is missing: it may have "
                "been deleted, or its id changed.",
                "cover": "The row of this cover field (id {statement} in column A) is missing: "
                "it may have been deleted, or its id changed.",
            },
        ),
        _code(
            "duplicate-statement",
            Severity.ERROR,
            "A statement appears twice",
            "This id appears more than once in column A, in cells {cells}, so "
            "sheet-tools cannot tell which answer is meant.",
            advice=(
                "Ask the school to delete the extra row so each id appears once (or to copy "
                "their answers into a fresh copy of the form)."
            ),
        ),
        _code(
            "unknown-statement",
            Severity.WARNING,
            "A row with an id the form does not have",
            "The id '{value}' is not part of this form, so anything written in that row was not "
            "read.",
        ),
        _code(
            "formula-value",
            Severity.WARNING,
            "A cell holds a formula",
            "The cell holds a formula; its saved result '{value}' was used.",
            advice="sheet-tools never recalculates formulas: type the answer itself.",
            variants={
                "unsaved": "The cell holds a formula whose result was not saved, so it was read "
                "as blank.",
            },
        ),
        # content (validate)
        _code(
            "invalid-judgement",
            Severity.ERROR,
            "A judgement is not one of the allowed levels",
            "'{value}' is not a judgement: the choices are {choices}.",
            advice=(
                "Choose a judgement from the drop-down list in the cell (typing or pasting over "
                "the cell gets past the list)."
            ),
            variants={
                "suggestion": "'{value}' is not a judgement: the choices are {choices}. Did you "
                "mean {suggestion}?",
            },
        ),
        _code(
            "blank-judgement",
            Severity.WARNING,
            "A statement has not been judged",
            "The statement has no judgement, so it counts as 'not judged'.",
            advice="If the statement was discussed, choose a judgement from the drop-down.",
        ),
        _code(
            "no-judgements",
            Severity.ERROR,
            "No statement has been judged",
            "No statement has been judged: every judgement cell is blank.",
            advice=(
                "Ask the school to choose a judgement for each statement they have discussed, "
                "then send the workbook again."
            ),
        ),
        _code(
            "missing-field",
            Severity.ERROR,
            "A required cover field is empty",
            "This required field is empty.",
            advice="Fill in this field on the Cover sheet.",
            variants={
                "date": "This required date is empty.",
                "no-review-date-field": "The form '{form}' has no review date field, so its "
                "returns cannot be stored.",
            },
            variant_advice={
                "date": "Type the date on the Cover sheet as day/month/year, for example "
                "03/10/2026.",
                "no-review-date-field": "Tell whoever maintains the form definitions.",
            },
        ),
        _code(
            "invalid-date",
            Severity.ERROR,
            "The review date is not a date",
            "'{value}' is not a date.",
            advice="Type the date as day/month/year, for example 03/10/2026.",
            variants={"implausible": "'{value}' is not a plausible review date."},
        ),
        _code(
            "invalid-due-date",
            Severity.ERROR,
            "An action's due date is not a date",
            "'{value}' is not a date.",
            advice="Type the due date as day/month/year, for example 31/03/2027, or leave it "
            "blank.",
        ),
        _code(
            "invalid-status",
            Severity.ERROR,
            "An action's status is not one of the choices",
            "'{value}' is not a status: the choices are {choices}.",
            advice="Choose the status from the drop-down list in the cell.",
        ),
        _code(
            "done-without-note",
            Severity.WARNING,
            "An action marked Done has no progress note",
            "The action is marked Done but has no progress note.",
            advice="Say briefly what was done, so the next round can see it.",
        ),
        _code(
            "action-without-text",
            Severity.WARNING,
            "An action plan row has details but no action",
            "The row has an owner, date, status or note but no action, so it was not read.",
            advice="Write the action in the row's Action cell, or clear the row.",
        ),
        _code(
            "invalid-urn",
            Severity.ERROR,
            "The URN is not a six-digit number",
            "'{value}' is not a URN: a URN is the school's six-digit Unique Reference Number.",
            advice=(
                "Type the school's six-digit URN (for example 123456), as shown on Get "
                "Information About Schools."
            ),
        ),
        _code(
            "invalid-choice",
            Severity.ERROR,
            "A cover field is not one of its choices",
            "'{value}' is not one of the choices: {choices}.",
            advice="Choose one of the options from the drop-down list in the cell.",
            variants={
                "suggestion": "'{value}' is not one of the choices: {choices}. Did you mean "
                "{suggestion}?",
            },
        ),
        _code(
            "missing-next-steps",
            Severity.WARNING,
            "Low judgements but no next steps written",
            "The '{box}' box is empty, though statements on this sheet were judged {levels} "
            "({statements}).",
            advice="Write the next steps agreed for this area, or explain why there are none.",
        ),
        _code(
            "personal-data",
            Severity.WARNING,
            "Text that looks like pupils' personal data",
            "The text looks like it names or identifies a pupil.",
            advice=(
                "Answers travel on to trust-wide summaries, so remove pupils' personal details "
                "(names, UPNs, contact details) unless they are meant to be shared."
            ),
            variants={
                "upn": "The text contains what looks like a pupil's UPN (a letter followed by "
                "12 digits).",
                "email": "The text contains what looks like an e-mail address.",
                "phone": "The text contains what looks like a phone number.",
            },
        ),
        _code(
            "text-too-long",
            Severity.ERROR,
            "A text answer is too long",
            "The text holds {length:,} characters; an Excel cell holds at most {limit:,}, so "
            "summaries could not show it.",
            advice="Shorten the text in this cell.",
        ),
        # identity (validate, against the issued workbook and the roster)
        _code(
            "urn-mismatch",
            Severity.WARNING,
            "The URN typed is not the one the workbook was issued for",
            "The URN typed, {value}, is not the URN this workbook was issued for, {issued}, so "
            "the return is filed under {issued}.",
            advice="If that is the wrong school, ask for the right school's workbook.",
        ),
        _code(
            "similar-trust",
            Severity.WARNING,
            "A trust name close to a known trust's",
            "The trust '{value}' is not one sheet-tools knows: did you mean {suggestion}? The "
            "return is filed under '{value}' as typed.",
            advice="If it is the same trust, correct the cover (or add the school to the roster).",
        ),
        _code(
            "judge-mismatch",
            Severity.WARNING,
            "'Judgements made by' differs from the role the workbook was issued to",
            "'Judgements made by' says {value}, but this workbook was issued for the {issued}'s "
            "judgements, so that is how it is filed.",
        ),
        _code(
            "missing-judge",
            Severity.ERROR,
            "Whose judgements these are is not said",
            "'Judgements made by' is empty, so sheet-tools cannot tell whose judgements these are.",
            advice=(
                "Choose Self-evaluation (the school's own), External reviewer or Peer reviewer "
                "in 'Judgements made by' on the Cover sheet."
            ),
        ),
        _code(
            "unlikely-review-date",
            Severity.WARNING,
            "A review date in the future or long before the round",
            "The review date {value} is in the future or long before the round.",
            advice="Check it; if it is wrong, correct it and send the workbook again.",
            variants={
                "future": "The review date {value} is in the future.",
                "long-before": "The review date {value} is more than two years before the "
                "{round} round.",
            },
        ),
        # ingest (store / watch)
        _code(
            "duplicate",
            Severity.WARNING,
            "The same file was already received",
            "This file is identical, byte for byte, to '{original}', received {received}. It "
            "has been kept once.",
            advice="Nothing needs doing.",
        ),
        _code(
            "unsupported-file",
            Severity.ERROR,
            "Not a file type sheet-tools reads",
            "This is not a file type sheet-tools reads.",
            advice="Ask the school to send the Excel workbook (.xlsx) they were given.",
            about_file=True,
            variants={
                "xlsb": "This is an Excel binary workbook (.xlsb), which sheet-tools does not "
                "read.",
                "compression": "The file was compressed in a way spreadsheet applications do "
                "not use (method {method} in {part}).",
                "zip-flags": "The file was saved in a way spreadsheet applications do not use "
                "({part}).",
            },
        ),
        _code(
            "internal-error",
            Severity.ERROR,
            "sheet-tools could not process the file",
            "sheet-tools could not process this file because of an internal problem "
            "({detail}). The file was not changed.",
            advice=(
                "This is a fault in sheet-tools, not in the school's file as far as we know: "
                "pass the file and this report to whoever supports sheet-tools."
            ),
            about_file=True,
            variants={
                "checking": "sheet-tools met an unexpected problem while checking the file "
                "({detail}). The file is kept, unchanged, in the rejected folder.",
                "recording": "sheet-tools met an unexpected problem while recording the file "
                "({detail}). The file is kept, unchanged, in the rejected folder.",
                "filing": "The file was checked but could not be filed into {destination} "
                "({detail}). It has been left where it was.",
                "unreadable": "The file could not be read ({detail}). It has been left where it "
                "is.",
            },
            variant_advice={
                "unreadable": "Check that the file exists and that sheet-tools may read it.",
            },
        ),
        # bounded reading (worker): a file that stopped or outgrew the reader
        _code(
            "reader-crashed",
            Severity.ERROR,
            "The workbook made the reader stop",
            "The workbook could not be read: the reader stopped while opening it.",
            advice=RESAVE,
            about_file=True,
            variants={
                "detail": "The workbook could not be read: the reader stopped while opening it "
                "({detail}).",
                "set-aside": "The service stopped {attempts} times while reading this workbook, "
                "so it was set aside without being read again.",
            },
        ),
        _code(
            "reader-timeout",
            Severity.ERROR,
            "Reading the workbook took far too long",
            "Reading this workbook took far longer than any form takes, so it was stopped.",
            advice=RESAVE,
            about_file=True,
            variants={
                "detail": "Reading this workbook took far longer than any form takes, so it was "
                "stopped ({detail}).",
            },
        ),
        _code(
            "reader-out-of-memory",
            Severity.ERROR,
            "Reading the workbook needed far too much memory",
            "Reading this workbook needed far more memory than any form needs, so it was "
            "stopped: something inside the file declares sizes it does not have.",
            advice=RESAVE,
            about_file=True,
            variants={
                "detail": "Reading this workbook needed far more memory than any form needs, so "
                "it was stopped ({detail}): something inside the file declares sizes it does "
                "not have.",
            },
        ),
        # damaged or unusual workbooks (guard): not attacks, but not safe to read as they are
        _code(
            "duplicate-part",
            Severity.ERROR,
            "The file holds two parts with the same name",
            "The file holds two parts with the same name ({parts}), which spreadsheet "
            "applications never write: different programs would read different contents from "
            "it, so it was not read.",
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
            "The cell is numbered as row 0, which no spreadsheet has (rows start at 1), so it "
            "cannot be placed.",
            advice=(
                "The file was written by a program other than a spreadsheet application, or "
                "damaged. Ask the school to open it in Excel, save it again as an Excel workbook "
                "(.xlsx) and send it again."
            ),
            about_file=True,
            variants={
                "row": "A row is numbered as row 0, which no spreadsheet has (rows start at 1), "
                "so its cells cannot be placed.",
            },
        ),
        _code(
            "xml-encoding",
            Severity.ERROR,
            "A part of the file is in an encoding Excel never writes",
            "A part of the file ({part}) is written in a text encoding spreadsheet applications "
            "never use ({encoding}), so it could not be read safely.",
            advice=(
                "The file was written by a program other than a spreadsheet application. Ask the "
                "school to open it in Excel, save it again as an Excel workbook (.xlsx) and send "
                "it again."
            ),
            about_file=True,
        ),
    ]
)
