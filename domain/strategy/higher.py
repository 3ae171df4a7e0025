"""Higher-timeframe bars built from base bars on UTC boundaries, and which of them have closed at each base bar.

A higher-timeframe (HTF) bar covers `[origin + b·tf, origin + (b+1)·tf)` and holds the base bars inside it
(open of the first, highest high, lowest low, close of the last, summed volume). At base bar i the HTF bars
that count are those that have closed by i's close, `ts[i] + base`: bucket b qualifies when
`origin + (b+1)·tf ≤ ts[i] + base`. The bar still forming is never used, so an HTF operand at i depends on
base bars ≤ i only. A bucket whose last base bars are missing (a gap) counts as closed once time passes its end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from domain.jit import njit
from domain.market import CandleSeries, Timeframe

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


def ratio(base: Timeframe, higher: Timeframe) -> int:
    """How many base bars make one higher bar (callers check the multiple first)."""
    return higher.ms // base.ms


def resample(series: CandleSeries, higher: Timeframe) -> CandleSeries:
    """The HTF bars of `series` (the last one may still be forming), stamped with their open times."""
    if len(series) == 0:
        return CandleSeries.empty(higher)
    cols = (series.ts, series.open, series.high, series.low, series.close, series.volume)
    # bars in time order fill at most span / tf + 2 buckets: one pass; out of order, count the buckets first
    room = max(int(series.ts[-1] - series.ts[0]) // higher.ms + 2, 1)
    m, ts, out = _resample(*cols, higher.origin_ms, higher.ms, room)
    if m < 0:
        m, ts, out = _resample(*cols, higher.origin_ms, higher.ms, _buckets(series.ts, higher.origin_ms, higher.ms))
    return CandleSeries.from_columns(higher, ts[:m], out[0, :m], out[1, :m], out[2, :m], out[3, :m], out[4, :m])


@dataclass(frozen=True, slots=True, eq=False)
class Steps:
    """Which HTF bar has closed at each base bar, as runs: base bars `[at[k], at[k + 1])` read HTF bar `which[k]`
    (-1: none has closed yet). A step function needs one entry per HTF bar, not one per base bar."""

    at: I64  # run starts, ascending, from 0; one more entry than `which`: the number of base bars
    which: I64

    def per_bar(self) -> I64:
        """The index for every base bar (tests, readers that want it whole)."""
        return np.repeat(self.which, np.diff(self.at))


def closed_index(series: CandleSeries, htf: CandleSeries) -> Steps:
    """For each base bar, the index into `htf` of the last HTF bar closed by that bar's close (-1: none yet)."""
    return _steps(series, htf.timeframe, -1)


def first_with(series: CandleSeries, higher: Timeframe, bars: int) -> int:
    """Index of the first base bar by whose close `bars` + 1 HTF bars have closed (len(series) if none)."""
    steps = _steps(series, higher, bars)
    return int(steps.at[-2]) if len(steps.which) and steps.which[-1] >= bars else len(series)


def _steps(series: CandleSeries, higher: Timeframe, stop_at: int) -> Steps:
    args = (series.ts, series.timeframe.ms, higher.origin_ms, higher.ms, stop_at)
    # bars in time order make at most one run per HTF bar they span, plus the one before the first closes
    room = int(series.ts[-1] - series.ts[0]) // higher.ms + 3 if len(series) else 1
    at, which = _closed_steps(*args, room)
    if len(at) == 0:  # out of time order: a run per bar at most
        at, which = _closed_steps(*args, len(series) + 1)
    return Steps(at, which)


def align(values: F64, index: Steps) -> F64:
    """HTF values placed on base bars through `closed_index` (NaN before the first closed HTF bar)."""
    if len(values) == 0:
        return np.full(int(index.at[-1]), np.nan)
    return _align(np.ascontiguousarray(values, dtype=np.float64), index.at, index.which)


def align_mask(mask: npt.NDArray[np.bool_], index: Steps) -> npt.NDArray[np.bool_]:
    """A condition evaluated on HTF bars placed on base bars through `closed_index` (False before the first)."""
    if len(mask) == 0:  # no HTF bar yet
        return np.zeros(int(index.at[-1]), np.bool_)
    return _align_mask(np.ascontiguousarray(mask, dtype=np.bool_), index.at, index.which)


@njit(cache=True)
def _align_mask(mask: npt.NDArray[np.bool_], at: I64, which: I64) -> npt.NDArray[np.bool_]:
    out = np.empty(at[-1], np.bool_)
    for k in range(len(which)):
        out[at[k]:at[k + 1]] = which[k] >= 0 and mask[which[k]]
    return out


@njit(cache=True)
def _align(values: F64, at: I64, which: I64) -> F64:
    out = np.empty(at[-1])
    for k in range(len(which)):
        out[at[k]:at[k + 1]] = values[which[k]] if which[k] >= 0 else np.nan
    return out


@njit(cache=True)
def _buckets(ts: I64, origin: int, tf: int) -> int:
    """How many buckets the bars fall in, bucket by bucket as `_resample` opens them."""
    m, start = 0, 0
    for i in range(len(ts)):
        if m == 0 or not start <= ts[i] < start + tf:
            m, start = m + 1, (ts[i] - origin) // tf * tf + origin
    return m


@njit(cache=True)
def _resample(ts: I64, o: F64, h: F64, lo: F64, c: F64, v: F64, origin: int, tf: int,
              room: int) -> tuple[int, I64, F64]:
    """One pass over the base bars: each bucket's open time, then rows of first open, highest high, lowest low,
    last close and volume summed in bar order (as the live builder adds), for at most `room` buckets (the count,
    or -1 when they do not fit). A bucket is `[start, start + tf)`."""
    n = len(ts)
    out_ts = np.empty(room, np.int64)
    out = np.empty((5, room))
    j, start = -1, 0
    bo = bh = bl = bc = bv = 0.0
    for i in range(n):
        if j < 0 or not start <= ts[i] < start + tf:  # a new bucket: the only division
            if j >= 0:
                out[0, j], out[1, j], out[2, j], out[3, j], out[4, j] = bo, bh, bl, bc, bv
            if j + 1 >= room:
                return -1, out_ts, out
            j, start = j + 1, (ts[i] - origin) // tf * tf + origin
            out_ts[j] = start
            bo, bh, bl, bc, bv = o[i], h[i], lo[i], c[i], v[i]
        else:
            bh, bl, bc, bv = max(bh, h[i]), min(bl, lo[i]), c[i], bv + v[i]
    if j >= 0:
        out[0, j], out[1, j], out[2, j], out[3, j], out[4, j] = bo, bh, bl, bc, bv
    return j + 1, out_ts, out


@njit(cache=True)
def _closed_steps(ts: I64, base: int, origin: int, tf: int, stop_at: int, room: int) -> tuple[I64, I64]:
    """`Steps` of the closed index in one pass: bar i's own bucket is HTF bar `group`; every earlier one has
    closed, and its own has closed when i's close reaches the bucket's end. With `stop_at` ≥ 0, the runs end at
    the first bar whose index reaches it (which then starts the last run). At most `room` runs (else none)."""
    n = len(ts)
    at = np.empty(room + 1, np.int64)
    which = np.empty(room, np.int64)
    m, group, start = 0, -1, 0
    for i in range(n):
        if group < 0 or not start <= ts[i] < start + tf:
            group, start = group + 1, (ts[i] - origin) // tf * tf + origin
        closed = group - 1 + (ts[i] + base >= start + tf)
        if m == 0 or closed != which[m - 1]:
            if m == room:
                return at[:0], which[:0]
            at[m], which[m] = i, closed
            m += 1
            if 0 <= stop_at <= closed:
                break
    at[m] = n
    return at[:m + 1], which[:m]


@dataclass(slots=True)
class HtfBuilder:
    """Builds HTF bars one base bar at a time; `push` returns the bar that closed (or None)."""

    base: Timeframe
    higher: Timeframe
    bucket: int | None = None
    o: float = 0.0
    h: float = 0.0
    lo: float = 0.0
    c: float = 0.0
    v: float = 0.0

    def push(self, ts: int, o: float, h: float, lo: float, c: float, v: float) -> list[tuple[float, ...]]:
        """Add a base bar; the HTF bars (o, h, l, c, v) that closed by its close, oldest first."""
        out: list[tuple[float, ...]] = []
        b = (ts - self.higher.origin_ms) // self.higher.ms
        if self.bucket is not None and b != self.bucket:  # the previous bucket ended during a gap
            out.append((self.o, self.h, self.lo, self.c, self.v))
            self.bucket = None
        if self.bucket is None:
            self.bucket, self.o, self.h, self.lo, self.c, self.v = b, o, h, lo, c, v
        else:
            self.h, self.lo, self.c, self.v = max(self.h, h), min(self.lo, lo), c, self.v + v
        if ts + self.base.ms >= (b + 1) * self.higher.ms + self.higher.origin_ms:
            out.append((self.o, self.h, self.lo, self.c, self.v))
            self.bucket = None
        return out
