"""Raw values -> a validated return plus a report of typed issues (codes, locations, messages).

Like the DfE's COLLECT, errors (must be fixed; the return is rejected) are kept apart from
queries (warnings a school can explain; the return is accepted with them). Values pasted over a
drop-down bypass Excel's own validation, so every judgement is checked again here, and every
message says where the problem is and what to do about it.

Long text: a text answer longer than Excel's own cell limit (32,767 characters) is an error,
because summaries write every answer back into an Excel cell and could not hold it; anything
shorter is kept whole.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, Field

from ..base.keys import squash
from ..definitions import cell_layout
from ..definitions.carried import ACTION_STATUSES, Action
from ..definitions.frameworks import (
    NOT_APPLICABLE_CODE,
    NOT_APPLICABLE_LABEL,
    CoverField,
    Framework,
    Registry,
    Sheet,
    Statement,
)
from ..definitions.rounds import Judge
from ..problems.report import FileReport, Issue, Severity, has_errors
from .guard import DEFAULT_LIMITS, Limits, guard_file
from .identity import Known, closest, resolve
from .read import RawCell, RawReturn, read_guarded
from .returns import ValidReturn

log = logging.getLogger(__name__)

MAX_TEXT = 32_767  # Excel's limit on the characters in one cell
EARLIEST_REVIEW = date(2000, 1, 1)
LATEST_REVIEW = date(2100, 12, 31)


# --- values -------------------------------------------------------------------------------------
def _as_text(value: object) -> str:
    """A cell value as the text a person typed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _printable(text: str) -> str:
    """Text without control characters (which a cell can carry but no summary can show)."""
    return _CONTROL.sub("", text)


def _either(words: list[str]) -> str:
    """'A, B, C or D'."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


_EXCEL_EPOCH = date(1899, 12, 30)
_ORDINAL = re.compile(r"(\d)(st|nd|rd|th)\b", re.IGNORECASE)
_DATE_FORMATS = (
    "%d/%m/%Y",
    "%d/%m/%y",
    "%d-%m-%Y",
    "%d-%m-%y",
    "%d.%m.%Y",
    "%d.%m.%y",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%d %B %Y",
    "%d %b %Y",
    "%d %B %y",
    "%d %b %y",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%A %d %B %Y",
    "%a %d %b %Y",
    "%B %d %Y",
    "%b %d %Y",
)


def parse_date(value: object) -> date | None:
    """A date from a real date, an Excel serial number, or UK-style text (day first):
    03/10/2026, 3/10/26, 3 Oct 2026, 3rd October 2026, 2026-10-03. None when it is not one."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if 1 <= value < 2958466:
            return _EXCEL_EPOCH + timedelta(days=int(value))
        return None
    if not isinstance(value, str):
        return None
    text = " ".join(_ORDINAL.sub(r"\1", value.replace(",", " ")).split())
    text = re.sub(r"\bsept\b", "Sep", text, flags=re.IGNORECASE)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        return None


def normalise_urn(value: object) -> str | None:
    """A URN as digits text ("123456"), from a number or text; None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not value.is_integer():
            return None
        value = int(value)
    text = "".join(str(value).split())
    if text.endswith(".0"):
        text = text[:-2]
    return text if text.isdigit() and 5 <= len(text) <= 7 else None


def _judge_of(choice: str) -> Judge:
    """Which kind of judgement a 'Judgements made by' choice means."""
    words = choice.casefold()
    if "external" in words:
        return "external-review"
    if "peer" in words:
        return "peer-review"
    return "self-evaluation"


# Pupils' personal data that must not travel on to trust-wide summaries, by the personal-data
# variant that names it.
_PERSONAL = (
    (re.compile(r"\b[A-Za-z]\d{12}\b"), "upn"),
    (re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"), "email"),
    (
        re.compile(r"(?<![\d+])(?:\+44\s?(?:\(0\)\s?)?|\b0)\d(?:[ -]?\d){8,9}(?![\d])"),
        "phone",
    ),
)


_MAYBE_PERSONAL = re.compile(r"[\d@]")


def personal_data(text: str) -> list[str]:
    """The kinds of personal data ``text`` seems to hold ("upn", "email", "phone"; never the data
    itself)."""
    if not _MAYBE_PERSONAL.search(text):  # every pattern needs a digit or an @
        return []
    return [what for pattern, what in _PERSONAL if pattern.search(text)]


# --- checking -----------------------------------------------------------------------------------
@dataclass
class _Checked:
    """Everything worked out from a return, whether or not it is valid (the report needs it)."""

    school: str | None = None
    urn: str | None = None
    trust: str | None = None
    review_date: date | None = None
    judge: Judge | None = None
    round: str | None = None
    issue_id: str | None = None
    cover: dict[str, str] = field(default_factory=dict)
    judgements: dict[str, str | None] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    actions: list[Action] | None = None
    issues: list[Issue] = field(default_factory=list)

    def add(self, code: str, cell: RawCell | None = None, **values: str | int | None) -> None:
        """An issue of ``code`` located at ``cell``, made from ``values`` (``label``, ``variant``,
        ``statement``, ``value`` and the parameters its template names)."""
        if cell is not None:
            values = {"sheet": cell.sheet, "cell": cell.cell, **values}
        self.issues.append(Issue.of(code, **values))  # type: ignore[arg-type]


def _suggest_level(framework: Framework, value: object) -> str | None:
    """The choice a judgement that is not one most likely meant: a score typed as a number, or
    a near miss of a code or label ("Embeded", "Not aplicable" where the framework allows it)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return next((lv.label for lv in framework.levels if lv.score == value), None)
    na_word = squash(NOT_APPLICABLE_LABEL)
    words = framework.level_words() + ([na_word] if framework.not_applicable else [])
    word = closest(squash(_as_text(value)), words)
    if word is None:
        return None
    return NOT_APPLICABLE_LABEL if word == na_word else framework.level_for_word(word).label


def _allowed(framework: Framework) -> str:
    labels = [level.label for level in framework.levels]
    return _either(labels + ([NOT_APPLICABLE_LABEL] if framework.not_applicable else []))


def _formula_warning(checked: _Checked, cell: RawCell, what: str) -> None:
    if not cell.formula:
        return
    if cell.value is None:
        checked.add("formula-value", cell, variant="unsaved", label=what)
    else:
        checked.add("formula-value", cell, label=what, value=_as_text(cell.value))


def _check_judgements(checked: _Checked, raw: RawReturn, framework: Framework) -> None:
    allowed = _allowed(framework)
    blanks: list[tuple[Sheet, Statement, RawCell]] = []
    judged = 0
    for sheet, statement in framework.judged_statements():
        cell = raw.judgements.get(statement.id)
        if cell is None:  # missing row: already reported by the reader
            checked.judgements[statement.id] = None
            continue
        _formula_warning(checked, cell, f"statement {statement.id}")
        if cell.value is None or (isinstance(cell.value, str) and not cell.value.strip()):
            checked.judgements[statement.id] = None
            blanks.append((sheet, statement, cell))
            continue
        judged += 1
        if framework.is_not_applicable(cell.value):  # answered, so never a blank's warning
            checked.judgements[statement.id] = NOT_APPLICABLE_CODE
            continue
        level = framework.level(cell.value)
        if level is not None:
            checked.judgements[statement.id] = level.code
            continue
        checked.judgements[statement.id] = None
        found = _as_text(cell.value)
        hint = _suggest_level(framework, cell.value)
        checked.add(
            "invalid-judgement",
            cell,
            variant="suggestion" if hint else None,
            statement=statement.id,
            value=found,
            choices=allowed,
            **({"suggestion": hint} if hint else {}),
        )
    if framework.judged and raw.judgements and judged == 0:
        checked.add("no-judgements")
        return
    for _, statement, cell in blanks:
        checked.add("blank-judgement", cell, statement=statement.id)


def _check_next_steps(checked: _Checked, raw: RawReturn, framework: Framework) -> None:
    low_codes = {level.code for level in framework.priority_levels}
    low_words = _either([level.label for level in framework.priority_levels])
    for sheet in framework.sheets:
        if not sheet.judged:
            continue
        low = [st.id for st in sheet.statements if checked.judgements.get(st.id) in low_codes]
        for box in sheet.boxes:
            cell = raw.texts.get(box.id)
            if box.role != "next_steps" or not low or cell is None:
                continue
            if checked.texts.get(box.id):
                continue
            checked.add(
                "missing-next-steps",
                cell,
                label=box.label,
                levels=low_words,
                statements=", ".join(low),
            )


def _check_texts(checked: _Checked, raw: RawReturn, framework: Framework) -> None:
    labels: dict[str, str] = {}
    for sheet in framework.sheets:
        for statement in sheet.statements:
            for column in sheet.columns:
                labels[f"{statement.id}.{column.id}"] = f"statement {statement.id}, {column.label}"
        for box in sheet.boxes:
            labels[box.id] = box.label
    for key, cell in raw.texts.items():
        what = labels.get(key, key)
        _formula_warning(checked, cell, what)
        text = _printable(_as_text(cell.value))
        if not text:
            continue
        if len(text) > MAX_TEXT:
            checked.add("text-too-long", cell, label=what, length=len(text), limit=MAX_TEXT)
        checked.texts[key] = text
        _personal_data(checked, cell, what, text)


def _personal_data(checked: _Checked, cell: RawCell, label: str, text: str) -> None:
    """One query for each kind of personal data the text seems to hold."""
    for kind in personal_data(text):
        checked.add("personal-data", cell, variant=kind, label=label)


# action plan cell key -> its column's heading ("due" -> "Due date")
_ACTION_LABELS = dict(zip(cell_layout.ACTION_COLS, cell_layout.ACTION_HEADERS[1:], strict=True))


def _check_actions(checked: _Checked, raw: RawReturn) -> None:
    """Each action plan row: a due date that is a date, a status from the drop-down, and a
    note for an action marked Done (a query, not an error)."""
    if raw.actions is None:
        return
    by_word = {squash(status): status for status in ACTION_STATUSES}
    checked.actions = []
    for row in raw.actions:
        cells = row.cells
        for key, cell in cells.items():
            _formula_warning(checked, cell, _ACTION_LABELS.get(key, key))
        text = {key: _printable(_as_text(cell.value)) for key, cell in cells.items()}
        if not text["action"]:
            if any(text[key] for key in ("owner", "due", "status", "note")):
                cell = cells["action"]
                checked.add("action-without-text", cell, label=_ACTION_LABELS["action"])
            continue
        due = None
        if text["due"]:
            due = parse_date(cells["due"].value)
            if due is None or not EARLIEST_REVIEW <= due <= LATEST_REVIEW:
                due = None
                due_cell = cells["due"]
                checked.add(
                    "invalid-due-date", due_cell, label=_ACTION_LABELS["due"], value=text["due"]
                )
        status = ""
        if text["status"]:
            status = by_word.get(squash(text["status"]), "")
            if not status:
                checked.add(
                    "invalid-status",
                    cells["status"],
                    label=_ACTION_LABELS["status"],
                    value=text["status"],
                    choices=_either(list(ACTION_STATUSES)),
                )
        if status == "Done" and not text["note"]:
            checked.add("done-without-note", cells["note"], label=_ACTION_LABELS["note"])
        for key in ("action", "note"):
            label = _ACTION_LABELS[key]
            if len(text[key]) > MAX_TEXT:
                checked.add(
                    "text-too-long", cells[key], label=label, length=len(text[key]), limit=MAX_TEXT
                )
            _personal_data(checked, cells[key], label, text[key])
        checked.actions.append(
            Action(
                id=row.id,
                action=text["action"],
                area=text["area"],
                owner=text["owner"],
                due=due,
                status=status,
                note=text["note"],
            )
        )


def _check_cover_field(checked: _Checked, spec: CoverField, cell: RawCell | None) -> None:
    value = cell.value if cell is not None else None
    blank = value is None or (isinstance(value, str) and not value.strip())
    label = spec.label
    if cell is not None:
        _formula_warning(checked, cell, spec.label)
    if blank:
        checked.cover[spec.id] = ""
        if spec.required or spec.role in ("school", "review_date"):
            variant = "date" if spec.kind == "date" else None
            checked.add("missing-field", cell, variant=variant, label=label)
        return
    if spec.kind == "date":
        parsed = parse_date(value)
        if parsed is None or not EARLIEST_REVIEW <= parsed <= LATEST_REVIEW:
            shown = _as_text(value)
            variant = None if parsed is None else "implausible"
            checked.add("invalid-date", cell, variant=variant, label=label, value=shown)
            checked.cover[spec.id] = shown
            return
        checked.cover[spec.id] = parsed.isoformat()
        if spec.role == "review_date":
            checked.review_date = parsed
        return
    if spec.kind == "urn":
        urn = normalise_urn(value)
        if urn is None:
            shown = _as_text(value)
            checked.add("invalid-urn", cell, label=label, value=shown)
            checked.cover[spec.id] = shown
            return
        checked.cover[spec.id] = urn
        if spec.role == "urn":
            checked.urn = urn
        return
    text = " ".join(_printable(_as_text(value)).split())
    if spec.kind == "choice":
        by_word = {squash(choice): choice for choice in spec.choices}
        choice = by_word.get(squash(text))
        if choice is None:
            word = closest(squash(text), list(by_word))
            checked.add(
                "invalid-choice",
                cell,
                variant="suggestion" if word else None,
                label=label,
                value=text,
                choices=_either(list(spec.choices)),
                **({"suggestion": by_word[word]} if word else {}),
            )
            checked.cover[spec.id] = text
            return
        text = choice
        if spec.role == "judge":
            checked.judge = _judge_of(choice)
    if len(text) > MAX_TEXT:
        checked.add("text-too-long", cell, label=label, length=len(text), limit=MAX_TEXT)
    checked.cover[spec.id] = text
    if spec.role == "school":
        checked.school = text
    elif spec.role == "trust":
        checked.trust = text
    elif spec.role == "other" and cell is not None:
        _personal_data(checked, cell, label, text)


def _identify(checked: _Checked, raw: RawReturn, framework: Framework, known: Known) -> None:
    """Replace what was typed by who the return is from (see ``identity``)."""
    cells = {
        spec.role: (raw.cover[spec.id].sheet, raw.cover[spec.id].cell)
        for spec in framework.cover
        if spec.id in raw.cover
    }
    found = resolve(
        raw.issued,
        checked.school,
        checked.urn,
        checked.trust or None,
        checked.judge,
        checked.review_date,
        known,
        cover_cell=cells,
        asks_judge=framework.cover_field("judge") is not None,
        reviewer_form=framework.reviewer_form,
    )
    checked.school, checked.urn, checked.trust = found.school, found.urn, found.trust
    checked.judge, checked.round, checked.issue_id = found.judge, found.round, found.issue_id
    checked.issues.extend(found.issues)


def _check(raw: RawReturn, framework: Framework, known: Known | None = None) -> _Checked:
    checked = _Checked()
    for spec in framework.cover:
        _check_cover_field(checked, spec, raw.cover.get(spec.id))
    _identify(checked, raw, framework, known or Known())
    if framework.cover_field("review_date") is None:
        checked.add("missing-field", variant="no-review-date-field", form=framework.id)
    _check_judgements(checked, raw, framework)
    _check_texts(checked, raw, framework)
    _check_next_steps(checked, raw, framework)
    _check_actions(checked, raw)
    return checked


def _valid(
    raw: RawReturn, framework: Framework, checked: _Checked, issues: list[Issue]
) -> ValidReturn | None:
    if has_errors(issues) or checked.school is None or checked.review_date is None:
        return None
    if checked.judge is None or checked.round is None:
        return None
    return ValidReturn(
        template_id=raw.template_id,
        template_version=raw.template_version,
        school=checked.school,
        urn=checked.urn,
        trust=checked.trust or None,
        review_date=checked.review_date,
        judge=checked.judge,
        round=checked.round,
        issue_id=checked.issue_id,
        # a follow-up visit is its visit date: a reused workbook with a new date is a new visit
        occasion=checked.review_date.isoformat() if framework.part == "follow-up" else "",
        cover=checked.cover,
        judgements=checked.judgements,
        texts=checked.texts,
        actions=checked.actions,
        warnings=[issue for issue in issues if issue.severity is Severity.WARNING],
    )


def validate_return(
    raw: RawReturn, framework: Framework, known: Known | None = None
) -> tuple[ValidReturn | None, list[Issue]]:
    """Check the content of a read return; None when any issue is an error."""
    checked = _check(raw, framework, known)
    return _valid(raw, framework, checked, checked.issues), checked.issues


class ReadFile(BaseModel):
    """What guarding and reading one file gave: the part that parses untrusted bytes, run in a
    bounded worker by the service; validating it (``assess``) needs nothing but these values."""

    sha256: str | None = None
    raw: RawReturn | None = None
    issues: list[Issue] = Field(default_factory=list)


def _internal_error(exc: Exception) -> Issue:
    return Issue.of("internal-error", detail=repr(exc))  # what support needs: KeyError('LM01')


def read_file(path: Path, registry: Registry, limits: Limits = DEFAULT_LIMITS) -> ReadFile:
    """guard -> read. Nothing escapes as an exception: anything unexpected is an issue."""
    found = ReadFile()
    try:
        guarded = guard_file(path, limits)
        found.sha256 = guarded.sha256
        found.issues.extend(guarded.issues)
        found.raw, read_issues = read_guarded(guarded, registry)
        found.issues.extend(read_issues)
    except Exception as exc:  # never a traceback for the user: the file is reported instead
        log.exception("internal error while reading %s", path)
        found.raw = None
        found.issues.append(_internal_error(exc))
    return found


def assess(
    path: Path, read: ReadFile, registry: Registry, known: Known | None = None
) -> tuple[FileReport, ValidReturn | None]:
    """validate what was read: the report (status "accepted" or "rejected", with the file's
    SHA-256) and the validated return when accepted. ``known`` (the roster, the trusts already
    stored) anchors who the return is from."""
    report = FileReport(file=str(path), status="rejected", sha256=read.sha256)
    issues = list(read.issues)
    valid: ValidReturn | None = None
    raw = read.raw
    try:
        if raw is not None:
            report.template = raw.template_id
            report.template_version = raw.template_version
            # the round it was issued for, even when its form is not known (identity may refine)
            report.round = raw.issued.get(cell_layout.KEY_ROUND)
            framework = registry.get(raw.template_id, raw.template_version)
            if framework is not None:
                checked = _check(raw, framework, known)
                issues.extend(checked.issues)
                report.school = checked.school
                report.urn = checked.urn
                report.trust = checked.trust or None
                report.round = checked.round
                report.issue_id = checked.issue_id
                if checked.review_date is not None:
                    report.review_date = checked.review_date.isoformat()
                valid = _valid(raw, framework, checked, issues)
    except Exception as exc:  # never a traceback for the user: the file is reported instead
        log.exception("internal error while checking %s", path)
        issues.append(_internal_error(exc))
        valid = None
    report.errors = issues
    report.status = "rejected" if valid is None or has_errors(issues) else "accepted"
    if report.status == "rejected":
        valid = None
    return report, valid


def check_file(
    path: Path,
    registry: Registry,
    known: Known | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[FileReport, ValidReturn | None]:
    """guard -> read -> validate, in this process, changing nothing: what ``sheet-tools
    validate`` prints (the service reads in a bounded worker instead: ``worker``)."""
    path = Path(path)
    return assess(path, read_file(path, registry, limits), registry, known)
