"""The watcher's parts on their own: the summary debt and the stability tracker, driven by an
injected clock (never by sleeping)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sheet_tools.service.debt import Affected, SummaryDebt
from sheet_tools.service.stability import StabilityTracker

T0 = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
OAK: Affected = ("specialist-provision-review", "123456", "North Star Trust")
ELM: Affected = ("specialist-provision-review", "654321", None)


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_debt(tmp_path: Path, clock: Clock, sequence: int = 40) -> SummaryDebt:
    return SummaryDebt(
        tmp_path / "owed",
        quiet_seconds=2.0,
        max_delay_seconds=10.0,
        clock=clock,
        sequence=lambda: sequence,
    )


# -- the summary debt ---------------------------------------------------------------------------


def test_the_debt_is_on_disk_before_anything_is_owed(tmp_path: Path, clock: Clock) -> None:
    debt = make_debt(tmp_path, clock, sequence=40)
    debt.mark()
    # the store's sequence (highest return id), never a wall-clock time an NTP step can move back
    assert int(debt.marker.read_text(encoding="utf-8")) == 40
    # a later point does not move the marker on; an earlier one (a recovered session's) does
    debt.mark(55)
    assert int(debt.marker.read_text(encoding="utf-8")) == 40
    debt.mark(7)
    assert int(debt.marker.read_text(encoding="utf-8")) == 7


def test_owed_summaries_are_paid_once(tmp_path: Path, clock: Clock) -> None:
    debt = make_debt(tmp_path, clock)
    debt.mark()
    debt.add({OAK})
    debt.add({ELM, OAK})
    calls: list[set[Affected]] = []
    assert not debt.pay(calls.append)  # a burst is still arriving
    clock.advance(2.0)
    assert debt.pay(calls.append)
    assert calls == [{OAK, ELM}]
    assert not debt.owing
    assert not debt.marker.exists()
    clock.advance(60)
    assert not debt.pay(calls.append)
    assert not debt.pay(calls.append, force=True)
    assert calls == [{OAK, ELM}]


def test_the_log_counts_schools_not_their_frameworks(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    # a Diagnostic Review: two schools, each owing the summaries of three templates
    templates = ("send-review-mainstream", "send-review-report", "send-review-follow-up")
    debt = make_debt(tmp_path, clock)
    debt.mark()
    debt.add({(template, urn, "North Star Trust") for template in templates for urn in ("1", "2")})
    clock.advance(2.0)
    with caplog.at_level(logging.INFO, logger="sheet_tools.watch"):
        assert debt.pay(lambda affected: None)
    assert "summaries rebuilt for 2 school(s)" in caplog.messages


def test_a_steady_stream_is_summarised_after_the_longest_delay(
    tmp_path: Path, clock: Clock
) -> None:
    debt = make_debt(tmp_path, clock)
    for _ in range(9):  # a return every second: never quiet for 2 s
        debt.add({OAK})
        clock.advance(1.0)
        assert not debt.due()
    debt.add({ELM})
    clock.advance(1.0)  # 10 s since the first
    assert debt.due()


def test_a_failed_rebuild_keeps_the_debt_and_waits_to_retry(tmp_path: Path, clock: Clock) -> None:
    debt = make_debt(tmp_path, clock)
    debt.mark()
    debt.add({OAK})
    clock.advance(2.0)

    def broken(affected: set[Affected]) -> None:
        raise OSError("outbox is full")

    assert not debt.pay(broken)
    assert debt.owing and debt.marker.exists()
    clock.advance(4.9)  # the retry waits at least 5 s
    assert not debt.due()
    clock.advance(0.1)
    calls: list[set[Affected]] = []
    assert debt.pay(calls.append)
    assert calls == [{OAK}]
    assert not debt.marker.exists()


def test_nothing_added_owes_nothing(tmp_path: Path, clock: Clock) -> None:
    debt = make_debt(tmp_path, clock)
    debt.add(set())
    clock.advance(60)
    assert not debt.owing
    assert not debt.pay(lambda affected: pytest.fail("nothing is owed"), force=True)


# -- the stability tracker ----------------------------------------------------------------------


def test_a_file_is_stable_only_once_size_and_mtime_have_held(clock: Clock) -> None:
    tracker = StabilityTracker(3.0, clock=clock)
    tracker.watch("a.xlsx", 100, 1)
    clock.advance(2.9)
    assert tracker.stable_for("a.xlsx", 100, 1) is None
    clock.advance(0.1)
    assert tracker.stable_for("a.xlsx", 100, 1) == pytest.approx(3.0)


@pytest.mark.parametrize("changed", [(200, 1), (100, 2)], ids=["size", "mtime"])
def test_a_change_starts_the_wait_again(clock: Clock, changed: tuple[int, int]) -> None:
    tracker = StabilityTracker(3.0, clock=clock)
    tracker.watch("a.xlsx", 100, 1)
    clock.advance(2.5)
    assert tracker.stable_for("a.xlsx", *changed) is None  # still being copied
    clock.advance(2.5)  # 5 s after it was first seen, 2.5 s after the change
    assert tracker.stable_for("a.xlsx", *changed) is None
    clock.advance(0.5)
    assert tracker.stable_for("a.xlsx", *changed) == pytest.approx(3.0)


def test_restart_and_forget(clock: Clock) -> None:
    tracker = StabilityTracker(1.0, clock=clock)
    tracker.watch("b.xlsx", 5, 5)
    tracker.watch("a.xlsx", 5, 5)
    assert tracker.names() == ["a.xlsx", "b.xlsx"] and len(tracker) == 2
    clock.advance(1.0)
    tracker.restart("a.xlsx")  # could not be claimed: wait again
    assert tracker.stable_for("a.xlsx", 5, 5) is None
    assert tracker.stable_for("b.xlsx", 5, 5) == pytest.approx(1.0)
    tracker.forget("b.xlsx")
    assert "b.xlsx" not in tracker and tracker.names() == ["a.xlsx"]
