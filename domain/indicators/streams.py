"""Streaming forms of the numba kernels: one value in, that bar's value out, in O(1) (O(period) for CCI).

Each class repeats its kernel's loop body with the same operations in the same order on IEEE doubles,
counting bars from the first one pushed, so the n-th value pushed is bit-for-bit the kernel's value at
index n of the same series (tests compare every catalog indicator on random and degenerate data). The
live evaluator uses them so a closed bar costs a few microseconds however long the history is.
"""

from __future__ import annotations

import math
from collections import deque

NAN = math.nan


def _add(s: float, c: float, v: float) -> tuple[float, float]:
    """Neumaier-compensated s + v (kernels._add)."""
    t = s + v
    if abs(s) >= abs(v):
        c += (s - t) + v
    else:
        c += (v - t) + s
    return t, c


def divide(a: float, b: float) -> float:
    """a / b with numpy's answers for a zero divisor (±inf, or NaN for 0/0 and NaN)."""
    if b != 0.0:
        return a / b
    if a != a or a == 0.0:
        return NAN
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


class RollingSum:
    """kernels.rolling_sum(x, period, start): compensated window sum, re-summed when a window starts at a
    multiple of `period` after `start`; NaN before bar start+period-1."""

    __slots__ = ("period", "start", "first", "i", "ring", "s", "c")

    def __init__(self, period: int, start: int = 0) -> None:
        self.period, self.start, self.first = period, start, start + period - 1
        self.i = -1
        self.ring: deque[float] = deque(maxlen=period)
        self.s = self.c = 0.0

    def push(self, x: float) -> float:
        self.i = i = self.i + 1
        ring = self.ring
        leaving = ring[0] if len(ring) == self.period else NAN
        ring.append(x)
        if i < self.first:
            return NAN
        if (i - self.period + 1 - self.start) % self.period == 0:
            s = c = 0.0
            for v in ring:
                s, c = _add(s, c, v)
        else:
            s, c = _add(self.s, self.c, x)
            s, c = _add(s, c, -leaving)
        self.s, self.c = s, c
        return s + c


class RollingMean:
    """kernels.rolling_mean(x, period, start)."""

    __slots__ = ("sum", "period")

    def __init__(self, period: int, start: int = 0) -> None:
        self.sum = RollingSum(period, start)
        self.period = period

    def push(self, x: float) -> float:
        return self.sum.push(x) / self.period


class RollingWma:
    """kernels.rolling_wma(x, period)."""

    __slots__ = ("period", "divider", "i", "ring", "ws", "s")

    def __init__(self, period: int) -> None:
        self.period = period
        self.divider = period * (period + 1) / 2.0
        self.i = -1
        self.ring: deque[float] = deque(maxlen=period)
        self.ws = self.s = 0.0

    def push(self, x: float) -> float:
        self.i = i = self.i + 1
        period, ring = self.period, self.ring
        leaving = ring[0] if len(ring) == period else NAN
        ring.append(x)
        if i < period - 1:
            return NAN
        if (i - period + 1) % period == 0:
            ws = s = 0.0
            for k, v in enumerate(ring, 1):
                ws += k * v
                s += v
        else:
            ws = self.ws + period * x - self.s
            s = self.s + x - leaving
        self.ws, self.s = ws, s
        return ws / self.divider


class RollingExtreme:
    """kernels._rolling_extreme: the largest of the last `period` values of sign·x, times sign (monotonic
    queue kept exactly as the kernel keeps it, ties resolved the same way)."""

    __slots__ = ("period", "sign", "i", "dq")

    def __init__(self, period: int, sign: float) -> None:
        self.period, self.sign = period, sign
        self.i = -1
        self.dq: deque[tuple[int, float]] = deque()

    def push(self, x: float) -> float:
        self.i = i = self.i + 1
        sign, dq = self.sign, self.dq
        v = sign * x
        while dq and sign * dq[-1][1] <= v:
            dq.pop()
        dq.append((i, x))
        if dq[0][0] <= i - self.period:
            dq.popleft()
        return dq[0][1] if i >= self.period - 1 else NAN


class RollingPstd:
    """kernels.rolling_pstd(x, period, scale): population std of each window around a re-anchored ref."""

    __slots__ = ("period", "scale", "i", "ring", "ref", "s1", "c1", "s2", "c2")

    def __init__(self, period: int, scale: float) -> None:
        self.period, self.scale = period, scale
        self.i = -1
        self.ring: deque[float] = deque(maxlen=period)
        self.ref = self.s1 = self.c1 = self.s2 = self.c2 = 0.0

    def push(self, x: float) -> float:
        self.i = i = self.i + 1
        period, ring = self.period, self.ring
        leaving = ring[0] if len(ring) == period else NAN
        ring.append(x)
        if i < period - 1:
            return NAN
        if (i - period + 1) % period == 0:
            ref = self.ref = ring[0]
            s1 = c1 = s2 = c2 = 0.0
            for v in ring:
                d = v - ref
                s1, c1 = _add(s1, c1, d)
                s2, c2 = _add(s2, c2, d * d)
        else:
            ref = self.ref
            d_in = x - ref
            d_out = leaving - ref
            s1, c1 = _add(self.s1, self.c1, d_in)
            s1, c1 = _add(s1, c1, -d_out)
            s2, c2 = _add(self.s2, self.c2, d_in * d_in)
            s2, c2 = _add(s2, c2, -(d_out * d_out))
        self.s1, self.c1, self.s2, self.c2 = s1, c1, s2, c2
        m = (s1 + c1) / period
        var = (s2 + c2) / period - m * m
        return math.sqrt(var) * self.scale if var > 0.0 else 0.0


class Ema:
    """recursive.ema_seeded(x, period, seed_at): NaN until `seed_at`, seeded with the plain mean of the
    `period` values ending there, then prev + (x − prev)·k."""

    __slots__ = ("period", "seed_at", "k", "i", "ring", "prev")

    def __init__(self, period: int, seed_at: int) -> None:
        self.period, self.seed_at = period, seed_at
        self.k = 2.0 / (period + 1)
        self.i = -1
        self.ring: deque[float] = deque(maxlen=period)
        self.prev = NAN

    def push(self, x: float) -> float:
        self.i = i = self.i + 1
        if i < self.seed_at:
            self.ring.append(x)
            return NAN
        if i == self.seed_at:
            self.ring.append(x)
            s = 0.0
            for v in self.ring:
                s += v
            self.prev = s / self.period
            return self.prev
        self.prev = ((x - self.prev) * self.k) + self.prev
        return self.prev


class Rsi:
    """recursive.rsi_wilder(x, period); a window without movement reads 50."""

    __slots__ = ("period", "i", "last", "gain", "loss")

    def __init__(self, period: int) -> None:
        self.period = period
        self.i = -1
        self.last = NAN
        self.gain = self.loss = 0.0

    def push(self, x: float) -> float:
        self.i = i = self.i + 1
        d = x - self.last
        self.last = x
        if i == 0:
            return NAN
        p = self.period
        if i < p:
            if d < 0:
                self.loss -= d
            else:
                self.gain += d
            return NAN
        if i == p:
            if d < 0:
                self.loss -= d
            else:
                self.gain += d
            self.gain /= p
            self.loss /= p
        else:
            loss = self.loss * (p - 1)
            gain = self.gain * (p - 1)
            if d < 0:
                loss -= d
            else:
                gain += d
            self.loss = loss / p
            self.gain = gain / p
        gain, loss = self.gain, self.loss
        return 100.0 * (gain / (gain + loss)) if gain + loss != 0.0 else 50.0


def true_range(high: float, low: float, prev_close: float) -> float:
    """recursive._tr for one bar."""
    r = high - low
    a = abs(high - prev_close)
    b = abs(low - prev_close)
    if a > r:
        r = a
    if b > r:
        r = b
    return r


class Atr:
    """recursive.atr_wilder(high, low, close, period)."""

    __slots__ = ("period", "i", "prev_close", "s", "prev")

    def __init__(self, period: int) -> None:
        self.period = period
        self.i = -1
        self.prev_close = NAN
        self.s = 0.0
        self.prev = NAN

    def push(self, high: float, low: float, close: float) -> float:
        self.i = i = self.i + 1
        pc, self.prev_close = self.prev_close, close
        if i == 0:
            return NAN
        p = self.period
        if i <= p:
            self.s += true_range(high, low, pc)
            if i < p:
                return NAN
            self.prev = self.s / p
            return self.prev
        prev = self.prev * (p - 1)
        prev += true_range(high, low, pc)
        self.prev = prev / p
        return self.prev


class Adx:
    """recursive.adx_wilder(high, low, close, period) → (adx, plus_di, minus_di)."""

    __slots__ = ("period", "i", "ph", "pl", "pc", "spdm", "smdm", "str_", "sum_dx", "adx")

    def __init__(self, period: int) -> None:
        self.period = period
        self.i = -1
        self.ph = self.pl = self.pc = NAN
        self.spdm = self.smdm = self.str_ = self.sum_dx = self.adx = 0.0

    def push(self, high: float, low: float, close: float) -> tuple[float, float, float]:
        self.i = i = self.i + 1
        ph, pl, pc = self.ph, self.pl, self.pc
        self.ph, self.pl, self.pc = high, low, close
        if i == 0:
            return NAN, NAN, NAN
        up = high - ph
        down = pl - low
        if down > 0 and up < down:
            pdm, mdm = 0.0, down
        elif up > 0 and up > down:
            pdm, mdm = up, 0.0
        else:
            pdm, mdm = 0.0, 0.0
        tr = true_range(high, low, pc)
        p = self.period
        if i < p:
            self.spdm += pdm
            self.smdm += mdm
            self.str_ += tr
            return NAN, NAN, NAN
        smdm = self.smdm - self.smdm / p
        spdm = self.spdm - self.spdm / p
        self.smdm = smdm = smdm + mdm
        self.spdm = spdm = spdm + pdm
        self.str_ = str_ = self.str_ - (self.str_ / p) + tr
        if str_ == 0.0:
            plus = minus = dx = 0.0
        else:
            plus = 100.0 * (spdm / str_)
            minus = 100.0 * (smdm / str_)
            total = minus + plus
            dx = 100.0 * (abs(minus - plus) / total) if total != 0.0 else 0.0
        first = 2 * p - 1
        if i < first:
            self.sum_dx += dx
            return NAN, NAN, NAN
        if i == first:
            self.sum_dx += dx
            self.adx = self.sum_dx / p
        else:
            self.adx = ((self.adx * (p - 1)) + dx) / p
        return self.adx, plus, minus


class Obv:
    """recursive.obv_kernel(close, volume): starts at the first bar's volume."""

    __slots__ = ("acc", "last", "started")

    def __init__(self) -> None:
        self.acc = self.last = NAN
        self.started = False

    def push(self, close: float, volume: float) -> float:
        last, self.last = self.last, close
        if not self.started:
            self.started = True
            self.acc = volume
        elif close > last:
            self.acc += volume
        elif close < last:
            self.acc -= volume
        return self.acc


class Roc:
    """recursive.roc_kernel(x, period)."""

    __slots__ = ("period", "ring")

    def __init__(self, period: int) -> None:
        self.period = period
        self.ring: deque[float] = deque(maxlen=period + 1)

    def push(self, x: float) -> float:
        ring = self.ring
        ring.append(x)
        if len(ring) <= self.period:
            return NAN
        prev = ring[0]
        return ((x / prev) - 1.0) * 100.0 if prev != 0.0 else 0.0


class Cci:
    """kernels.cci_kernel(tp, period): mean and mean deviation of the window recomputed each bar."""

    __slots__ = ("period", "ring")

    def __init__(self, period: int) -> None:
        self.period = period
        self.ring: deque[float] = deque(maxlen=period)

    def push(self, tp: float) -> float:
        ring = self.ring
        ring.append(tp)
        period = self.period
        if len(ring) < period:
            return NAN
        s = 0.0
        for v in ring:
            s += v
        avg = s / period
        dev = 0.0
        for v in ring:
            dev += abs(v - avg)
        diff = tp - avg
        noise = 16 * 2.220446049250313e-16 * abs(avg)
        return diff / (0.015 * (dev / period)) if abs(diff) > noise and dev / period > noise else 0.0
