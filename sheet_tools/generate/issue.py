"""What a workbook is issued for: a round and, for a reviewer's form, a role."""

from __future__ import annotations

import uuid

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


def issue_for(framework: Framework, round_name: str | None, judge: Judge | None) -> Issued:
    """A new issue of ``framework``: for ``round_name`` (default: the school term containing
    today) and, for a reviewer's form, always a reviewer's role."""
    name = clean_round(round_name) if round_name is not None else term_of(today())
    problem = round_problem(name)
    if problem:
        raise GenerateError(problem)
    if framework.reviewer_form:
        if judge == "self-evaluation":
            raise GenerateError(f"{framework.short_title} is for a reviewer, not the school")
        judge = judge or "external-review"
    return Issued(round=name, judge=judge)
