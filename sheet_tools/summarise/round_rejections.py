"""Which rejected files a round's Returns log counts. A rejection records the round its file was
for when that could be told; one with no round (an unreadable file, or one stored before
rejections kept their round) counts for the round it arrived during, so an earlier round's
rejection never stands for a round whose workbook is still owed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from ..base.clock import as_utc, uk_date
from ..definitions.rounds import round_start
from ..store.facade import IssuedWorkbook, Rejection
from .overview import round_starts
from .scores import SchoolHistory


def round_begins(
    round_name: str | None, members: Sequence[SchoolHistory], issued: Sequence[IssuedWorkbook]
) -> date | None:
    """The first day of a round: a term's start, or its earliest workbook issued or review
    returned (``overview.round_starts``) when that is sooner (a spring round issued before
    Christmas has begun); None when nothing dates it."""
    if round_name is None:
        return None
    earliest = round_starts(members, ((i.round, i.issued_at.date()) for i in issued))
    days = [d for d in (round_start(round_name), earliest.get(round_name)) if d is not None]
    return min(days, default=None)


def counts_for(rejection: Rejection, round_name: str | None, start: date | None) -> bool:
    """Whether a rejection is the round's: its own round is; one with no round is when it
    arrived on or after the round began (or nothing dates the round)."""
    if round_name is None:
        return True
    if rejection.round is not None:
        return rejection.round == round_name
    return start is None or as_utc(rejection.arrived_at).date() >= start


def put_right(rejection: Rejection, history: SchoolHistory | None) -> bool:
    """Whether an accepted return arrived after the rejected file: of the rejection's round when
    it has one, else of any round."""
    if history is None:
        return False
    held = (
        history.rounds.get(rejection.round, {}).values()
        if rejection.round is not None
        else [r for round_ in history.rounds.values() for r in round_.values()]
    )
    return any(as_utc(r.arrived_at) >= as_utc(rejection.arrived_at) for r in held)


def earlier_note(
    rejected: Sequence[Rejection],
    history: SchoolHistory | None,
    round_name: str | None,
    start: date | None,
) -> str:
    """For a school outstanding in the round: its newest rejection from before the round that
    nothing has put right, in a sentence; empty when there is none."""
    if start is None:
        return ""
    earlier = [
        r
        for r in rejected
        if not counts_for(r, round_name, start) and _before(r, start) and not put_right(r, history)
    ]
    if not earlier:
        return ""
    last = max(earlier, key=lambda r: as_utc(r.arrived_at))
    of_round = f", for {last.round}," if last.round else ""
    return (
        f"An earlier file ({last.file_name}){of_round} was rejected on "
        f"{uk_date(last.arrived_at)} and not put right."
    )


def _before(rejection: Rejection, start: date) -> bool:
    """Whether a rejection is of a round before the one starting on ``start``: by its round's
    term when it has a term-named one, else by when it arrived."""
    begins = round_start(rejection.round) if rejection.round else None
    return (begins or as_utc(rejection.arrived_at).date()) < start
