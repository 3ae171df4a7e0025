"""Single-pass numba helpers over whole series: drawdown, price sanity, calendar-day boundaries."""

from __future__ import annotations

import numpy as np
from numba import njit

DAY_MS = 86_400_000


@njit(cache=True)
def drawdown_nb(equity: np.ndarray) -> np.ndarray:
    """1 − equity / running peak, bar by bar (the same arithmetic as backtesting.py's vectorised form)."""
    out = np.empty_like(equity)
    peak = -np.inf
    for i in range(len(equity)):
        peak = max(peak, equity[i])
        out[i] = 1.0 - equity[i] / peak
    return out


@njit(cache=True)
def first_bad_price(o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray) -> tuple[int, int]:
    """(bar, column 0..3 for open/high/low/close) of the first price that is NaN, infinite or ≤ 0, or (-1, -1)."""
    for i in range(len(c)):
        for col, x in enumerate((o[i], h[i], lo[i], c[i])):
            if not (x > 0.0 and x < np.inf):
                return i, col
    return -1, -1


@njit(cache=True)
def day_ends(ts: np.ndarray) -> tuple[np.ndarray, int]:
    """(index of each UTC day's last bar, number of bars on Saturdays and Sundays)."""
    n = len(ts)
    ends = np.empty(n, dtype=np.int64)
    m = 0
    weekend = 0
    for i in range(n):
        day = ts[i] // DAY_MS
        if (day + 3) % 7 >= 5:  # 1970-01-01 was a Thursday
            weekend += 1
        if i == n - 1 or ts[i + 1] // DAY_MS != day:
            ends[m] = i
            m += 1
    return ends[:m].copy(), weekend
