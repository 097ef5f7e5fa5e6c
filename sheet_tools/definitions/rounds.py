"""Review rounds and the roles that judge in them.

A round is a named review cycle ("Autumn 2026"), not a date.

A workbook is issued for a round and carries it in its About sheet. A return without one (an older
workbook, or one made by hand) is placed in the English school term that contains its review date:
Autumn is August to December, Spring January to March, Summer April to July, each named with the
calendar year it starts in. A school's self-evaluation, the reviewers' judgements, the report and
the follow-up visits of one round belong together whatever their dates; progress is measured
between rounds.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

# Who made a return's judgements: the school itself, or a reviewer.
Judge = Literal["self-evaluation", "external-review", "peer-review"]
SELF: Judge = "self-evaluation"
# A round's reviewer judgement, most independent first.
REVIEWERS: tuple[Judge, ...] = ("external-review", "peer-review")
JUDGE_LABELS: dict[str, str] = {
    "self-evaluation": "Self-evaluation",
    "external-review": "External reviewer",
    "peer-review": "Peer reviewer",
}
# The role names ``generate --judge`` takes, for the person a workbook is issued to.
ROLE_NAMES: dict[str, Judge] = {
    "self-evaluation": "self-evaluation",
    "external-reviewer": "external-review",
    "peer-reviewer": "peer-review",
}

# Each term's first month, in the order the terms fall within a calendar year.
TERMS = (("Spring", 1), ("Summer", 4), ("Autumn", 8))
_TERM_NAME = re.compile(r"^(spring|summer|autumn)\s+(\d{4})$", re.IGNORECASE)
MAX_LENGTH = 40


def term_of(day: date) -> str:
    """The school term containing ``day``, e.g. "Autumn 2026" for 3 October 2026."""
    season = next(name for name, first in reversed(TERMS) if day.month >= first)
    return f"{season} {day.year}"


def clean_round(name: str) -> str:
    """A round's name as written everywhere: spacing collapsed, a term's name capitalised
    ("autumn  2026" -> "Autumn 2026"); other names (a trust's own "Cycle 3") kept as typed."""
    text = " ".join(str(name).split())
    match = _TERM_NAME.match(text)
    if match:
        return f"{match.group(1).capitalize()} {match.group(2)}"
    return text


def round_problem(name: str) -> str | None:
    """Why ``name`` cannot name a round, or None when it can."""
    text = clean_round(name)
    if not text:
        return "a review round needs a name, e.g. 'Autumn 2026'"
    if len(text) > MAX_LENGTH:
        return f"a review round's name is at most {MAX_LENGTH} characters"
    return None


def round_start(name: str) -> date | None:
    """The first day of a term-named round, for ordering; None for a round with another name."""
    match = _TERM_NAME.match(clean_round(name))
    if not match:
        return None
    month = dict(TERMS)[match.group(1).capitalize()]
    return date(int(match.group(2)), month, 1)


def round_order(name: str, earliest: date | None) -> tuple[date, str]:
    """How rounds sort: by the term's start, or for another name by its earliest review date."""
    return (round_start(name) or earliest or date.min, clean_round(name))


def judge_label(judge: str) -> str:
    return JUDGE_LABELS.get(judge, judge)
