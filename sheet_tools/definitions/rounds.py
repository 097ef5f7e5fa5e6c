"""Review rounds and the roles that judge in them.

A round is a named review cycle ("Autumn 2026"), not a date. A new round is a term and a year, or
a name a trust with another cycle declares (``[rounds] names`` in ``sheet-tools.toml``), so a
typo ("Autum 2026") cannot start a round of its own; a round already in use is always accepted.

A workbook is issued for a round and carries it in its About sheet. A return without one (an older
workbook, or one made by hand) is placed in the English school term that contains its review date:
Autumn is August to December, Spring January to March, Summer April to July, each named with the
calendar year it starts in. A school's self-evaluation, the reviewers' judgements, the report and
the follow-up visits of one round belong together whatever their dates; progress is measured
between rounds.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from datetime import date
from typing import Literal

from ..exceptions import RoundError

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
_TERM_NAME = re.compile(r"^(spring|summer|autumn)\s*(\d{4})$", re.IGNORECASE)
_SEASONS = [name.casefold() for name, _ in TERMS]
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


def new_round(
    name: str, declared: Iterable[str] = (), known: Iterable[str] = (), *, today: date
) -> str:
    """``name`` as a new round is written: a term and year ("autumn  2026" -> "Autumn 2026"), a
    name ``declared`` in the workspace's settings or a round already ``known`` (in the store), as
    spelt there, each matched ignoring case and spacing. Anything else raises ``RoundError``,
    suggesting the round most likely meant."""
    problem = round_problem(name)
    if problem:
        raise RoundError(problem)
    text = clean_round(name)
    if _TERM_NAME.match(text):
        return text
    allowed = {clean_round(n).casefold(): clean_round(n) for n in (*known, *declared) if n}
    if text.casefold() in allowed:
        return allowed[text.casefold()]
    suggestion = likely_round(text, allowed.values(), today=today)
    also = " or a round named in sheet-tools.toml ([rounds] names)" if declared else ""
    raise RoundError(
        f"'{text}' is not a review round: name a term and its year, e.g. 'Autumn 2026'{also}. "
        f"Did you mean {suggestion}?"
    )


def likely_round(name: str, known: Iterable[str] = (), *, today: date) -> str:
    """The round a mistyped ``name`` most likely meant: the nearest of the ``known`` rounds,
    else the term its words suggest ("Autum 2026" -> Autumn 2026)."""
    text = clean_round(name)
    allowed = {clean_round(n).casefold(): clean_round(n) for n in known if n}
    nearest = difflib.get_close_matches(text.casefold(), list(allowed), n=1, cutoff=0.75)
    return allowed[nearest[0]] if nearest else _likely_term(text, today)


def _likely_term(text: str, today: date) -> str:
    """The term a mistyped round most likely meant: "Autum 2026" and "autumn 26" -> Autumn 2026,
    "2026-10" -> the term containing October 2026; else the term containing ``today``."""
    words = re.findall(r"[a-z]+|\d+", text.casefold())
    season = next(
        (
            found[0].capitalize()
            for word in words
            if word.isalpha() and (found := difflib.get_close_matches(word, _SEASONS, 1, 0.6))
        ),
        None,
    )
    numbers = [int(word) for word in words if word.isdigit()]
    year = next(
        (n if n >= 1000 else 2000 + n for n in numbers if n < 100 or 2000 <= n < 2100), None
    )
    if season and year:
        return f"{season} {year}"
    month = next((n for n in numbers[1:] if 1 <= n <= 12), None)
    if year and month:
        return term_of(date(year, month, 1))
    if season:
        return f"{season} {today.year}"
    this_term = term_of(today)
    return f"{this_term.split()[0]} {year}" if year else this_term


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
