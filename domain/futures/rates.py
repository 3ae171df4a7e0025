"""Funding-rate history as columns: time (int64 ms UTC), rate (fraction) and mark price (NaN when unknown)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


class InvalidFunding(ValueError):
    """Funding rows that cannot be used; the message names the first bad one."""


@dataclass(frozen=True, slots=True, eq=False)
class FundingRates:
    """Funding events, oldest first: time (int64 ms UTC), rate (fraction) and mark price (NaN when unknown)."""

    ts: I64
    rate: F64
    mark: F64

    @classmethod
    def empty(cls) -> FundingRates:
        return cls(np.empty(0, np.int64), np.empty(0, np.float64), np.empty(0, np.float64))

    @classmethod
    def from_columns(cls, ts: object, rate: object, mark: object | None = None) -> FundingRates:
        t = np.ascontiguousarray(ts, dtype=np.int64)
        r = np.ascontiguousarray(rate, dtype=np.float64)
        m = np.full(len(t), np.nan) if mark is None else np.ascontiguousarray(mark, dtype=np.float64)
        out = cls(t, r, m)
        out.validate()
        return out

    def __len__(self) -> int:
        return len(self.ts)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FundingRates):
            return NotImplemented
        return (np.array_equal(self.ts, other.ts) and np.array_equal(self.rate, other.rate)
                and np.array_equal(self.mark, other.mark, equal_nan=True))

    def validate(self) -> None:
        """Equal lengths, strictly ascending times, finite rates, marks > 0 or NaN."""
        if not len(self.ts) == len(self.rate) == len(self.mark):
            raise InvalidFunding("time, rate and mark columns differ in length")
        bad = np.nonzero(np.diff(self.ts) <= 0)[0]
        if len(bad):
            raise InvalidFunding(f"row {bad[0] + 1}: time {self.ts[bad[0] + 1]} is not after {self.ts[bad[0]]}")
        bad = np.nonzero(~np.isfinite(self.rate))[0]
        if len(bad):
            raise InvalidFunding(f"row {bad[0]}: rate is not finite")
        bad = np.nonzero(~(np.isnan(self.mark) | (self.mark > 0) & np.isfinite(self.mark)))[0]
        if len(bad):
            raise InvalidFunding(f"row {bad[0]}: mark price must be > 0, got {self.mark[bad[0]]}")

    def slice_time(self, start_ms: int | None = None, end_ms: int | None = None) -> FundingRates:
        """Events with start ≤ ts < end."""
        lo = 0 if start_ms is None else int(np.searchsorted(self.ts, start_ms, side="left"))
        hi = len(self.ts) if end_ms is None else int(np.searchsorted(self.ts, end_ms, side="left"))
        hi = max(lo, hi)
        return FundingRates(self.ts[lo:hi], self.rate[lo:hi], self.mark[lo:hi])

    def merge(self, newer: FundingRates) -> FundingRates:
        """Union by time; where both have an event, `newer` wins."""
        ts = np.concatenate([self.ts, newer.ts])
        order = np.argsort(ts, kind="stable")[::-1]  # newest source first among equal times
        ts_sorted = ts[order]
        _, first = np.unique(ts_sorted, return_index=True)
        pick = order[first]
        return FundingRates(ts[pick], np.concatenate([self.rate, newer.rate])[pick],
                            np.concatenate([self.mark, newer.mark])[pick])
