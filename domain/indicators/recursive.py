"""Numba recursive kernels: EMA, Wilder smoothing (RSI, ATR, ADX), true range and OBV.

Loops follow TA-Lib's order of operations so results agree to rounding; where our convention
differs (degenerate flat windows) the difference is noted on the function.
"""

from __future__ import annotations

import numpy as np

from domain.indicators.base import F64
from domain.jit import njit


@njit(cache=True)
def ema_seeded(x: F64, period: int, seed_at: int) -> F64:
    """EMA with k = 2/(period+1), seeded at bar `seed_at` with the SMA of the `period` bars ending there."""
    n = x.size
    out = np.full(n, np.nan)
    if seed_at >= n:
        return out
    k = 2.0 / (period + 1)
    s = 0.0
    for j in range(seed_at - period + 1, seed_at + 1):
        s += x[j]
    prev = s / period
    out[seed_at] = prev
    for i in range(seed_at + 1, n):
        prev = ((x[i] - prev) * k) + prev
        out[i] = prev
    return out


@njit(cache=True)
def rsi_wilder(x: F64, period: int) -> F64:
    """Wilder's RSI; first value at bar `period`. A window with no movement reads 50 (TA-Lib writes 0)."""
    n = x.size
    out = np.full(n, np.nan)
    if period >= n:
        return out
    gain = 0.0
    loss = 0.0
    for i in range(1, period + 1):
        d = x[i] - x[i - 1]
        if d < 0:
            loss -= d
        else:
            gain += d
    gain /= period
    loss /= period
    out[period] = 100.0 * (gain / (gain + loss)) if gain + loss != 0.0 else 50.0
    for i in range(period + 1, n):
        d = x[i] - x[i - 1]
        loss *= period - 1
        gain *= period - 1
        if d < 0:
            loss -= d
        else:
            gain += d
        loss /= period
        gain /= period
        out[i] = 100.0 * (gain / (gain + loss)) if gain + loss != 0.0 else 50.0
    return out


@njit(cache=True)
def _tr(high: F64, low: F64, close: F64, i: int) -> float:
    pc = float(close[i - 1])
    r = float(high[i] - low[i])
    a = abs(float(high[i]) - pc)
    b = abs(float(low[i]) - pc)
    if a > r:
        r = a
    if b > r:
        r = b
    return r


@njit(cache=True)
def true_range(high: F64, low: F64, close: F64) -> F64:
    """max(high-low, |high-prev close|, |low-prev close|); NaN at bar 0 (no previous close)."""
    n = high.size
    out = np.full(n, np.nan)
    for i in range(1, n):
        out[i] = _tr(high, low, close, i)
    return out


@njit(cache=True)
def atr_wilder(high: F64, low: F64, close: F64, period: int) -> F64:
    """Wilder's ATR: SMA of the first `period` true ranges, then (prev*(p-1)+tr)/p; first value at bar `period`."""
    n = high.size
    out = np.full(n, np.nan)
    if period >= n:
        return out
    s = 0.0
    for i in range(1, period + 1):
        s += _tr(high, low, close, i)
    prev = s / period
    out[period] = prev
    for i in range(period + 1, n):
        prev *= period - 1
        prev += _tr(high, low, close, i)
        prev /= period
        out[i] = prev
    return out


@njit(cache=True)
def _dm(high: F64, low: F64, i: int) -> tuple[float, float]:
    up = high[i] - high[i - 1]
    down = low[i - 1] - low[i]
    if down > 0 and up < down:
        return 0.0, down
    if up > 0 and up > down:
        return up, 0.0
    return 0.0, 0.0


@njit(cache=True)
def _di(pdm: float, mdm: float, tr: float) -> tuple[float, float, float]:
    if tr == 0.0:
        return 0.0, 0.0, 0.0
    plus = 100.0 * (pdm / tr)
    minus = 100.0 * (mdm / tr)
    total = minus + plus
    dx = 100.0 * (abs(minus - plus) / total) if total != 0.0 else 0.0
    return plus, minus, dx


@njit(cache=True)
def adx_wilder(high: F64, low: F64, close: F64, period: int) -> tuple[F64, F64, F64]:
    """(adx, plus_di, minus_di) per TA-Lib's Wilder scheme; all first valid at bar 2*period-1.

    The smoothed DM/TR start as sums over bars 1..period-1 (TA-Lib's seeding). Where the true range
    or DI sum is zero we read DI = 0 and DX = 0 and keep smoothing (TA-Lib skips the update).
    """
    n = high.size
    adx = np.full(n, np.nan)
    pdi = np.full(n, np.nan)
    mdi = np.full(n, np.nan)
    first = 2 * period - 1
    if first >= n:
        return adx, pdi, mdi
    spdm = 0.0
    smdm = 0.0
    str_ = 0.0
    for i in range(1, period):
        p, m = _dm(high, low, i)
        spdm += p
        smdm += m
        str_ += _tr(high, low, close, i)
    sum_dx = 0.0
    prev_adx = 0.0
    for i in range(period, n):
        p, m = _dm(high, low, i)
        smdm -= smdm / period
        spdm -= spdm / period
        smdm += m
        spdm += p
        str_ = str_ - (str_ / period) + _tr(high, low, close, i)
        plus, minus, dx = _di(spdm, smdm, str_)
        if i < first:
            sum_dx += dx
            continue
        if i == first:
            sum_dx += dx
            prev_adx = sum_dx / period
        else:
            prev_adx = ((prev_adx * (period - 1)) + dx) / period
        adx[i] = prev_adx
        pdi[i] = plus
        mdi[i] = minus
    return adx, pdi, mdi


@njit(cache=True)
def obv_kernel(close: F64, volume: F64) -> F64:
    """On-balance volume starting at the first bar's volume (TA-Lib's convention)."""
    n = close.size
    out = np.empty(n)
    if n == 0:
        return out
    acc = volume[0]
    out[0] = acc
    for i in range(1, n):
        if close[i] > close[i - 1]:
            acc += volume[i]
        elif close[i] < close[i - 1]:
            acc -= volume[i]
        out[i] = acc
    return out


@njit(cache=True)
def roc_kernel(x: F64, period: int) -> F64:
    """(x / x[t-period] − 1) × 100; 0 where the old value is 0 (TA-Lib's convention)."""
    n = x.size
    out = np.full(n, np.nan)
    for i in range(period, n):
        prev = x[i - period]
        out[i] = ((x[i] / prev) - 1.0) * 100.0 if prev != 0.0 else 0.0
    return out
