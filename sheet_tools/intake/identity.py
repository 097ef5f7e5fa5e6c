"""Who a return is from, anchored in the workbook we issued and the roster, not in what was typed.

Schools type their trust in other cases, leave the URN blank, mistype dates and move trusts. So:

- the school is identified by the issued URN, then the typed one, then the roster (URN or name),
  then the typed name; a blank typed URN never makes a new school, and a typed URN that differs
  from the issued one is a query naming both;
- the trust is the roster's for a school on the roster; otherwise the typed (else issued) name,
  matched to the trusts already known ignoring case, spacing and punctuation, and a near miss of
  one ("Oak Trst") is a query with "did you mean";
- the role is the one the workbook was issued to; a workbook issued to nobody must say whose
  judgements they are;
- the round is the issued one, else the school term containing the review date; a review date in
  the future, or more than two years before the round, is a query.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel, Field

from ..base import clock
from ..base.clock import uk_date
from ..base.keys import trust_key
from ..definitions import cell_layout
from ..definitions.roster import School, find_school
from ..definitions.rounds import Judge, judge_label, round_start, term_of
from ..problems.report import Issue

LONG_BEFORE_DAYS = 2 * 365 + 1


class Known(BaseModel):
    """What ingest knows beyond the file: the roster, the trusts already stored, today."""

    roster: list[School] = Field(default_factory=list)
    trusts: list[str] = Field(default_factory=list)
    today: date = Field(default_factory=clock.today)

    def trust_names(self) -> dict[str, str]:
        """Known trusts by key, the roster's spelling first."""
        names: dict[str, str] = {}
        for name in [*(s.trust for s in self.roster if s.trust), *self.trusts]:
            names.setdefault(trust_key(name), name)
        names.pop("", None)
        return names


def closest(typed: str, options: list[str]) -> str | None:
    """The option a near miss most likely meant: a close spelling ("embeded"), or the one option
    that starts with what was typed ("peer" for "peer reviewer"). Options are lower case."""
    close = difflib.get_close_matches(typed, options, n=1, cutoff=0.6)
    if close:
        return close[0]
    starting = {o for o in options if len(typed) >= 3 and o.startswith(typed)}
    return starting.pop() if len(starting) == 1 else None


@dataclass
class Identity:
    """The resolved identity of one return, and the queries raised on the way."""

    school: str | None
    urn: str | None
    trust: str | None
    judge: Judge | None
    round: str | None
    issue_id: str | None
    issues: list[Issue]


def resolve(
    issued: dict[str, str],
    typed_school: str | None,
    typed_urn: str | None,
    typed_trust: str | None,
    typed_judge: Judge | None,
    review_date: date | None,
    known: Known,
    *,
    cover_cell: dict[str, tuple[str, str]],
    asks_judge: bool,
    reviewer_form: bool,
) -> Identity:
    """Identity from the issued workbook, the roster and what was typed (see the module's
    docstring). ``cover_cell`` locates the cover fields by role, for the queries."""
    issues: list[Issue] = []

    def at(role: str) -> dict[str, str]:
        sheet, cell = cover_cell.get(role, (cell_layout.COVER_SHEET, ""))
        return {"sheet": sheet, "cell": cell} if cell else {"sheet": sheet}

    issued_urn = issued.get(cell_layout.KEY_URN)
    if issued_urn and typed_urn and typed_urn != issued_urn:
        issues.append(Issue.of("urn-mismatch", **at("urn"), value=typed_urn, issued=issued_urn))
    listed = find_school(known.roster, issued_urn or typed_urn, issued.get(cell_layout.KEY_SCHOOL))
    if listed is None:
        listed = find_school(known.roster, issued_urn or typed_urn, typed_school)
    urn = issued_urn or typed_urn or (listed.urn if listed else None)
    school = (listed.name if listed else None) or issued.get(cell_layout.KEY_SCHOOL) or typed_school

    trust = _trust(
        listed, typed_trust or issued.get(cell_layout.KEY_TRUST), known, at("trust"), issues
    )
    judge = _judge(issued, typed_judge, asks_judge, reviewer_form, at("judge"), issues)

    round_name = issued.get(cell_layout.KEY_ROUND) or (
        term_of(review_date) if review_date else None
    )
    if review_date is not None and round_name is not None:
        _check_date(review_date, round_name, known.today, at("review_date"), issues)
    return Identity(
        school, urn, trust, judge, round_name, issued.get(cell_layout.KEY_ISSUE_ID), issues
    )


def _trust(
    listed: School | None,
    typed: str | None,
    known: Known,
    where: dict[str, str],
    issues: list[Issue],
) -> str | None:
    if listed is not None and listed.trust:
        return listed.trust
    if not typed:
        return None
    names = known.trust_names()
    key = trust_key(typed)
    if key in names:
        return names[key]
    near = closest(key, list(names))
    if near is not None:
        issues.append(Issue.of("similar-trust", **where, value=typed, suggestion=names[near]))
    return typed


def _judge(
    issued: dict[str, str],
    typed: Judge | None,
    asks_judge: bool,
    reviewer_form: bool,
    where: dict[str, str],
    issues: list[Issue],
) -> Judge | None:
    issued_to = issued.get(cell_layout.KEY_ISSUED_TO)
    if issued_to in ("self-evaluation", "external-review", "peer-review"):
        if typed is not None and typed != issued_to:
            issues.append(
                Issue.of(
                    "judge-mismatch",
                    **where,
                    value=judge_label(typed),
                    issued=judge_label(issued_to).lower(),
                )
            )
        return issued_to  # type: ignore[return-value]
    if typed is not None:
        return typed
    if reviewer_form:
        return "external-review"
    if not asks_judge:
        return "self-evaluation"
    issues.append(Issue.of("missing-judge", **where))
    return None


def _check_date(
    review_date: date, round_name: str, today: date, where: dict[str, str], issues: list[Issue]
) -> None:
    start = round_start(round_name)
    shown = uk_date(review_date)
    if review_date > today:
        issues.append(Issue.of("unlikely-review-date", variant="future", **where, value=shown))
    elif start is not None and (start - review_date).days > LONG_BEFORE_DAYS:
        issues.append(
            Issue.of(
                "unlikely-review-date",
                variant="long-before",
                **where,
                value=shown,
                round=round_name,
            )
        )
