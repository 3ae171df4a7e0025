"""Funding: what a position held across funding times pays, by time interval and bar by bar."""

from __future__ import annotations

import numpy as np
import pytest

from domain.futures import FundingRates, InvalidFunding
from domain.futures.funding import funding_paid_nb, funding_payment, funding_per_bar

H = 3_600_000
DAY = 24 * H
T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z


def three_days() -> FundingRates:
    """Funding every 8 h for three days, with known rates (some negative) and marks."""
    ts = T0 + np.arange(9, dtype=np.int64) * 8 * H
    rate = np.array([1e-4, 1.2e-4, -0.5e-4, 3e-4, 1e-4, 0.8e-4, -2e-4, 1e-4, 0.9e-4])
    mark = 30_000 + np.arange(9) * 137.25
    return FundingRates.from_columns(ts, rate, mark)


def test_a_positive_rate_makes_longs_pay_and_shorts_receive() -> None:
    assert funding_payment(2.0, 30_000.0, 1e-4) == pytest.approx(6.0)
    assert funding_payment(-2.0, 30_000.0, 1e-4) == pytest.approx(-6.0)
    assert funding_payment(2.0, 30_000.0, -1e-4) == pytest.approx(-6.0)


def test_a_position_held_across_funding_times_pays_the_sum_of_q_mark_rate() -> None:
    f = three_days()
    qty, entry, exit_ = 0.5, T0 + 1 * H, T0 + 2 * DAY + 8 * H  # open at 01:00 day 1, closed at 08:00 day 3
    expected = sum(qty * m * r for t, r, m in zip(f.ts.tolist(), f.rate.tolist(), f.mark.tolist(), strict=True)
                   if entry < t <= exit_)
    held = [t for t in f.ts.tolist() if entry < t <= exit_]
    assert len(held) == 7  # 08:00 and 16:00 of day 1, all of day 2, 00:00 and 08:00 of day 3
    assert abs(funding_paid_nb(f.ts, f.rate, f.mark, entry, exit_, qty) - expected) < 1e-9
    assert abs(funding_paid_nb(f.ts, f.rate, f.mark, entry, exit_, -qty) + expected) < 1e-9


def test_a_position_opened_at_a_funding_time_does_not_pay_it_and_one_closed_then_does() -> None:
    f = three_days()
    first = float(f.mark[1] * f.rate[1])
    assert funding_paid_nb(f.ts, f.rate, f.mark, int(f.ts[1]), int(f.ts[1]) + H, 1.0) == 0.0
    assert funding_paid_nb(f.ts, f.rate, f.mark, int(f.ts[1]) - H, int(f.ts[1]), 1.0) == pytest.approx(first)


def test_bar_by_bar_funding_charged_at_the_open_equals_the_interval_sum() -> None:
    f = three_days()
    bar_ts = T0 + np.arange(72, dtype=np.int64) * H
    bar_open = 30_000 + np.sin(np.arange(72)) * 100
    per_bar = funding_per_bar(bar_ts, bar_open, f)
    entry_bar, exit_bar, qty = 1, 56, 0.5  # fills at the opens of 01:00 day 1 and 08:00 day 3
    charged = sum(qty * per_bar[i] for i in range(entry_bar + 1, exit_bar + 1))
    expected = funding_paid_nb(f.ts, f.rate, f.mark, int(bar_ts[entry_bar]), int(bar_ts[exit_bar]), qty)
    assert abs(charged - expected) < 1e-9


def test_a_missing_mark_is_the_open_of_the_bar_starting_at_the_funding_time() -> None:
    ts = np.array([T0 + 8 * H], dtype=np.int64)
    f = FundingRates.from_columns(ts, [2e-4])
    bar_ts = T0 + np.arange(12, dtype=np.int64) * H
    bar_open = 100.0 + np.arange(12)
    per_bar = funding_per_bar(bar_ts, bar_open, f)
    assert per_bar[8] == pytest.approx(108.0 * 2e-4)
    assert np.count_nonzero(per_bar) == 1


def test_funding_a_few_ms_late_settles_at_the_next_bar_open_so_a_position_entered_at_the_hour_pays_it() -> None:
    f = FundingRates.from_columns(np.array([T0 + 8 * H + 5], dtype=np.int64), [1e-4], [30_000.0])
    bar_ts = T0 + np.arange(12, dtype=np.int64) * H
    per_bar = funding_per_bar(bar_ts, np.full(12, 30_000.0), f)
    assert per_bar[9] == pytest.approx(3.0) and np.count_nonzero(per_bar) == 1
    assert funding_paid_nb(f.ts, f.rate, f.mark, int(bar_ts[8]), int(bar_ts[9]), 1.0) == pytest.approx(3.0)


def test_funding_after_the_last_bar_is_left_out() -> None:
    f = FundingRates.from_columns(np.array([T0 + 30 * H], dtype=np.int64), [1e-4], [30_000.0])
    bar_ts = T0 + np.arange(24, dtype=np.int64) * H
    assert not funding_per_bar(bar_ts, np.full(24, 1.0), f).any()


def test_funding_rows_must_be_ascending_finite_and_marked_positive() -> None:
    with pytest.raises(InvalidFunding, match="row 1: time 5 is not after 10"):
        FundingRates.from_columns([10, 5], [1e-4, 1e-4])
    with pytest.raises(InvalidFunding, match="row 0: rate is not finite"):
        FundingRates.from_columns([10], [np.inf])
    with pytest.raises(InvalidFunding, match="row 1: mark price must be > 0, got -3.0"):
        FundingRates.from_columns([10, 20], [1e-4, 1e-4], [np.nan, -3.0])


def test_merging_keeps_the_newer_rows_where_times_meet() -> None:
    old = FundingRates.from_columns([0, 10, 20], [1.0, 2.0, 3.0], [5.0, 5.0, 5.0])
    new = FundingRates.from_columns([20, 30], [9.0, 4.0])
    merged = old.merge(new)
    assert merged.ts.tolist() == [0, 10, 20, 30]
    assert merged.rate.tolist() == [1.0, 2.0, 9.0, 4.0]
    assert np.isnan(merged.mark[2]) and merged.mark[1] == 5.0
    assert merged.slice_time(10, 30) == FundingRates.from_columns([10, 20], [2.0, 9.0], [5.0, np.nan])
