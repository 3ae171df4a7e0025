"""Statistics: backtesting.py's keys, drawdown episodes, empty-trade conventions, JSON form."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest

from domain.backtest import STAT_KEYS, TradeTable, compute_stats
from domain.backtest.run import json_value
from domain.backtest.stats import drawdown, drawdown_episodes, geometric_mean

DAY = 86_400_000


def test_stats_have_exactly_backtesting_py_keys_in_order() -> None:
    ts = np.arange(10, dtype=np.int64) * DAY
    close = np.linspace(10, 20, 10)
    stats = compute_stats(ts, close, np.full(10, 1000.0), TradeTable.empty())
    assert tuple(stats) == STAT_KEYS
    assert stats["Duration"] == timedelta(days=9)


def test_drawdown_episodes_end_at_recovery_or_at_the_last_bar() -> None:
    equity = np.array([100.0, 110, 99, 105, 110, 120, 90, 100])
    ts = np.arange(8, dtype=np.int64) * DAY
    durations, peaks = drawdown_episodes(drawdown(equity), ts)
    np.testing.assert_array_equal(durations, [3 * DAY, 2 * DAY])
    np.testing.assert_allclose(peaks, [1 - 99 / 110, 1 - 90 / 120])
    stats = compute_stats(ts, equity, equity, TradeTable.empty())
    assert stats["Max. Drawdown [%]"] == pytest.approx(-25.0)
    assert stats["Max. Drawdown Duration"] == timedelta(days=3)
    assert stats["Avg. Drawdown Duration"] == timedelta(days=3)  # 2.5 days rounded up to whole days


def test_without_trades_the_trade_metrics_are_undefined() -> None:
    ts = np.arange(5, dtype=np.int64) * DAY
    stats = compute_stats(ts, np.ones(5), np.full(5, 10.0), TradeTable.empty())
    assert stats["# Trades"] == 0 and stats["Commissions [$]"] == 0
    for key in ("Win Rate [%]", "Best Trade [%]", "Avg. Trade [%]", "Profit Factor", "SQN", "Kelly Criterion"):
        assert math.isnan(stats[key]), key
    assert stats["Max. Trade Duration"] is None


def test_geometric_mean_is_zero_once_a_period_loses_everything() -> None:
    assert geometric_mean(np.array([0.1, -1.0])) == 0.0
    assert geometric_mean(np.array([0.21, 0.0])) == pytest.approx(0.1, rel=1e-12)


def test_json_values_use_iso_times_days_and_null_for_nan() -> None:
    ts = np.arange(3, dtype=np.int64) * DAY
    stats = compute_stats(ts, np.ones(3), np.full(3, 10.0), TradeTable.empty())
    assert json_value(stats["Start"]) == "1970-01-01T00:00:00Z"
    assert json_value(stats["Duration"]) == 2.0
    assert json_value(float("nan")) is None
