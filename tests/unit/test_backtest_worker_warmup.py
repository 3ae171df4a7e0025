"""The backtest worker measures a higher-timeframe warm-up on the bars it is given, as run_backtest does."""

from __future__ import annotations

import numpy as np

from app.backtests.worker import prepare_failure, simulate_checked
from domain.backtest import BacktestSettings
from domain.backtest.run import indicator_warmup, run_backtest
from domain.market import CandleSeries, Timeframe
from domain.strategy import Strategy, evaluate, parse_strategy


def hourly(n: int, seed: int = 5) -> CandleSeries:
    rng = np.random.default_rng(seed)
    close = np.round(100 * np.exp(np.cumsum(rng.normal(0, 0.01, n))), 2)
    open_ = np.r_[close[0], close[:-1]]
    ts = 1_704_067_200_000 + np.arange(n, dtype=np.int64) * Timeframe.H1.ms
    return CandleSeries.from_columns(Timeframe.H1, ts, open_, np.maximum(open_, close) + 0.1,
                                     np.minimum(open_, close) - 0.1, close, np.ones(n))


def daily_trend() -> Strategy:
    daily = {"var": "sma", "params": {"period": 3}, "timeframe": "1d"}
    fast = {"var": "sma", "params": {"period": 5}}
    return parse_strategy({
        "schema": 2, "name": "daily trend", "direction": "long_only",
        "entry_long": {"all": [{"left": fast, "op": "crosses_above", "right": daily}]},
        "exit_long": {"all": [{"left": fast, "op": "crosses_below", "right": daily}]},
        "risk": {"position_size_pct": 50}})


def test_a_daily_operand_on_hourly_bars_needs_only_its_own_warm_up_not_the_one_minute_bound() -> None:
    strategy, series = daily_trend(), hourly(24 * 10)
    exact = indicator_warmup(strategy, series)
    assert exact < len(series) - 2 < indicator_warmup(strategy)
    assert prepare_failure(strategy, series) is None


def test_the_worker_trades_from_the_same_bar_as_run_backtest() -> None:
    strategy, series = daily_trend(), hourly(24 * 30)
    cfg = BacktestSettings(cash=10_000, commission=0.001)
    here = simulate_checked(strategy, series, evaluate(strategy, series), cfg)
    reference = run_backtest(strategy, series, cfg)
    assert len(reference.trades) >= 3 and here.start == reference.start
    np.testing.assert_array_equal(here.trades.entry_price, reference.trades.entry_price)
    np.testing.assert_array_equal(here.equity, reference.equity)
    assert here.stats["Buy & Hold Return [%]"] == reference.stats["Buy & Hold Return [%]"]


def test_too_few_hourly_bars_for_the_daily_operand_are_refused_with_the_counts() -> None:
    failure = prepare_failure(daily_trend(), hourly(24 * 3))
    assert failure is not None and failure.startswith("72 bars are too few for this strategy")
