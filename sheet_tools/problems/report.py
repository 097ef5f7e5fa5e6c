"""Typed problems found in a returned workbook, and the per-file report built from them.

Modelled on frictionless-py: every problem has a stable code registered once (``codes``) with its
severity, title, advice and message templates; an ``Issue`` is one occurrence, made from its code
and values only, with its location held apart from its message. Errors reject a return; warnings
do not. How a report is shown to a person is ``render``'s business.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .codes import CODES, Severity


class Issue(BaseModel):
    """One problem, located as precisely as it can be.

    ``message`` is the code's template filled in with the values (kept, so a stored or printed
    report reads the same later); it never names the location, which the renderer shows once.
    ``label`` says what the located cell is ("Review date", "statement 1.2, Evidence")."""

    model_config = ConfigDict(frozen=True)

    code: str
    severity: Severity
    message: str
    sheet: str | None = None
    cell: str | None = None
    statement: str | None = None
    value: str | None = None
    label: str | None = None
    variant: str | None = None
    params: dict[str, str | int | float] = Field(default_factory=dict)

    @classmethod
    def of(
        cls,
        code: str,
        *,
        sheet: str | None = None,
        cell: str | None = None,
        statement: str | None = None,
        value: str | None = None,
        label: str | None = None,
        variant: str | None = None,
        **params: str | int | float,
    ) -> Issue:
        """An issue of a registered code: its severity and sentence come from the registry,
        filled in with the values given. A value its template names but the caller did not pass
        raises ``MessageError``."""
        problem = CODES[code]
        values: dict[str, object] = dict(params)
        if statement is not None:
            values["statement"] = statement
        if value is not None:
            values["value"] = value
        return cls(
            code=code,
            severity=problem.severity,
            message=problem.message(variant, **values),
            sheet=sheet,
            cell=cell,
            statement=statement,
            value=value,
            label=label,
            variant=variant,
            params=params,
        )

    @property
    def where(self) -> str:
        """The sheet and cell, as "sheet 'Cover', cell C8" ("" for the whole file)."""
        sheet = f"sheet '{self.sheet}'" if self.sheet else ""
        return ", ".join(p for p in (sheet, f"cell {self.cell}" if self.cell else "") if p)

    @property
    def advice(self) -> str:
        return CODES[self.code].advice_for(self.variant)


Status = Literal["accepted", "rejected", "duplicate"]
Visit = Literal["new", "corrects"]
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
    issue_id: str | None = None  # the About sheet's, for a workbook sheet-tools issued
    # an accepted follow-up visit: "new" (no visit of its date held) or "corrects" (it replaces
    # the return held for the visit of its date); None for a form a round holds one of
    visit: Visit | None = None
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
