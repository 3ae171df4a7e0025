"""Numba window kernels: rolling sums, weighted sums, extremes and deviations (causal, prefix-deterministic).

Every kernel is a left-to-right loop whose arithmetic at bar t depends only on bars ≤ t and on t itself,
so computing on a prefix gives bit-for-bit the same values. Running sums are compensated (Neumaier) and
re-summed from scratch whenever a window starts at a multiple of the period, which bounds drift over
long series without making the result depend on the series length.
"""

from __future__ import annotations

import numpy as np

from domain.indicators.base import F64
from domain.jit import njit

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
def rolling_sum(x: F64, period: int, start: int = 0) -> F64:
    """Sum of the last `period` values of x[start:]; NaN before bar start+period-1."""
    n = x.size
    out = np.full(n, np.nan)
    s = 0.0
    c = 0.0
    for i in range(start + period - 1, n):
        lo = i - period + 1
        if (lo - start) % period == 0:
            s, c = _fresh_sum(x, lo, i + 1)
        else:
            s, c = _add(s, c, x[i])
            s, c = _add(s, c, -x[lo - 1])
        out[i] = s + c
    return out


@njit(cache=True)
def rolling_mean(x: F64, period: int, start: int = 0) -> F64:
    """Simple moving average of the last `period` values of x[start:]."""
    out = rolling_sum(x, period, start)
    for i in range(start + period - 1, x.size):
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
def _rolling_extreme(x: F64, period: int, sign: float) -> F64:
    """Largest of the last `period` values of sign·x, times sign (monotonic queue in a ring buffer, O(n))."""
    n = x.size
    out = np.full(n, np.nan)
    size = 1
    while size < period + 1:
        size *= 2
    mask = size - 1
    dq = np.empty(size, np.int64)
    head = 0  # head..tail-1 (mod size) hold indexes whose values decrease from head to tail
    tail = 0
    for i in range(n):
        v = sign * x[i]
        while tail > head and sign * x[dq[(tail - 1) & mask]] <= v:
            tail -= 1
        dq[tail & mask] = i
        tail += 1
        if dq[head & mask] <= i - period:
            head += 1
        if i >= period - 1:
            out[i] = x[dq[head & mask]]
    return out


@njit(cache=True)
def rolling_max(x: F64, period: int) -> F64:
    """Largest of the last `period` values."""
    return _rolling_extreme(x, period, 1.0)


@njit(cache=True)
def rolling_min(x: F64, period: int) -> F64:
    """Smallest of the last `period` values."""
    return _rolling_extreme(x, period, -1.0)


@njit(cache=True)
def rolling_pstd(x: F64, period: int, scale: float = 1.0) -> F64:
    """Population standard deviation of each window times `scale`, O(n).

    Sums of (x − ref) and (x − ref)² run compensated, with `ref` re-anchored to a recent value at every
    re-summation, so E[d²] − E[d]² never cancels more than a few digits even for tiny or huge prices.
    """
    n = x.size
    out = np.full(n, np.nan)
    ref = 0.0
    s1 = c1 = s2 = c2 = 0.0
    for i in range(period - 1, n):
        lo = i - period + 1
        if lo % period == 0:
            ref = x[lo]
            s1 = c1 = s2 = c2 = 0.0
            for j in range(lo, i + 1):
                d = x[j] - ref
                s1, c1 = _add(s1, c1, d)
                s2, c2 = _add(s2, c2, d * d)
        else:
            d_in = x[i] - ref
            d_out = x[lo - 1] - ref
            s1, c1 = _add(s1, c1, d_in)
            s1, c1 = _add(s1, c1, -d_out)
            s2, c2 = _add(s2, c2, d_in * d_in)
            s2, c2 = _add(s2, c2, -(d_out * d_out))
        m = (s1 + c1) / period
        var = (s2 + c2) / period - m * m
        out[i] = np.sqrt(var) * scale if var > 0.0 else 0.0
    return out


@njit(cache=True)
def band_ratios(x: F64, middle: F64, dev: F64) -> tuple[F64, F64, F64, F64]:
    """(upper, lower, percent_b, width) from a middle line and a band half-width; NaN where middle is NaN."""
    n = x.size
    upper = np.full(n, np.nan)
    lower = np.full(n, np.nan)
    pb = np.full(n, np.nan)
    width = np.full(n, np.nan)
    for i in range(n):
        m = middle[i]
        if np.isnan(m):
            continue
        u = m + dev[i]
        lw = m - dev[i]
        h = u - lw
        upper[i] = u
        lower[i] = lw
        pb[i] = (x[i] - lw) / h if h != 0.0 else 0.5
        width[i] = h / m if m != 0.0 else 0.0
    return upper, lower, pb, width


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


@njit(cache=True)
def stoch_fast_k(close: F64, hh: F64, ll: F64) -> F64:
    """Raw %K: where the close sits in the high–low range, 0..100; 50 when the range has zero height."""
    n = close.size
    out = np.full(n, np.nan)
    for i in range(n):
        rng = hh[i] - ll[i]
        if rng == rng:  # not NaN
            out[i] = (close[i] - ll[i]) / (rng / 100.0) if rng != 0.0 else 50.0
    return out
