"""Objectives defined on minute bars (per-bar Sharpe, Sortino, return over drawdown) and walk-forward efficiency."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
from backtesting.test import GOOG

from domain.backtest import TradeTable, compute_stats
from domain.backtest.stats import meaningless_ratio
from domain.sweep import NUMERIC_KEYS, Objective
from domain.sweep.metrics import BAR_SHARPE, BAR_SORTINO, RETURN_DRAWDOWN, bar_metrics, periods_per_year
from domain.sweep.walkforward import efficiency

DAY = 86_400_000


def test_bars_per_year_follow_the_bar_spacing() -> None:
    minutes = np.arange(1000, dtype=np.int64) * 60_000
    assert periods_per_year(minutes) == pytest.approx(365.25 * 24 * 60)
    stock_days = GOOG.index.values.astype("datetime64[ms]").astype(np.int64)  # weekends and holidays missing
    assert 245 < periods_per_year(stock_days) < 256


def test_sharpe_and_sortino_are_mean_bar_return_over_its_spread_annualised() -> None:
    equity = np.array([100.0, 110.0, 99.0, 108.9])
    ts = np.arange(4, dtype=np.int64) * DAY
    got = bar_metrics(ts, equity, {"Return [%]": 8.9, "Max. Drawdown [%]": -10.0})
    r = [0.1, -0.1, 0.1]
    per_year = math.sqrt(365.25)
    assert got[BAR_SHARPE] == pytest.approx(statistics.mean(r) / statistics.stdev(r) * per_year)
    downside = math.sqrt(sum(min(x, 0.0) ** 2 for x in r) / len(r))
    assert got[BAR_SORTINO] == pytest.approx(statistics.mean(r) / downside * per_year)
    assert got[RETURN_DRAWDOWN] == pytest.approx(0.89)


def test_a_flat_curve_has_no_ratio_rather_than_a_huge_one() -> None:
    got = bar_metrics(np.arange(50, dtype=np.int64) * 60_000, np.full(50, 1e7), {"Return [%]": 0.0,
                                                                                  "Max. Drawdown [%]": -0.0})
    assert all(math.isnan(v) for v in got.values())


def test_a_losing_minute_run_has_a_finite_objective_where_backtesting_pys_sharpe_underflows() -> None:
    n = 20 * 1440
    rng = np.random.default_rng(5)
    equity = 1e7 * np.exp(np.cumsum(rng.normal(-1e-4, 5e-4, n)))  # about -95 % in 20 days of minutes
    ts = 1_730_419_200_000 + np.arange(n, dtype=np.int64) * 60_000
    stats = compute_stats(ts, equity, equity, TradeTable.empty())
    assert stats["Return [%]"] < -90
    sharpe = stats["Sharpe Ratio"]
    assert math.isnan(sharpe) or meaningless_ratio("Sharpe Ratio", sharpe)
    ours = bar_metrics(ts, equity, stats)
    assert -1_000 < ours[BAR_SHARPE] < 0 and -1_000 < ours[BAR_SORTINO] < 0
    assert ours[RETURN_DRAWDOWN] == pytest.approx(stats["Return [%]"] / abs(stats["Max. Drawdown [%]"]))


def test_the_new_objectives_can_be_named_and_the_default_is_the_per_bar_sharpe() -> None:
    assert {BAR_SHARPE, BAR_SORTINO, RETURN_DRAWDOWN} <= set(NUMERIC_KEYS)
    assert Objective().key == BAR_SHARPE
    assert Objective.parse("sortino (bars)").key == BAR_SORTINO
    assert math.isnan(Objective(BAR_SHARPE).score({BAR_SHARPE: None}))  # undefined ranks last, never first


@pytest.mark.parametrize(("is_score", "oos_score", "maximize", "expected"), [
    (2.0, 1.0, True, 0.5),
    (2.0, -1.0, True, -0.5),
    (-50.3, -19.7, True, math.nan),  # a ratio of two losses would read "0.39": it means nothing
    (0.0, 1.0, True, math.nan),
    (2.0, 1.0, False, math.nan),
    (math.nan, 1.0, True, math.nan),
])
def test_walk_forward_efficiency_is_a_ratio_only_when_the_in_sample_objective_is_positive(
        is_score: float, oos_score: float, maximize: bool, expected: float) -> None:
    got = efficiency(is_score, oos_score, maximize)
    assert (math.isnan(got) and math.isnan(expected)) or got == pytest.approx(expected)
