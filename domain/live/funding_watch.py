"""Funding events from a stream of mark price updates (each carries the coming rate and funding time)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FundingEvent:
    """One settled funding: its time, rate (> 0: longs pay shorts) and the mark price it settled at."""

    ts: int
    rate: float
    mark: float


class FundingWatch:
    """Turns mark updates into settled funding events.

    An update announces the rate of the next funding time T. When an update announces a later time, T has
    passed: the event settles at the last announced rate and at the mark of the newest update not after T
    (the update at T itself when the stream sends one). Events missed wholly (a disconnect spanning more than
    one funding time) are not made up.
    """

    def __init__(self) -> None:
        self.next_ts = -1
        self.rate = 0.0
        self._mark = math.nan  # newest mark with time <= next_ts

    def on_mark(self, ts: int, mark: float, rate: float, next_ts: int) -> FundingEvent | None:
        """Feed one update; the funding event it reveals as settled, if any."""
        event = None
        if next_ts < self.next_ts:
            return None  # out of order
        if 0 <= self.next_ts < next_ts and ts >= self.next_ts:
            at = mark if ts == self.next_ts or math.isnan(self._mark) else self._mark
            event = FundingEvent(self.next_ts, self.rate, at)
            self._mark = math.nan
        if ts <= next_ts:
            self._mark = mark
        self.next_ts, self.rate = next_ts, rate
        return event
