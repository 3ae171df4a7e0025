"""Performance statistics with backtesting.py 0.6's keys and definitions, in numpy."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from domain.backtest.curve import drawdown_nb
from domain.backtest.periods import annual_periods, bar_resolution_ms
from domain.backtest.trades import TradeTable

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
NAN = float("nan")

STAT_KEYS = (
    "Start", "End", "Duration", "Exposure Time [%]", "Equity Final [$]", "Equity Peak [$]", "Commissions [$]",
    "Return [%]", "Buy & Hold Return [%]", "Return (Ann.) [%]", "Volatility (Ann.) [%]", "CAGR [%]",
    "Sharpe Ratio", "Sortino Ratio", "Calmar Ratio", "Alpha [%]", "Beta", "Max. Drawdown [%]",
    "Avg. Drawdown [%]", "Max. Drawdown Duration", "Avg. Drawdown Duration", "# Trades", "Win Rate [%]",
    "Best Trade [%]", "Worst Trade [%]", "Avg. Trade [%]", "Max. Trade Duration", "Avg. Trade Duration",
    "Profit Factor", "Expectancy [%]", "SQN", "Kelly Criterion",
)
DURATION_KEYS = ("Duration", "Max. Drawdown Duration", "Avg. Drawdown Duration", "Max. Trade Duration",
                 "Avg. Trade Duration")
TIME_KEYS = ("Start", "End")


RATIO_KEYS = ("Sharpe Ratio", "Sortino Ratio", "Calmar Ratio")
RATIO_LIMIT = 1_000.0  # real ratios are within ±20; beyond this the denominator was ~0 (a few flat days)


def meaningless_ratio(key: str, value: object) -> bool:
    """backtesting.py's ratios divide by an annualised volatility that underflows on very short or flat
    runs (Sharpe -8e8). The figure is kept for parity; it is not shown as a number nor ranked as one."""
    return key in RATIO_KEYS and isinstance(value, float) and math.isfinite(value) and abs(value) > RATIO_LIMIT


def _div(a: float, b: float) -> float:
    """a / b with numpy's semantics (x/0 = ±inf, 0/0 = nan) instead of raising."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(a) / np.float64(b))


def _or_nan(x: float) -> float:
    """backtesting.py's `x or np.nan`: a zero denominator becomes nan."""
    return x if x else NAN


def geometric_mean(returns: F64) -> float:
    """Geometric mean of simple returns; 0 if any period lost everything (as backtesting.py)."""
    r = np.nan_to_num(returns, nan=0.0) + 1.0
    if np.any(r <= 0):
        return 0.0
    return float(np.exp(_div(float(np.log(r).sum()), len(r) or NAN)) - 1.0)


def drawdown(equity: F64) -> F64:
    """Fraction below the running peak at each bar (0 at a new high)."""
    out: F64 = drawdown_nb(np.ascontiguousarray(equity, dtype=np.float64))
    return out


def drawdown_episodes(dd: F64, ts: I64) -> tuple[I64, F64]:
    """(duration ms, deepest drawdown) of each drawdown, ending at a recovery or the last bar."""
    n = len(dd)
    iloc = np.unique(np.r_[np.flatnonzero(dd == 0), n - 1])
    if len(iloc) < 2:
        return np.empty(0, np.int64), np.empty(0)
    prev, cur = iloc[:-1], iloc[1:]
    peaks = np.maximum.reduceat(dd, prev + 1)
    keep = cur > prev + 1
    return (ts[cur] - ts[prev])[keep], peaks[keep]


def _ceil_duration(ms: float, resolution_ms: int) -> timedelta | None:
    if not math.isfinite(ms):
        return None
    return timedelta(milliseconds=math.ceil(ms / resolution_ms) * resolution_ms)


def _period_returns(equity: F64, ends: I64) -> F64:
    last = equity[ends]
    with np.errstate(divide="ignore", invalid="ignore"):
        out: F64 = last[1:] / last[:-1] - 1.0
    return out[~np.isnan(out)]


def _exposure(trades: TradeTable, n: int) -> float:
    """Percent of bars inside some trade [entry bar, exit bar] (the union, in O(trades))."""
    if len(trades) == 0:
        return 0.0
    order = np.argsort(trades.entry_bar, kind="stable")
    entry, exit_ = trades.entry_bar[order], trades.exit_bar[order]
    covered_to = np.maximum.accumulate(np.r_[-1, exit_[:-1]])
    bars = np.maximum(exit_ - np.maximum(entry, covered_to + 1) + 1, 0).sum()
    return float(bars / n * 100)


def _beta(equity: F64, close: F64) -> float:
    """Slope of the equity's log returns on the market's (np.cov's estimator, without its copies or BLAS)."""
    if len(equity) < 3:
        return NAN
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.divide(equity[1:], equity[:-1])
        np.log(a, out=a)
        b = np.divide(close[1:], close[:-1])
        np.log(b, out=b)
        a -= a.mean()
        b -= b.mean()
        # einsum, not np.dot: BLAS threads would spin on the cores the rest of the run needs
        return float(np.float64(np.einsum("i,i->", a, b)) / np.float64(np.einsum("i,i->", b, b)))


def _equity_basics(s: dict[str, Any], trades: TradeTable, equity: F64, close: F64, first_trading_bar: int) -> None:
    """Exposure, final and peak equity, commissions, return and buy & hold, in backtesting.py's order."""
    n = len(equity)
    s["Exposure Time [%]"] = _exposure(trades, n)
    s["Equity Final [$]"] = float(equity[-1])
    s["Equity Peak [$]"] = float(equity.max())
    s["Commissions [$]"] = float(trades.commission.sum())
    s["Return [%]"] = float((equity[-1] - equity[0]) / equity[0] * 100)
    c0 = close[min(first_trading_bar, n - 1)]
    s["Buy & Hold Return [%]"] = float((close[-1] - c0) / c0 * 100)


def _risk_metrics(ts: I64, close: F64, equity: F64, s: dict[str, Any], risk_free_rate: float) -> float:
    """Annualised return, volatility, CAGR, Sharpe, Sortino, Alpha, Beta into `s`; returns annual return."""
    _, periods_per_year, ends = annual_periods(ts)
    day_returns = _period_returns(equity, ends)
    g = geometric_mean(day_returns)
    ann = (1 + g) ** periods_per_year - 1
    s["Return (Ann.) [%]"] = ann * 100
    var = float(np.var(day_returns, ddof=1)) if len(day_returns) > 1 else NAN
    spread = (var + (1 + g) ** 2) ** periods_per_year - (1 + g) ** (2 * periods_per_year)
    vol = math.sqrt(spread) if spread >= 0 else NAN
    s["Volatility (Ann.) [%]"] = vol * 100
    duration = s["Duration"]
    years = (duration.days + duration.seconds / 86400) / 365.25
    s["CAGR [%]"] = ((s["Equity Final [$]"] / equity[0]) ** (1 / years) - 1) * 100 if years else NAN
    s["Sharpe Ratio"] = _div(s["Return (Ann.) [%]"] - risk_free_rate * 100, _or_nan(s["Volatility (Ann.) [%]"]))
    downside = float(np.sqrt(np.mean(np.minimum(day_returns, 0.0) ** 2))) if len(day_returns) else NAN
    s["Sortino Ratio"] = _div(ann - risk_free_rate, downside * math.sqrt(periods_per_year))
    beta = _beta(equity, close)
    s["Alpha [%]"] = s["Return [%]"] - risk_free_rate * 100 - beta * (s["Buy & Hold Return [%]"] - risk_free_rate * 100)
    s["Beta"] = beta
    return ann


def _trade_metrics(trades: TradeTable, s: dict[str, Any], resolution_ms: int) -> None:
    pl = trades.pnl
    returns = trades.return_pct / 100.0
    n = len(trades)
    s["# Trades"] = n
    win_rate = float((pl > 0).mean()) if n else NAN
    s["Win Rate [%]"] = win_rate * 100
    s["Best Trade [%]"] = float(returns.max()) * 100 if n else NAN
    s["Worst Trade [%]"] = float(returns.min()) * 100 if n else NAN
    s["Avg. Trade [%]"] = geometric_mean(returns) * 100
    dur = trades.duration_ms
    s["Max. Trade Duration"] = _ceil_duration(float(dur.max()) if n else NAN, resolution_ms)
    s["Avg. Trade Duration"] = _ceil_duration(float(dur.mean()) if n else NAN, resolution_ms)
    s["Profit Factor"] = _div(float(returns[returns > 0].sum()), _or_nan(abs(float(returns[returns < 0].sum()))))
    s["Expectancy [%]"] = float(returns.mean()) * 100 if n else NAN
    std = float(pl.std(ddof=1)) if n > 1 else NAN
    s["SQN"] = _div(math.sqrt(n) * (float(pl.mean()) if n else NAN), _or_nan(std))
    with np.errstate(divide="ignore", invalid="ignore"):
        avg_win = float(pl[pl > 0].mean()) if (pl > 0).any() else NAN
        avg_loss = float(-pl[pl < 0].mean()) if (pl < 0).any() else NAN
    s["Kelly Criterion"] = win_rate - _div(1 - win_rate, _div(avg_win, avg_loss))


def compute_stats(ts: I64, close: F64, equity: F64, trades: TradeTable, first_trading_bar: int = 0,
                  risk_free_rate: float = 0.0, dd: F64 | None = None) -> dict[str, Any]:
    """backtesting.py's statistics. Times are UTC datetimes, durations timedeltas, the rest floats/ints.

    `first_trading_bar` is where buy & hold starts (the strategy's indicator warm-up, as backtesting.py);
    `dd` is the drawdown of `equity` if the caller has it already.
    """
    n = len(ts)
    if n == 0:
        raise ValueError("no bars to compute statistics on")
    resolution_ms = bar_resolution_ms(ts)
    dd = drawdown(equity) if dd is None else dd
    s: dict[str, Any] = {}
    s["Start"] = datetime.fromtimestamp(int(ts[0]) / 1000, UTC)
    s["End"] = datetime.fromtimestamp(int(ts[-1]) / 1000, UTC)
    s["Duration"] = timedelta(milliseconds=int(ts[-1] - ts[0]))
    _equity_basics(s, trades, equity, close, first_trading_bar)
    ann = _risk_metrics(ts, close, equity, s, risk_free_rate)
    max_dd = -float(np.nan_to_num(dd.max()))
    s["Calmar Ratio"] = _div(ann, _or_nan(-max_dd))
    s["Max. Drawdown [%]"] = max_dd * 100
    durations, peaks = drawdown_episodes(dd, ts)
    if len(peaks):
        s["Avg. Drawdown [%]"] = -float(peaks.mean()) * 100
        s["Max. Drawdown Duration"] = _ceil_duration(float(durations.max()), resolution_ms)
        s["Avg. Drawdown Duration"] = _ceil_duration(float(durations.mean()), resolution_ms)
    else:  # no completed drawdown episode (backtesting.py falls back to the raw drawdown values)
        nonzero = dd[dd != 0]
        s["Avg. Drawdown [%]"] = -float(nonzero.mean()) * 100 if len(nonzero) else NAN
        s["Max. Drawdown Duration"] = s["Avg. Drawdown Duration"] = None
    _trade_metrics(trades, s, resolution_ms)
    return {key: s[key] for key in STAT_KEYS}
