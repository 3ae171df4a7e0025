"""Single-pass numba helpers over whole series: drawdown, price sanity, calendar-day boundaries."""

from __future__ import annotations

import numpy as np

from domain.jit import njit

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


def first_bad_price(o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray) -> tuple[int, int]:
    """(bar, column 0..3 for open/high/low/close) of the first price that is NaN, infinite or ≤ 0, or (-1, -1)."""
    # min/max propagate NaN, so two SIMD reductions per column settle the usual, clean case
    if all(len(x) == 0 or (x.min() > 0.0 and x.max() < np.inf) for x in (o, h, lo, c)):
        return -1, -1
    i, col = _locate_bad_price(o, h, lo, c)
    return int(i), int(col)


@njit(cache=True)
def _locate_bad_price(o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray) -> tuple[int, int]:
    for i in range(len(c)):
        for col, x in enumerate((o[i], h[i], lo[i], c[i])):
            if not (x > 0.0 and x < np.inf):
                return i, col
    return -1, -1


@njit(cache=True)
def day_ends(ts: np.ndarray) -> tuple[np.ndarray, int]:
    """(index of each UTC day's last bar, number of bars on Saturdays and Sundays); bars sorted by time."""
    n = len(ts)
    ends = np.empty(n, dtype=np.int64)
    m = 0
    weekend = 0
    first = 0
    while first < n:
        day = ts[first] // DAY_MS  # one division per day, not per bar
        next_day = (day + 1) * DAY_MS
        last = first
        while last + 1 < n and ts[last + 1] < next_day:
            last += 1
        ends[m] = last
        m += 1
        if (day + 3) % 7 >= 5:  # Saturday or Sunday; 1970-01-01 was a Thursday
            weekend += last - first + 1
        first = last + 1
    return ends[:m].copy(), weekend
