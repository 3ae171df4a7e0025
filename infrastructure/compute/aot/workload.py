"""What the ahead-of-time build runs with numba first, so that numba records the argument types real runs use.

Every sample strategy and a v1 cross with each kind of exit, on 1m and 5m bars, on spot and futures accounts,
with candles in writeable arrays (a CSV file, Arrow) and read-only ones (stored blocks); every catalog
indicator; the data checks run before a backtest; a small sweep (its per-point statistics and bar metrics).
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib.resources import files

import numpy as np

from domain.backtest import BacktestSettings
from domain.backtest.curve import first_bad_price
from domain.backtest.run import indicator_warmup, run_backtest
from domain.futures import FundingRates
from domain.indicators import CATALOG
from domain.market import CandleSeries, Timeframe
from domain.strategy import Strategy, StrategyInvalid, loads_strategy, parse_strategy
from domain.sweep import IndicatorCache, SweepJob, SweepSpace, SweepTask, full_stats, make_axis, run_task
from infrastructure.futures_brackets import load_default_brackets

BARS = 4_000


def run_workload() -> int:
    """Run everything once; the number of backtests run."""
    runs = 0
    for series in _series():
        first_bad_price(series.open, series.high, series.low, series.close)
        for indicator in CATALOG.values():
            indicator.compute(series)
        for strategy in _strategies():
            for settings in _settings(series):
                try:
                    indicator_warmup(strategy, series)
                    run_backtest(strategy, series, settings)
                except (ValueError, StrategyInvalid):  # a sample made for another base timeframe
                    continue
                runs += 1
        runs += _sweep(series)
    return runs


def _sweep(series: CandleSeries) -> int:
    """Sweep points as `quantdesk optimize` runs them (with and without Alpha/Beta), and the best's full stats."""
    definition = _cross({"stop_loss_pct": 2.0})
    fast, slow = "entry_long.all[0].left.params.period", "entry_long.all[0].right.params.period"
    space = SweepSpace((make_axis(definition, [fast], "5,10"), make_axis(definition, [slow], "20,30")))
    done = 0
    for settings, market in zip(_settings(series), (True, False, True, False), strict=False):
        job = SweepJob(definition, space, settings, data_key="workload", market_stats=market)
        results = run_task(SweepTask(job, tuple(space.grid()), 0, len(series)), series, cache=IndicatorCache())
        full_stats(job, results[0], series)
        done += len(results)
    return done


def _series() -> Iterator[CandleSeries]:
    rng = np.random.default_rng(7)
    close = 30_000 * np.exp(np.cumsum(rng.normal(0, 0.002, BARS)))
    open_ = np.r_[close[0], close[:-1]]
    high = np.maximum(open_, close) * (1 + rng.random(BARS) * 0.002)
    low = np.minimum(open_, close) * (1 - rng.random(BARS) * 0.002)
    volume = rng.random(BARS) * 10
    for tf in (Timeframe.parse("1m"), Timeframe.parse("5m")):
        ts = 1_704_067_200_000 + np.arange(BARS, dtype=np.int64) * tf.ms
        yield CandleSeries.from_columns(tf, ts, open_, high, low, close, volume)
        frozen = [np.array(c) for c in (ts, open_, high, low, close, volume)]
        for c in frozen:
            c.setflags(write=False)
        yield CandleSeries.from_columns(tf, *frozen)


def _strategies() -> Iterator[Strategy]:
    folder = files("resources.strategies")
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if path.name.endswith(".json"):
            yield loads_strategy(path.read_text(encoding="utf-8"))
    risks: list[dict[str, float]] = [{"stop_loss_pct": 2.0}, {"take_profit_pct": 3.0, "trailing_stop_pct": 1.5}, {}]
    for risk in risks:
        yield parse_strategy(_cross(risk))


def _cross(risk: dict[str, float]) -> dict[str, object]:
    def leg(op: str) -> dict[str, object]:
        return {"all": [{"left": {"var": "sma", "params": {"period": 10}}, "op": op,
                         "right": {"var": "ema", "params": {"period": 30}}}]}

    return {"schema": 1, "name": "cross", "direction": "long_short", "entry_long": leg("crosses_above"),
            "entry_short": leg("crosses_below"), "exit_long": None, "exit_short": None,
            "risk": {"position_size_pct": 100, **risk}}


def _settings(series: CandleSeries) -> Iterator[BacktestSettings]:
    yield BacktestSettings(cash=1_000_000, commission=0.001, lot_size=1)
    yield BacktestSettings(cash=10_000, commission=0.0005, slippage=0.0002, trade_on_close=True,
                           finalize_trades=True)
    brackets = load_default_brackets()["BTCUSDT"]
    hours = np.arange(int(series.ts[0]) // 28_800_000 + 1, int(series.ts[-1]) // 28_800_000 + 1, dtype=np.int64)
    rates = FundingRates.from_columns(hours * 28_800_000, np.full(len(hours), 0.0001))
    for margin in ("isolated", "cross"):
        yield BacktestSettings(cash=10_000, commission=0.0004, lot_size=0.001, leverage=20, margin=margin,
                               brackets=brackets, funding=rates)
