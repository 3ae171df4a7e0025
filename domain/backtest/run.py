"""run_backtest(): strategy → indicators → signals → simulation → statistics, for one candle series."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from domain.backtest.curve import first_bad_price
from domain.backtest.engine import RiskLike, SignalsLike, simulate
from domain.backtest.risk_arrays import ScaleSpec, risk_warmup
from domain.backtest.settings import BacktestSettings
from domain.backtest.stats import compute_stats, drawdown
from domain.backtest.trades import LIQUIDATION, TradeTable
from domain.market import FIELDS, CandleSeries, Timeframe
from domain.strategy import Strategy, evaluate, iter_vars
from domain.strategy.evaluation import htf_warmup, var_warmup

F64 = npt.NDArray[np.float64]


class NotEnoughData(ValueError):
    """The series is empty or shorter than the strategy's indicator warm-up."""


@dataclass(frozen=True, slots=True, eq=False)
class BacktestResult:
    """Statistics (backtesting.py keys), closed trades, equity at each close and its drawdown fraction."""

    stats: dict[str, Any]
    trades: TradeTable
    equity: F64
    drawdown: F64
    start: int


def indicator_warmup(strategy: Strategy, base: Timeframe | CandleSeries | None = None) -> int:
    """Index of the first bar where every indicator has a value (backtesting.py's warm-up count).

    Higher-timeframe operands count their warm-up in `base` bars (an upper bound; 1-minute when not given) or,
    given the series itself, exactly on it; ATR distances of the risk block count too.
    """
    series = base if isinstance(base, CandleSeries) else None
    tf = series.timeframe if series is not None else base
    assert tf is None or isinstance(tf, Timeframe)
    bars = [htf_warmup(v, series) if series is not None and v.timeframe else var_warmup(v, tf)
            for v in iter_vars(strategy) if v.var not in FIELDS or v.timeframe]
    return max(bars + [risk_warmup(strategy.risk)])


def backtest_signals(series: CandleSeries, signals: SignalsLike, direction: str, risk: RiskLike,
                     settings: BacktestSettings, warmup: int = 0, scale: ScaleSpec | None = None,
                     on_stage: Callable[[str], None] | None = None,
                     atr: tuple[F64, F64] | None = None) -> BacktestResult:
    """Simulate precomputed signals and compute statistics (`on_stage("statistics")` between the two).

    As in backtesting.py, the first bar acted on is `warmup + 1` (every indicator valid on it and on the
    bar before), and buy & hold is measured from the close of bar `warmup`.
    """
    if len(series) == 0:
        raise NotEnoughData("no bars to backtest")
    if warmup + 1 >= len(series):
        raise NotEnoughData(
            f"{len(series)} bars are too few: the indicators need {warmup} bars of warm-up, "
            f"so at least {warmup + 2} bars are required"
        )
    sim = simulate(series, signals, direction, risk, settings, start=warmup + 1, scale=scale, atr=atr)
    if on_stage is not None:
        on_stage("statistics")
    dd = drawdown(sim.equity)
    stats = compute_stats(series.ts, series.close, sim.equity, sim.trades, first_trading_bar=warmup, dd=dd)
    if settings.futures:
        stats.update(futures_stats(sim.funding, sim.trades))
    return BacktestResult(stats, sim.trades, sim.equity, dd, sim.start)


def futures_stats(funding: float, trades: TradeTable) -> dict[str, Any]:
    """The futures run's extra statistics: total funding (negative = paid, open position included) and the
    number of liquidated trades."""
    return {"Funding [$]": funding, "Liquidations": int(np.count_nonzero(trades.exit_reason == LIQUIDATION))}


def check_prices(series: CandleSeries) -> None:
    """Refuse NaN or non-positive prices, naming the first bad bar."""
    i, col = first_bad_price(series.open, series.high, series.low, series.close)
    if i >= 0:
        name = ("open", "high", "low", "close")[col]
        value = series.column(name)[i]
        raise ValueError(f"bar {i} (time {int(series.ts[i])}): {name} price is {value}, not a positive number")


def run_backtest(strategy: Strategy, series: CandleSeries, settings: BacktestSettings) -> BacktestResult:
    """Backtest a validated strategy on a candle series (data already in memory)."""
    check_prices(series)
    warmup = indicator_warmup(strategy, series)
    if warmup + 1 >= len(series):  # refuse before computing any indicator
        raise NotEnoughData(f"{len(series)} bars are too few: the indicators need {warmup} bars of warm-up, "
                            f"so at least {warmup + 2} bars are required")
    signals = evaluate(strategy, series)  # carries the scale-in rule and the position programs to the engine
    return backtest_signals(series, signals, strategy.direction, strategy.risk, settings, warmup)


def json_value(value: Any) -> Any:
    """A stats value as JSON: times ISO 8601, durations in days, NaN/inf as null."""
    if hasattr(value, "isoformat"):
        return value.isoformat().replace("+00:00", "Z")
    if hasattr(value, "total_seconds"):
        return value.total_seconds() / 86400
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
