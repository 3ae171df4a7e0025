"""Numba window kernels: rolling sums, weighted sums, extremes and deviations (causal, prefix-deterministic).

Every kernel is a left-to-right loop whose arithmetic at bar t depends only on bars ≤ t and on t itself,
so computing on a prefix gives bit-for-bit the same values. Running sums are compensated (Neumaier) and
re-summed from scratch whenever a window starts at a multiple of the period, which bounds drift over
long series without making the result depend on the series length.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from domain.indicators.base import F64

_NOISE = 16 * 2.220446049250313e-16


@njit(cache=True)
def _fresh_sum(x: F64, lo: int, hi: int) -> tuple[float, float]:
    s = 0.0
    c = 0.0
    for j in range(lo, hi):
        v = x[j]
        t = s + v
        if abs(s) >= abs(v):
            c += (s - t) + v
        else:
            c += (v - t) + s
        s = t
    return s, c


@njit(cache=True)
def _add(s: float, c: float, v: float) -> tuple[float, float]:
    t = s + v
    if abs(s) >= abs(v):
        c += (s - t) + v
    else:
        c += (v - t) + s
    return t, c


@njit(cache=True)
def rolling_sum(x: F64, period: int) -> F64:
    """Sum of the last `period` values; NaN for the first period-1 bars."""
    n = x.size
    out = np.full(n, np.nan)
    s = 0.0
    c = 0.0
    for i in range(period - 1, n):
        lo = i - period + 1
        if lo % period == 0:
            s, c = _fresh_sum(x, lo, i + 1)
        else:
            s, c = _add(s, c, x[i])
            s, c = _add(s, c, -x[lo - 1])
        out[i] = s + c
    return out


@njit(cache=True)
def rolling_mean(x: F64, period: int) -> F64:
    """Simple moving average of the last `period` values."""
    out = rolling_sum(x, period)
    for i in range(period - 1, x.size):
        out[i] = out[i] / period
    return out


@njit(cache=True)
def rolling_wma(x: F64, period: int) -> F64:
    """Linearly weighted average, weights 1..period with the newest bar weighted `period`."""
    n = x.size
    out = np.full(n, np.nan)
    divider = period * (period + 1) / 2.0
    ws = 0.0  # weighted sum of the window ending at i
    s = 0.0  # plain sum of the same window
    for i in range(period - 1, n):
        lo = i - period + 1
        if lo % period == 0:
            ws = 0.0
            s = 0.0
            for j in range(lo, i + 1):
                ws += (j - lo + 1) * x[j]
                s += x[j]
        else:
            ws = ws + period * x[i] - s
            s = s + x[i] - x[lo - 1]
        out[i] = ws / divider
    return out


@njit(cache=True)
def rolling_max(x: F64, period: int) -> F64:
    """Largest of the last `period` values (monotonic queue, O(n))."""
    n = x.size
    out = np.full(n, np.nan)
    dq = np.empty(n, np.int64)
    head = 0
    tail = 0
    for i in range(n):
        while tail > head and x[dq[tail - 1]] <= x[i]:
            tail -= 1
        dq[tail] = i
        tail += 1
        if dq[head] <= i - period:
            head += 1
        if i >= period - 1:
            out[i] = x[dq[head]]
    return out


@njit(cache=True)
def rolling_min(x: F64, period: int) -> F64:
    """Smallest of the last `period` values (monotonic queue, O(n))."""
    n = x.size
    out = np.full(n, np.nan)
    dq = np.empty(n, np.int64)
    head = 0
    tail = 0
    for i in range(n):
        while tail > head and x[dq[tail - 1]] >= x[i]:
            tail -= 1
        dq[tail] = i
        tail += 1
        if dq[head] <= i - period:
            head += 1
        if i >= period - 1:
            out[i] = x[dq[head]]
    return out


@njit(cache=True)
def rolling_pstd(x: F64, mean: F64, period: int) -> F64:
    """Population standard deviation of each window around its given mean (two-pass, exact per window)."""
    n = x.size
    out = np.full(n, np.nan)
    for i in range(period - 1, n):
        m = mean[i]
        acc = 0.0
        for j in range(i - period + 1, i + 1):
            d = x[j] - m
            acc += d * d
        out[i] = np.sqrt(acc / period)
    return out


@njit(cache=True)
def cci_kernel(tp: F64, period: int) -> F64:
    """Commodity Channel Index of a typical-price series (window mean and mean deviation recomputed per bar)."""
    n = tp.size
    out = np.full(n, np.nan)
    for i in range(period - 1, n):
        lo = i - period + 1
        s = 0.0
        for j in range(lo, i + 1):
            s += tp[j]
        avg = s / period
        dev = 0.0
        for j in range(lo, i + 1):
            dev += abs(tp[j] - avg)
        diff = tp[i] - avg
        # Differences at rounding-noise level mean a flat window: read 0, as TA-Lib does.
        noise = _NOISE * abs(avg)
        out[i] = diff / (0.015 * (dev / period)) if abs(diff) > noise and dev / period > noise else 0.0
    return out


def on_tail(kernel_out: F64, n: int, start: int) -> F64:
    """Place a kernel's output computed on x[start:] back into a full-length NaN array."""
    out = np.full(n, np.nan)
    if start < n:
        out[start:] = kernel_out
    return out
