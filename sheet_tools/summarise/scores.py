"""Scores and histories: what a school's judgements add up to, and which of its returns count.

A statement scores its level on the framework's scale (Beginning 1 ... Embedded 4). An area's score
is the mean over its judged statements; a blank judgement, and "Not applicable" where a framework
allows it, are left out, never counted as zero (and are counted apart from each other). A
trust's area score is the mean of its schools' area scores, so each school weighs the same.

For each school and framework the store keeps the latest return per review date and judge (the
school's self-evaluation, an external or a peer reviewer). A review round is one review date. A
school's summary, and the trust roll-up, use the school's latest round, taking the reviewer's
judgement where there is one (an external review before a peer review) and the self-evaluation
otherwise; the round before the latest is the baseline for progress.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ..definitions.frameworks import Framework, Statement
from ..definitions.rounds import REVIEWERS, SELF, round_order
from ..store.facade import StoredReturn

NO_TRUST = "No trust recorded"


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the values that are present; None when there are none (not zero)."""
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


@dataclass(frozen=True)
class AreaScore:
    """One area of one return: its score, counts per level and share Secure or better."""

    sheet_id: str
    title: str
    score: float | None
    counts: dict[str, int]  # level code -> statements judged at that level
    judged: int  # statements at a level (Not applicable is not one)
    statements: int
    secure_share: float | None
    not_applicable: int = 0  # statements judged Not applicable

    @property
    def not_judged(self) -> int:
        """Statements left blank: not yet discussed."""
        return self.statements - self.judged - self.not_applicable


def _score_statements(
    framework: Framework, sheet_id: str, title: str, statements: Sequence[Statement], judgements
) -> AreaScore:
    threshold = framework.secure_score
    counts = {level.code: 0 for level in framework.scale}
    scores: list[int] = []
    not_applicable = 0
    for statement in statements:
        value = judgements.get(statement.id)
        level = framework.level(value)
        if level is not None:
            counts[level.code] += 1
            scores.append(level.score)
        elif framework.is_not_applicable(value):
            not_applicable += 1
    secure = sum(1 for s in scores if s >= threshold)
    return AreaScore(
        sheet_id=sheet_id,
        title=title,
        score=mean(scores),
        counts=counts,
        judged=len(scores),
        statements=len(statements),
        secure_share=secure / len(scores) if scores else None,
        not_applicable=not_applicable,
    )


def area_scores(framework: Framework, judgements: dict[str, str | None]) -> list[AreaScore]:
    """One AreaScore per judged sheet of the framework, in the framework's order."""
    return [
        _score_statements(framework, sheet.id, sheet.title, sheet.statements, judgements)
        for sheet in framework.sheets
        if sheet.judged
    ]


def overall_score(framework: Framework, judgements: dict[str, str | None]) -> AreaScore:
    """Every judged statement of the return taken together."""
    statements = [statement for _, statement in framework.judged_statements()]
    return _score_statements(framework, "", "All statements", statements, judgements)


def trust_area_means(
    framework: Framework, schools: Sequence[Sequence[AreaScore]]
) -> list[float | None]:
    """Per judged area, the mean of the schools' area scores (a school with no judged statement
    in an area is left out of that area's mean)."""
    areas = [sheet.id for sheet in framework.sheets if sheet.judged]
    by_area: dict[str, list[float | None]] = defaultdict(list)
    for scores in schools:
        for item in scores:
            by_area[item.sheet_id].append(item.score)
    return [mean(by_area[area]) for area in areas]


def statement_score(
    framework: Framework, judgements: dict[str, str | None], sid: str
) -> int | None:
    level = framework.level(judgements.get(sid))
    return level.score if level else None


def statement_rows(
    framework: Framework, returns: Sequence[dict[str, str | None]], *, by_share: bool = True
) -> list[dict[str, object]]:
    """Each judged statement across ``returns`` (one school's judgements each), weakest first:
    lowest mean level, then (``by_share``) the smallest share Secure or better, then the
    framework's order. Statements nobody judged at a level come last."""
    threshold = framework.secure_score
    result = []
    for order, (sheet, statement) in enumerate(framework.judged_statements()):
        scores = [statement_score(framework, judgements, statement.id) for judgements in returns]
        judged = [s for s in scores if s is not None]
        not_applicable = sum(
            1 for judgements in returns if framework.is_not_applicable(judgements.get(statement.id))
        )
        counts = {
            level.code: sum(1 for s in judged if s == level.score) for level in framework.scale
        }
        share = sum(1 for s in judged if s >= threshold) / len(judged) if judged else None
        result.append(
            {
                "order": order,
                "area": sheet.title,
                "id": statement.id,
                "statement": statement.text,
                "mean": mean(judged),
                "judged": len(judged),
                "counts": counts,
                "not_applicable": not_applicable,
                "share": share,
            }
        )
    result.sort(
        key=lambda p: (
            p["mean"] is None,
            p["mean"] if p["mean"] is not None else 0,
            (p["share"] if p["share"] is not None else 0) if by_share else 0,
            p["order"],
        )
    )
    return result


def level_steps(framework: Framework, first: str | None, second: str | None) -> int | None:
    """How many levels ``second`` is above ``first`` (negative below); None if either is blank."""
    a, b = framework.level(first), framework.level(second)
    if a is None or b is None:
        return None
    ordered = [level.code for level in framework.levels]
    return ordered.index(b.code) - ordered.index(a.code)


def _newest(returns: Iterable[StoredReturn]) -> StoredReturn:
    return max(returns, key=lambda r: r.id)  # the store's sequence, never the wall clock


@dataclass
class SchoolHistory:
    """One school's returns of one framework: the latest per review round and judge (and, for
    a form a round holds several of, per visit: each follow-up visit, by its visit date)."""

    template_id: str
    school_key: str
    rounds: dict[str, dict[tuple[str, str], StoredReturn]] = field(default_factory=dict)

    def add(self, stored: StoredReturn) -> None:
        round_ = self.rounds.setdefault(stored.round, {})
        slot = (stored.judge, stored.visit)
        held = round_.get(slot)
        if held is None or stored.id > held.id:  # stored later, whatever the clock said
            round_[slot] = stored

    @property
    def newest(self) -> StoredReturn:
        """The most recently stored return: where the school's name and trust come from."""
        return _newest(r for round_ in self.rounds.values() for r in round_.values())

    @property
    def school(self) -> str:
        return self.newest.school

    @property
    def urn(self) -> str | None:
        return self.newest.urn

    def round_names(self) -> list[str]:
        """The rounds in order: by term, else by their earliest review date."""
        return sorted(
            self.rounds,
            key=lambda name: round_order(
                name, min(r.review_date for r in self.rounds[name].values())
            ),
        )

    def in_round(self, name: str, judge: str) -> list[StoredReturn]:
        """A role's returns of one round, in date order (several only for follow-up visits)."""
        found = [r for (j, _), r in self.rounds.get(name, {}).items() if j == judge]
        return sorted(found, key=lambda r: (r.review_date, r.arrived_at, r.id))

    def primary(self, name: str) -> StoredReturn:
        """The round's reviewer judgement where there is one, else its self-evaluation."""
        for judge in (*REVIEWERS, SELF):
            found = self.in_round(name, judge)
            if found:
                return found[-1]
        return _newest(self.rounds[name].values())

    @property
    def current(self) -> StoredReturn:
        return self.primary(self.round_names()[-1])

    @property
    def previous(self) -> StoredReturn | None:
        names = self.round_names()
        return self.primary(names[-2]) if len(names) > 1 else None

    @property
    def comparison(self) -> tuple[StoredReturn, StoredReturn] | None:
        """(self-evaluation, review) of the latest round that has both."""
        for name in reversed(self.round_names()):
            reviewer = next(
                (self.in_round(name, j)[-1] for j in REVIEWERS if self.in_round(name, j)), None
            )
            own = self.in_round(name, SELF)
            if reviewer is not None and own:
                return own[-1], reviewer
        return None

    def used(self) -> list[tuple[StoredReturn, str]]:
        """Every return a school summary is built from, with what it is used for."""
        items = [(self.current, "Latest round: overview, next steps, strengths, data")]
        if self.previous is not None:
            items.append((self.previous, "Earlier round: progress"))
        pair = self.comparison
        if pair is not None:
            for stored in pair:
                if all(stored.id != item.id for item, _ in items):
                    items.append((stored, "Self-evaluation beside the review"))
        return items


def histories(returns: Iterable[StoredReturn]) -> dict[tuple[str, str], SchoolHistory]:
    """Group returns by (template id, school key), keeping the latest per round and judge."""
    grouped: dict[tuple[str, str], SchoolHistory] = {}
    for stored in returns:
        key = (stored.template_id, stored.school_key)
        grouped.setdefault(key, SchoolHistory(*key)).add(stored)
    return grouped
