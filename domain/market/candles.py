"""Columnar candle series (numpy arrays) and a single live candle."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from domain.market.timeframe import Timeframe

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
FIELDS = ("open", "high", "low", "close", "volume")


class InvalidCandles(ValueError):
    """A series broke an invariant; `index` is the first offending row (or -1)."""

    def __init__(self, message: str, index: int = -1) -> None:
        super().__init__(message)
        self.index = index


@dataclass(slots=True, frozen=True)
class Candle:
    """One bar, for live paths. `ts` is the bar's open time in ms UTC."""

    ts: int
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True, slots=True, eq=False)
class CandleSeries:
    """Bars as columns: `ts` int64 ms UTC (open time), OHLCV float64; all the same length."""

    timeframe: Timeframe
    ts: I64
    open: F64
    high: F64
    low: F64
    close: F64
    volume: F64

    @classmethod
    def from_columns(
        cls,
        timeframe: Timeframe,
        ts: npt.ArrayLike,
        open: npt.ArrayLike,
        high: npt.ArrayLike,
        low: npt.ArrayLike,
        close: npt.ArrayLike,
        volume: npt.ArrayLike,
    ) -> CandleSeries:
        cols = [np.ascontiguousarray(c, dtype=np.float64) for c in (open, high, low, close, volume)]
        t = np.ascontiguousarray(ts, dtype=np.int64)
        n = len(t)
        if any(len(c) != n for c in cols):
            raise InvalidCandles("columns differ in length")
        return cls(timeframe, t, *cols)

    @classmethod
    def empty(cls, timeframe: Timeframe) -> CandleSeries:
        z = np.empty(0, dtype=np.float64)
        return cls(timeframe, np.empty(0, dtype=np.int64), z, z.copy(), z.copy(), z.copy(), z.copy())

    @classmethod
    def from_candles(cls, timeframe: Timeframe, candles: list[Candle]) -> CandleSeries:
        if not candles:
            return cls.empty(timeframe)
        arr = np.array([(c.ts, c.open, c.high, c.low, c.close, c.volume) for c in candles], dtype=np.float64)
        ts = np.array([c.ts for c in candles], dtype=np.int64)
        return cls.from_columns(timeframe, ts, *arr[:, 1:].T)

    def __len__(self) -> int:
        return len(self.ts)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CandleSeries):
            return NotImplemented
        return self.timeframe is other.timeframe and all(
            np.array_equal(getattr(self, f), getattr(other, f)) for f in ("ts", *FIELDS)
        )

    def column(self, name: str) -> F64:
        if name not in FIELDS:
            raise KeyError(f"unknown candle field {name!r}; fields: {', '.join(FIELDS)}")
        arr: F64 = getattr(self, name)
        return arr

    def candle(self, i: int) -> Candle:
        return Candle(int(self.ts[i]), float(self.open[i]), float(self.high[i]), float(self.low[i]),
                      float(self.close[i]), float(self.volume[i]))

    def take(self, index: npt.ArrayLike | slice) -> CandleSeries:
        """Rows selected by an index array, slice or boolean mask."""
        idx = index if isinstance(index, slice) else np.asarray(index)
        return CandleSeries(self.timeframe, self.ts[idx], self.open[idx], self.high[idx], self.low[idx],
                            self.close[idx], self.volume[idx])

    def slice_time(self, start_ms: int | None = None, end_ms: int | None = None) -> CandleSeries:
        """Bars with start ≤ ts < end (either bound may be None)."""
        lo = 0 if start_ms is None else int(np.searchsorted(self.ts, start_ms, side="left"))
        hi = len(self) if end_ms is None else int(np.searchsorted(self.ts, end_ms, side="left"))
        return self.take(slice(lo, max(lo, hi)))

    def concat(self, other: CandleSeries) -> CandleSeries:
        """Both series merged by time; where both have a bar, `other`'s wins."""
        if other.timeframe is not self.timeframe:
            raise InvalidCandles("cannot merge series of different timeframes")
        ts = np.concatenate([other.ts, self.ts])
        _, first = np.unique(ts, return_index=True)  # unique keeps the first = other's bar
        cols = [np.concatenate([getattr(other, f), getattr(self, f)])[first] for f in FIELDS]
        return CandleSeries(self.timeframe, ts[first], *cols)

    def validate(self) -> None:
        """Raise InvalidCandles naming the first bad row; silent if the series is sound."""
        tf = self.timeframe
        n = len(self)
        for name in FIELDS:
            bad = ~np.isfinite(getattr(self, name))
            if bad.any():
                i = int(np.argmax(bad))
                raise InvalidCandles(f"row {i}: {name} is not a finite number", i)
        if n > 1:
            d = np.diff(self.ts)
            if (d <= 0).any():
                i = int(np.argmax(d <= 0)) + 1
                raise InvalidCandles(f"row {i}: time is not after the previous row's", i)
        misaligned = (self.ts - tf.origin_ms) % tf.ms != 0
        if misaligned.any():
            i = int(np.argmax(misaligned))
            raise InvalidCandles(f"row {i}: time {int(self.ts[i])} is not aligned to {tf.code} bars", i)
        checks = (
            (self.high < np.maximum(self.open, self.close), "high is below open or close"),
            (self.low > np.minimum(self.open, self.close), "low is above open or close"),
            (self.low <= 0, "a price is zero or negative"),
            (self.volume < 0, "volume is negative"),
        )
        for mask, what in checks:
            if mask.any():
                i = int(np.argmax(mask))
                raise InvalidCandles(f"row {i}: {what}", i)

    def gaps(self) -> list[tuple[int, int]]:
        """Missing bar ranges [start, end) between the first and last bar."""
        if len(self) < 2:
            return []
        d = np.diff(self.ts)
        where = np.nonzero(d > self.timeframe.ms)[0]
        return [(int(self.ts[i]) + self.timeframe.ms, int(self.ts[i + 1])) for i in where]

    def resample(self, target: Timeframe) -> CandleSeries:
        """Aggregate to a higher timeframe: first open, max high, min low, last close, summed volume."""
        if target.ms < self.timeframe.ms or target.ms % self.timeframe.ms != 0 and target is not Timeframe.W1:
            raise InvalidCandles(f"cannot resample {self.timeframe.code} to {target.code}")
        if len(self) == 0:
            return CandleSeries.empty(target)
        bucket = self.ts - (self.ts - target.origin_ms) % target.ms
        starts = np.concatenate([[0], np.nonzero(np.diff(bucket))[0] + 1])
        ends = np.concatenate([starts[1:], [len(self)]])
        return CandleSeries(
            target,
            bucket[starts],
            self.open[starts],
            np.maximum.reduceat(self.high, starts),
            np.minimum.reduceat(self.low, starts),
            self.close[ends - 1],
            np.add.reduceat(self.volume, starts),
        )
