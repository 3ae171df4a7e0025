"""Objectives that stay defined on minute bars: Sharpe and Sortino of per-bar returns, and return over drawdown."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from domain.jit import njit

# backtesting.py's Sharpe divides a geometric annual return by a volatility compounded over 365 periods; on a
# losing run of minute bars both underflow and the ratio is -8e8 or NaN. These use the equity curve's simple
# per-bar returns instead (definitions in `bar_metrics`), annualised by the bar spacing.
BAR_SHARPE = "Sharpe (bars)"
BAR_SORTINO = "Sortino (bars)"
RETURN_DRAWDOWN = "Return/Drawdown"
BAR_KEYS = (BAR_SHARPE, BAR_SORTINO, RETURN_DRAWDOWN)
YEAR_MS = 365.25 * 86_400_000


def periods_per_year(ts: npt.NDArray[np.int64]) -> float:
    """Bars per year at the series' mean bar spacing (NaN for fewer than 2 bars)."""
    if len(ts) < 2 or ts[-1] <= ts[0]:
        return math.nan
    return (len(ts) - 1) * YEAR_MS / float(ts[-1] - ts[0])


@njit(cache=True)
def _moments(equity: npt.NDArray[np.float64]) -> tuple[int, float, float, float]:  # pragma: no cover - numba
    """Two passes over the bar returns: (count, mean, sample variance, mean squared downside return).

    The mean first, then the squared deviations from it: no cancellation on long, nearly flat curves, and no
    division in the loop's dependency chain (Welford's update has one per bar: three times slower). The loops
    are written branch-free (selects), which a year of minute bars runs several times faster.
    """
    n = len(equity) - 1
    if n <= 0:
        return 0, np.nan, np.nan, np.nan
    total, down = 0.0, 0.0
    for i in range(1, len(equity)):
        prev = equity[i - 1]
        q = equity[i] / prev - 1.0
        r = q if prev > 0 else 0.0  # an empty account stays empty: no return
        total += r
        neg = min(r, 0.0)
        down += neg * neg
    mean = total / n
    m2 = 0.0
    for i in range(1, len(equity)):
        prev = equity[i - 1]
        q = equity[i] / prev - 1.0
        d = (q if prev > 0 else 0.0) - mean
        m2 += d * d
    return n, mean, m2 / (n - 1) if n > 1 else np.nan, down / n


def bar_metrics(ts: npt.NDArray[np.int64], equity: npt.NDArray[np.float64],
                stats: Mapping[str, Any]) -> dict[str, float]:
    """The three objectives for one equity curve over bars `ts` (`stats` gives Return and Max. Drawdown).

    With r_t = e_t / e_(t-1) - 1 (0 once the account is empty) and P = `periods_per_year(ts)`:
    Sharpe (bars) = mean(r) / std(r, ddof=1) * sqrt(P), risk-free rate 0;
    Sortino (bars) = mean(r) / sqrt(mean(min(r, 0)^2)) * sqrt(P), the downside deviation against 0 over all bars;
    Return/Drawdown = Return [%] / |Max. Drawdown [%]|.
    Each is NaN when undefined (fewer than 3 bars, a flat curve, no losing bar, no drawdown), never a huge number.
    """
    _, mean, var, down = _moments(np.ascontiguousarray(equity, dtype=np.float64))
    scale = math.sqrt(periods_per_year(ts)) if len(ts) > 1 else math.nan
    ret, mdd = _number(stats.get("Return [%]")), _number(stats.get("Max. Drawdown [%]"))
    return {
        BAR_SHARPE: _ratio(mean, math.sqrt(var) if var >= 0 else math.nan) * scale,
        BAR_SORTINO: _ratio(mean, math.sqrt(down)) * scale,
        RETURN_DRAWDOWN: _ratio(ret, abs(mdd)),
    }


def _number(x: Any) -> float:
    """A statistic as a float, NaN when missing or not a number."""
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else math.nan


def _ratio(a: float, b: float) -> float:
    """a / b, NaN unless b is a positive number clear of rounding noise."""
    if not (math.isfinite(a) and math.isfinite(b)) or b <= 1e-12:
        return math.nan
    return a / b


def with_bar_metrics(ts: npt.NDArray[np.int64], equity: npt.NDArray[np.float64],
                     stats: dict[str, Any]) -> dict[str, Any]:
    """JSON-shaped `stats` with the three objectives added (NaN as None, like every stored statistic)."""
    extra = bar_metrics(ts, equity, stats)
    return {**stats, **{k: (v if math.isfinite(v) else None) for k, v in extra.items()}}
