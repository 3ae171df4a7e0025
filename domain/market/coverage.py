"""What the store holds for one series: stored bar runs and ranges known to have no trades."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from domain.market.intervals import Interval, merge, subtract
from domain.market.timeframe import Timeframe


@dataclass(frozen=True, slots=True)
class SeriesKey:
    """Identifies one stored candle series."""

    exchange: str
    symbol: str
    timeframe: Timeframe

    def __str__(self) -> str:
        return f"{self.exchange}:{self.symbol}:{self.timeframe.code}"


@dataclass(frozen=True, slots=True)
class Coverage:
    """`fetched`: windows asked of the exchange (or imported); `stored`: runs of consecutive stored bars.

    Known-empty ranges are fetched windows with no bar in them; holes are gaps between stored bars
    that nobody has fetched yet.
    """

    timeframe: Timeframe
    fetched: list[Interval] = field(default_factory=list)
    stored: list[Interval] = field(default_factory=list)

    @property
    def known_empty(self) -> list[Interval]:
        return subtract(self.fetched, self.stored)

    @property
    def covered(self) -> list[Interval]:
        """Everything that need not be fetched again."""
        return merge([*self.fetched, *self.stored])

    def holes(self) -> list[Interval]:
        """Gaps inside the stored span that were never fetched."""
        if not self.stored:
            return []
        span = [(self.stored[0][0], self.stored[-1][1])]
        return subtract(span, self.covered)


def runs(ts: np.ndarray, step_ms: int) -> list[Interval]:
    """Consecutive-bar runs [first, last + step) of a sorted ts array."""
    if len(ts) == 0:
        return []
    breaks = np.nonzero(np.diff(ts) != step_ms)[0]
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [len(ts) - 1]])
    return [(int(ts[s]), int(ts[e]) + step_ms) for s, e in zip(starts, ends, strict=True)]
