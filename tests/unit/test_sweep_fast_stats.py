"""A sweep's statistics (`sweep_stats`) equal backtesting.py's as `compute_stats` gives them, value for value."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from sweep_fixtures import sma_cross, walk

from domain.backtest import BacktestSettings
from domain.backtest.run import run_backtest
from domain.backtest.stats import compute_stats
from domain.backtest.trades import TradeTable
from domain.market import CandleSeries, Timeframe
from domain.strategy import parse_strategy
from domain.sweep import MARKET_KEYS, DataFacts, sweep_stats


def same(a: Any, b: Any) -> bool:
    """Equal, NaN equal to NaN."""
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


def assert_identical(fast: dict[str, Any], full: dict[str, Any]) -> None:
    assert list(fast) == list(full)
    different = {k: (fast[k], full[k]) for k in full if not same(fast[k], full[k])}
    assert not different


def no_trades(ts: np.ndarray) -> TradeTable:
    return TradeTable.from_rows(np.empty((0, 10)), ts)


@pytest.mark.parametrize("direction", ["long_short", "long_only", "short_only"])
@pytest.mark.parametrize(("fast", "slow", "stop"), [(3, 8, None), (5, 30, 2.0), (12, 40, 0.5), (2, 90, 5.0)])
def test_backtests_of_sma_crosses_get_the_same_statistics_bit_for_bit(direction: str, fast: int, slow: int,
                                                                      stop: float | None) -> None:
    series = walk(3000, seed=fast * slow)
    definition = {**sma_cross(fast, slow, stop), "direction": direction}
    result = run_backtest(parse_strategy(definition), series, BacktestSettings(commission=0.002))
    warmup = slow - 1
    full = compute_stats(series.ts, series.close, result.equity, result.trades, first_trading_bar=warmup)
    assert_identical(sweep_stats(DataFacts.of(series), result.equity, result.trades, warmup), full)


def minute_bars(n: int) -> CandleSeries:
    close = 100 + np.sin(np.arange(n) / 50.0)
    ts = 1_704_067_200_000 + np.arange(n, dtype=np.int64) * 60_000
    return CandleSeries.from_columns(Timeframe.M1, ts, close, close + 0.1, close - 0.1, close, np.ones(n))


CURVES = {
    "flat": lambda n: np.full(n, 1000.0),
    "a new high every bar": lambda n: 1000.0 + np.arange(n, dtype=np.float64),
    "one drawdown never recovered": lambda n: np.r_[1000.0, np.linspace(990.0, 500.0, n - 1)],
    "ruined to zero": lambda n: np.r_[np.linspace(1000.0, 10.0, n // 2), np.zeros(n - n // 2)],
    "recoveries and a final drawdown": lambda n: 1000.0 * (1 + 0.2 * np.sin(np.arange(n) / 97.0)),
}


@pytest.mark.parametrize("shape", list(CURVES))
def test_edge_shaped_equity_curves_get_the_same_statistics(shape: str) -> None:
    series = minute_bars(4000)
    equity = CURVES[shape](len(series))
    trades = no_trades(series.ts)
    with np.errstate(all="ignore"):
        full = compute_stats(series.ts, series.close, equity, trades, first_trading_bar=7)
        fast = sweep_stats(DataFacts.of(series), equity, trades, 7)
    assert_identical(fast, full)


def test_without_market_figures_only_alpha_and_beta_are_left_out() -> None:
    series = walk(2000)
    result = run_backtest(parse_strategy(sma_cross(4, 16, 1.0)), series, BacktestSettings())
    full = compute_stats(series.ts, series.close, result.equity, result.trades, first_trading_bar=15)
    lean = sweep_stats(DataFacts.of(series), result.equity, result.trades, 15, market=False)
    assert set(full) - set(lean) == set(MARKET_KEYS)
    assert_identical(lean, {k: v for k, v in full.items() if k not in MARKET_KEYS})
