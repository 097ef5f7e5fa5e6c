"""A validated return: what the store keeps and the summaries read.

Apart from the validator so that the store (and anything else holding returns) can import the
model without importing the checks that make it: only pydantic and packages above ``intake``.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from ..definitions.carried import Action
from ..definitions.rounds import Judge
from ..problems.report import Issue


class ValidReturn(BaseModel):
    """A return whose content has been checked: what the store keeps."""

    template_id: str
    template_version: str
    school: str
    urn: str | None = None
    trust: str | None = None
    review_date: date
    judge: Judge = "self-evaluation"
    # the review cycle: the issued round, else the school term of the review date
    round: str = ""
    # the issued workbook's id: a later return of the same workbook supersedes the earlier one
    issue_id: str | None = None
    # what tells apart several returns of one role in a round (a follow-up visit's workbook or
    # date); "" for a form a round holds once
    occasion: str = ""
    # every cover field id -> its value as text ("" when blank)
    cover: dict[str, str] = Field(default_factory=dict)
    # every judged statement id -> the level code ("Beg", "Sec", ...), "N/A" for Not applicable
    # (where the framework allows it), or None when not judged
    judgements: dict[str, str | None] = Field(default_factory=dict)
    # every non-blank free-text answer: "<statement id>.<column id>" or "<box id>" -> text
    texts: dict[str, str] = Field(default_factory=dict)
    # a carried-forward workbook's action plan, each row with an action; None: no plan
    actions: list[Action] | None = None
    warnings: list[Issue] = Field(default_factory=list)
