"""Objectives that stay defined on minute bars: Sharpe and Sortino of per-bar returns, and return over drawdown.

backtesting.py's Sharpe divides a geometric annual return by a volatility compounded over 365 periods; on a
losing run of minute bars both underflow and the ratio is -8e8 or NaN. These use the equity curve's simple
per-bar returns r_t = e_t / e_(t-1) - 1 and annualise by the bar spacing:

- periods per year P = 365.25 days / the mean spacing of the bars (1-minute crypto bars: 525,960; daily stock
  bars with weekends missing: about 252);
- Sharpe (bars) = mean(r) / std(r, ddof=1) * sqrt(P), risk-free rate 0;
- Sortino (bars) = mean(r) / sqrt(mean(min(r, 0)^2)) * sqrt(P) (downside deviation against 0 over all bars);
- Return/Drawdown = Return [%] / |Max. Drawdown [%]|.

Each is NaN when undefined (fewer than 3 bars, a flat curve, no losing bar, no drawdown), never a huge number.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

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


def bar_returns(equity: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Simple returns between consecutive bars; a bar after the account hit 0 counts as 0 (nothing left)."""
    prev, now = equity[:-1], equity[1:]
    out = np.zeros(len(prev), dtype=np.float64)
    alive = prev > 0
    out[alive] = now[alive] / prev[alive] - 1.0
    return out


def bar_metrics(ts: npt.NDArray[np.int64], equity: npt.NDArray[np.float64],
                stats: Mapping[str, Any]) -> dict[str, float]:
    """The three objectives for one equity curve over bars `ts` (`stats` gives Return and Max. Drawdown)."""
    r = bar_returns(np.asarray(equity, dtype=np.float64))
    scale = math.sqrt(periods_per_year(ts)) if len(ts) > 1 else math.nan
    mean = float(r.mean()) if len(r) else math.nan
    std = float(r.std(ddof=1)) if len(r) > 1 else math.nan
    downside = float(np.sqrt(np.mean(np.minimum(r, 0.0) ** 2))) if len(r) else math.nan
    ret, mdd = _number(stats.get("Return [%]")), _number(stats.get("Max. Drawdown [%]"))
    return {
        BAR_SHARPE: _ratio(mean, std) * scale,
        BAR_SORTINO: _ratio(mean, downside) * scale,
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
