"""Every way in to the engine gives the same backtest: run_backtest, and evaluate + backtest_signals (app, sweeps)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from domain.backtest import BacktestSettings
from domain.backtest.run import backtest_signals, indicator_warmup, run_backtest
from domain.market import CandleSeries, Timeframe
from domain.strategy import evaluate, indicator_columns, parse_strategy

SAMPLES = sorted((Path(__file__).parents[2] / "resources" / "strategies").glob("*.json"))


def five_minutes(n: int = 12_000, seed: int = 8) -> CandleSeries:
    rng = np.random.default_rng(seed)
    close = 50_000_000 * np.exp(np.cumsum(rng.normal(0, 0.002, n)))
    open_ = np.r_[close[0], close[:-1]]
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.002, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.002, n))
    ts = 1_700_000_000_000 // Timeframe.M5.ms * Timeframe.M5.ms + np.arange(n, dtype=np.int64) * Timeframe.M5.ms
    return CandleSeries.from_columns(Timeframe.M5, ts, open_, high, low, close, rng.uniform(1, 5, n))


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_evaluated_signals_carry_scale_in_and_position_rules_to_the_engine(path: Path) -> None:
    strategy = parse_strategy(json.loads(path.read_text(encoding="utf-8")))
    series, settings = five_minutes(), BacktestSettings(commission=0.0005)
    direct = run_backtest(strategy, series, settings)
    warmup = indicator_warmup(strategy, series)
    via_signals = backtest_signals(series, evaluate(strategy, series), strategy.direction, strategy.risk, settings,
                                   warmup)
    assert len(direct.trades) > 0
    assert np.array_equal(direct.equity, via_signals.equity)
    for name, column in direct.trades.columns().items():
        assert np.array_equal(column, getattr(via_signals.trades, name)), name


def test_the_exact_higher_timeframe_warm_up_on_the_data_is_within_the_bound_and_where_values_start() -> None:
    strategy = parse_strategy(json.loads((SAMPLES[0].parent / "ict_htf_bias.json").read_text(encoding="utf-8")))
    series = five_minutes(3000)
    exact, bound = indicator_warmup(strategy, series), indicator_warmup(strategy, Timeframe.M5)
    assert exact <= bound
    ema = indicator_columns(strategy, series)["ema(50)@1h"]  # the slowest operand: NaN before `exact` only
    assert np.isnan(ema[:exact]).all() and np.isfinite(ema[exact])


def test_the_risk_blocks_atr_counts_in_the_warm_up() -> None:
    doc = json.loads((SAMPLES[0].parent / "upbit_scale_in.json").read_text(encoding="utf-8"))
    doc["risk"]["stop_loss"] = {"atr": {"period": 400, "mult": 2}}
    assert indicator_warmup(parse_strategy(doc)) == 400
