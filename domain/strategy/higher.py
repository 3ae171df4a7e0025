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
    bucket = (series.ts - higher.origin_ms) // higher.ms
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    ends = np.r_[starts[1:], len(series)] - 1
    ts = bucket[starts] * higher.ms + higher.origin_ms
    group = np.cumsum(np.r_[True, bucket[1:] != bucket[:-1]]) - 1
    volume = np.bincount(group, weights=series.volume)  # summed in bar order, as the live builder adds
    return CandleSeries.from_columns(
        higher, ts, series.open[starts], np.maximum.reduceat(series.high, starts),
        np.minimum.reduceat(series.low, starts), series.close[ends], volume)


def closed_index(series: CandleSeries, htf: CandleSeries) -> I64:
    """For each base bar, the index into `htf` of the last HTF bar closed by that bar's close (-1: none yet)."""
    higher = htf.timeframe
    if len(series) == 0:
        return np.empty(0, dtype=np.int64)
    # `htf` holds one bar per bucket that has base bars, in order: bar i's own bucket is HTF bar group[i]; every
    # earlier one has closed, and its own has closed when i's close reaches the bucket's end.
    bucket = (series.ts - higher.origin_ms) // higher.ms
    group = np.cumsum(np.r_[True, bucket[1:] != bucket[:-1]]) - 1
    closes_own = series.ts + series.timeframe.ms >= (bucket + 1) * higher.ms + higher.origin_ms
    return (group - 1 + closes_own).astype(np.int64)


def align(values: F64, index: I64) -> F64:
    """HTF values placed on base bars through `closed_index` (NaN before the first closed HTF bar)."""
    if len(values) == 0:
        return np.full(len(index), np.nan)
    out = values[np.maximum(index, 0)]
    out[index < 0] = np.nan
    return out


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
