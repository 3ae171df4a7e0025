"""Funding of perpetual futures: the rate history as columns, and what a position pays at funding times.

At each funding time t a position of signed size q (> 0 long, < 0 short) pays q × mark × rate: with a
positive rate longs pay shorts. A position pays at t when it is open at that instant: entry < t ≤ exit
(funding settles before any fill at exactly t, so a position opened at t does not pay and one closed at t
does). Over bars, that is: funding at t settles at the open of the first bar opening at or after t, before
that open's fills; the mark is the recorded mark price, else that bar's open.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numba import njit

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


def funding_payment(qty: float, mark: float, rate: float) -> float:
    """What a position of signed size `qty` pays at one funding time (negative = it receives)."""
    return qty * mark * rate


@njit(cache=True)
def funding_paid_nb(f_ts: np.ndarray, f_rate: np.ndarray, f_mark: np.ndarray, entry_ts: int, exit_ts: int,
                    qty: float) -> float:
    """Σ qty × mark × rate over funding times with entry < t ≤ exit; events without a mark (NaN) are skipped,
    so fill marks first (see funding_per_bar_nb for the bar-open fallback)."""
    lo = np.searchsorted(f_ts, entry_ts, side="right")
    hi = np.searchsorted(f_ts, exit_ts, side="right")
    total = 0.0
    for k in range(lo, hi):
        if f_mark[k] == f_mark[k]:
            total += qty * f_mark[k] * f_rate[k]
    return total


@njit(cache=True)
def funding_per_bar_nb(bar_ts: np.ndarray, bar_open: np.ndarray, f_ts: np.ndarray, f_rate: np.ndarray,
                       f_mark: np.ndarray) -> np.ndarray:
    """Per bar, Σ mark × rate of the funding events settling at its open (times in (previous open, open]);
    a missing mark is the bar's open. A kernel charges position size × this at the open, before fills.
    Events after the last bar's open are left out (the data ends before they settle)."""
    out = np.zeros(len(bar_ts))
    for k in range(len(f_ts)):
        j = np.searchsorted(bar_ts, f_ts[k], side="left")
        if j >= len(bar_ts):
            break
        mark = f_mark[k] if f_mark[k] == f_mark[k] else bar_open[j]
        out[j] += mark * f_rate[k]
    return out


def funding_per_bar(bar_ts: I64, bar_open: F64, rates: FundingRates) -> F64:
    """funding_per_bar_nb over a FundingRates (the vectorised phase before the simulation loop)."""
    return funding_per_bar_nb(bar_ts, bar_open, rates.ts, rates.rate, rates.mark)
