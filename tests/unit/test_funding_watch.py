"""Funding events read from mark price updates: when an event settles, at which rate and which mark."""

from __future__ import annotations

from domain.live.funding_watch import FundingEvent, FundingWatch

H8 = 8 * 3_600_000


def test_an_update_at_the_funding_time_settles_the_announced_rate_at_its_own_mark() -> None:
    w = FundingWatch()
    assert w.on_mark(H8 - 2000, 100.0, 0.0003, H8) is None
    assert w.on_mark(H8 - 1000, 101.0, 0.0002, H8) is None
    assert w.on_mark(H8, 102.5, 0.0005, 2 * H8) == FundingEvent(H8, 0.0002, 102.5)
    assert w.on_mark(H8 + 1000, 103.0, 0.0005, 2 * H8) is None


def test_without_an_update_at_the_funding_time_the_last_mark_before_it_is_used() -> None:
    w = FundingWatch()
    w.on_mark(H8 - 700, 99.0, -0.0001, H8)
    assert w.on_mark(H8 + 300, 98.0, 0.0001, 2 * H8) == FundingEvent(H8, -0.0001, 99.0)


def test_the_first_update_only_learns_the_schedule_and_stale_updates_are_ignored() -> None:
    w = FundingWatch()
    assert w.on_mark(2 * H8 + 5, 50.0, 0.001, 3 * H8) is None  # joined after a funding time: nothing to settle
    assert w.on_mark(H8 + 5, 50.0, 0.001, 2 * H8) is None  # an older schedule
    assert w.next_ts == 3 * H8 and w.rate == 0.001
