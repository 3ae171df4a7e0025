"""Funding of perpetual futures: what a position pays at funding times, by time interval and bar by bar."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from domain.futures.rates import FundingRates
from domain.jit import njit

# At each funding time t a position of signed size q (> 0 long, < 0 short) pays q × mark × rate: with a
# positive rate longs pay shorts. A position pays at t when it is open at that instant: entry < t ≤ exit
# (funding settles before any fill at exactly t, so a position opened at t does not pay and one closed at t
# does). Over bars, that is: funding at t settles at the open of the first bar opening at or after t, before
# that open's fills; the mark is the recorded mark price, else that bar's open.

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


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
