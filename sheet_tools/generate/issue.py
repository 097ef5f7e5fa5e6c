"""What a workbook is issued for: a round and, for a reviewer's form, a role."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, Field

from ..base.clock import today
from ..definitions.frameworks import Framework
from ..definitions.rounds import Judge, clean_round, round_problem, term_of
from ..exceptions import GenerateError


class Issued(BaseModel):
    """What one workbook is issued for, written into its About sheet: the return is matched to
    it first, and what the school types is checked against it."""

    issue_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    round: str
    judge: Judge | None = None  # the role it was issued to; None lets the cover say
    # a follow-up visit's date, prefilled for those who issue one workbook per visit
    visit_date: date | None = None


def issue_for(
    framework: Framework,
    round_name: str | None,
    judge: Judge | None,
    visit_date: date | None = None,
) -> Issued:
    """A new issue of ``framework``: for ``round_name`` (default: the school term containing
    today), for a reviewer's form always a reviewer's role, and for a follow-up visit perhaps
    its date."""
    name = clean_round(round_name) if round_name is not None else term_of(today())
    problem = round_problem(name)
    if problem:
        raise GenerateError(problem)
    if framework.reviewer_form:
        if judge == "self-evaluation":
            raise GenerateError(f"{framework.short_title} is for a reviewer, not the school")
        judge = judge or "external-review"
    if visit_date is not None and framework.part != "follow-up":
        raise GenerateError(f"a visit date is for a follow-up visit, not {framework.short_title}")
    return Issued(round=name, judge=judge, visit_date=visit_date)
