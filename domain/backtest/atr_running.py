"""Wilder's ATR advanced one bar at a time inside a simulation loop, bit for bit `recursive.atr_wilder`."""

from __future__ import annotations

import numpy as np
from numba import njit

from domain.indicators.recursive import _tr


@njit(cache=True, inline="always")
def _atr_step(h: np.ndarray, lo: np.ndarray, c: np.ndarray, i: int, periods: np.ndarray, acc0: float, val0: float,
              acc: np.ndarray, val: np.ndarray) -> tuple[float, float]:
    """Advance the ATR of each of `periods` to bar i ≥ 1 (bars in order): the first period's sum of true ranges
    and ATR are the scalars passed and returned, so they stay in registers through the loop, the others' in
    `acc[q]`, `val[q]`. Run inside the loop that reads it, the recursion's division latency hides behind that
    loop's work instead of costing a pass of its own."""
    t = _tr(h, lo, c, i)
    for q in range(1, len(periods)):
        acc[q], val[q] = _wilder(i, periods[q], t, acc[q], val[q])
    return _wilder(i, periods[0], t, acc0, val0)


@njit(cache=True, inline="always")
def _wilder(i: int, period: int, t: float, acc: float, val: float) -> tuple[float, float]:
    """(sum of the true ranges so far, ATR: NaN until bar `period`) after bar i's true range `t`, with the
    operations of `atr_wilder` in its order."""
    if i < period:
        return acc + t, val
    if i == period:
        acc += t
        return acc, acc / period
    prev = val * (period - 1)
    prev += t
    return acc, prev / period


@njit(cache=True, inline="always")
def _distance(val0: float, val: np.ndarray, dist: np.ndarray, j: int) -> float:
    """Distance j (`dist` row: ATR index or -1, mult): mult × that ATR (the first is `val0`, the others `val[q]`),
    NaN when it is not an ATR distance."""
    row = int(dist[j, 0])
    if row < 0:
        return np.nan
    out: float = dist[j, 1] * (val0 if row == 0 else val[row])
    return out
