"""A sweep's statistics: backtesting.py's figures bit for bit as `compute_stats`, with what the candles alone
decide computed once per data range, and Alpha/Beta (a log of every bar's equity change) only when asked for."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from domain.backtest.periods import annual_periods, bar_resolution_ms
from domain.backtest.stats import (
    STAT_KEYS,
    _ceil_duration,
    _div,
    _equity_basics,
    _or_nan,
    _period_returns,
    _trade_metrics,
    drawdown,
    geometric_mean,
)
from domain.backtest.trades import TradeTable
from domain.jit import njit
from domain.market import CandleSeries

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
NAN = float("nan")
MARKET_KEYS = ("Alpha [%]", "Beta")  # the figures that need a pass of logarithms over each point's equity


@dataclass(frozen=True, slots=True, eq=False)
class DataFacts:
    """What every point on one bar range shares: times, calendar periods and the market's log returns."""

    ts: I64
    close: F64
    resolution_ms: int
    periods_per_year: int
    ends: I64
    start: datetime
    end: datetime
    duration: timedelta
    market: F64  # the close's log returns minus their mean (the market side of Beta)
    market_ss: np.float64  # their sum of squares

    @classmethod
    def of(cls, series: CandleSeries) -> DataFacts:
        ts, close = series.ts, series.close
        _, per_year, ends = annual_periods(ts)
        with np.errstate(divide="ignore", invalid="ignore"):
            b = np.divide(close[1:], close[:-1])
            np.log(b, out=b)
            b -= b.mean() if len(b) else 0.0
        return cls(ts, close, bar_resolution_ms(ts), per_year, ends,
                   datetime.fromtimestamp(int(ts[0]) / 1000, UTC), datetime.fromtimestamp(int(ts[-1]) / 1000, UTC),
                   timedelta(milliseconds=int(ts[-1] - ts[0])), b, np.float64(np.einsum("i,i->", b, b)))


def sweep_stats(facts: DataFacts, equity: F64, trades: TradeTable, first_trading_bar: int,
                market: bool = True) -> dict[str, Any]:
    """`compute_stats(ts, close, equity, trades, first_trading_bar)` (same keys, same values, same order);
    without `market` the Alpha and Beta keys are left out."""
    s: dict[str, Any] = {"Start": facts.start, "End": facts.end, "Duration": facts.duration}
    _equity_basics(s, trades, equity, facts.close, first_trading_bar)
    ann = _risk_metrics(facts, equity, s, market)
    _drawdown_metrics(facts, equity, ann, s)
    _trade_metrics(trades, s, facts.resolution_ms)
    return {key: s[key] for key in STAT_KEYS if key in s}


def _risk_metrics(f: DataFacts, equity: F64, s: dict[str, Any], market: bool) -> float:
    """`stats._risk_metrics` with the calendar periods and the market side of Beta taken from `f`."""
    periods_per_year = f.periods_per_year
    day_returns = _period_returns(equity, f.ends)
    g = geometric_mean(day_returns)
    ann = (1 + g) ** periods_per_year - 1
    s["Return (Ann.) [%]"] = ann * 100
    var = float(np.var(day_returns, ddof=1)) if len(day_returns) > 1 else NAN
    spread = (var + (1 + g) ** 2) ** periods_per_year - (1 + g) ** (2 * periods_per_year)
    vol = math.sqrt(spread) if spread >= 0 else NAN
    s["Volatility (Ann.) [%]"] = vol * 100
    duration = f.duration
    years = (duration.days + duration.seconds / 86400) / 365.25
    s["CAGR [%]"] = ((s["Equity Final [$]"] / equity[0]) ** (1 / years) - 1) * 100 if years else NAN
    s["Sharpe Ratio"] = _div(s["Return (Ann.) [%]"], _or_nan(s["Volatility (Ann.) [%]"]))
    downside = float(np.sqrt(np.mean(np.minimum(day_returns, 0.0) ** 2))) if len(day_returns) else NAN
    s["Sortino Ratio"] = _div(ann, downside * math.sqrt(periods_per_year))
    if market:
        beta = _beta(f, equity)
        s["Alpha [%]"] = s["Return [%]"] - beta * s["Buy & Hold Return [%]"]
        s["Beta"] = beta
    return ann


def _beta(f: DataFacts, equity: F64) -> float:
    """`stats._beta` with the market's centred log returns and their sum of squares from `f`."""
    if len(equity) < 3:
        return NAN
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.divide(equity[1:], equity[:-1])
        np.log(a, out=a)
        a -= a.mean()
        return float(np.float64(np.einsum("i,i->", a, f.market)) / f.market_ss)


def _drawdown_metrics(f: DataFacts, equity: F64, ann: float, s: dict[str, Any]) -> None:
    """Calmar and the drawdown figures from one pass over the equity (no drawdown array kept)."""
    deepest, durations, peaks = _drawdown_pass(np.ascontiguousarray(equity, dtype=np.float64), f.ts)
    max_dd = -float(np.nan_to_num(deepest))
    s["Calmar Ratio"] = _div(ann, _or_nan(-max_dd))
    s["Max. Drawdown [%]"] = max_dd * 100
    if len(peaks):
        s["Avg. Drawdown [%]"] = -float(peaks.mean()) * 100
        s["Max. Drawdown Duration"] = _ceil_duration(float(durations.max()), f.resolution_ms)
        s["Avg. Drawdown Duration"] = _ceil_duration(float(durations.mean()), f.resolution_ms)
    else:  # no completed episode: as compute_stats, from the raw drawdown values (rare, so the array is made)
        dd = drawdown(equity)
        nonzero = dd[dd != 0]
        s["Avg. Drawdown [%]"] = -float(nonzero.mean()) * 100 if len(nonzero) else NAN
        s["Max. Drawdown Duration"] = s["Avg. Drawdown Duration"] = None


@njit(cache=True)
def _drawdown_pass(equity: np.ndarray, ts: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:  # pragma: no cover
    """(deepest drawdown, NaN if any bar's is; each episode's duration in ms and deepest drawdown).

    The drawdown of a bar is `drawdown_nb`'s (1 − equity / running peak); an episode runs from a bar at its peak
    to the next bar at a peak (or the last bar) with at least one bar between, as `stats.drawdown_episodes`.
    """
    n = len(equity)
    durations = np.empty(n, dtype=np.int64)
    peaks = np.empty(n, dtype=np.float64)
    m = 0
    peak = -np.inf
    deepest = -np.inf
    any_nan = False
    prev = -1
    worst = 0.0
    for i in range(n):
        peak = max(peak, equity[i])
        d = 1.0 - equity[i] / peak
        nan = d != d
        any_nan |= nan
        deepest = d if d > deepest else deepest  # selects, not branches: the signs of changes are random
        worst = d if (i == prev + 1 or (worst == worst and (d > worst or nan))) else worst  # np.maximum's NaN rule
        if d == 0.0 or i == n - 1:
            if prev >= 0 and i > prev + 1:
                durations[m] = ts[i] - ts[prev]
                peaks[m] = worst
                m += 1
            prev = i
    return (np.nan if any_nan else deepest), durations[:m].copy(), peaks[:m].copy()
