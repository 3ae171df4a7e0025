"""What a futures paper session reads from a Binance stream: prices along each kline's path and funding settlements."""

from __future__ import annotations

import math
from dataclasses import dataclass

from domain.market import Candle


@dataclass
class KlinePath:
    """The prices a kline snapshot adds for a futures session: the bar's open once (pending orders fill at it,
    the backtest's next open), each new low and high (liquidations and stops see the bar's extremes, adverse
    first as in the backtest's bar path rule), then the close."""

    ts: int = -1
    low: float = math.inf
    high: float = -math.inf

    def step(self, bar: Candle) -> tuple[float | None, float | None, float | None]:
        """(open if the bar is new, low if it extended, high if it extended); nothing for an older bar."""
        if bar.ts < self.ts:
            return None, None, None
        opened = None
        if bar.ts != self.ts:
            self.ts, self.low, self.high, opened = bar.ts, math.inf, -math.inf, bar.open
        low = bar.low if bar.low < self.low else None
        high = bar.high if bar.high > self.high else None
        self.low, self.high = min(self.low, bar.low), max(self.high, bar.high)
        return opened, low, high


def path_prices(side: int, low: float | None, high: float | None) -> list[float]:
    """The extremes in the order the bar path rule takes them for a position on `side` (flat: as a long)."""
    order = (low, high) if side >= 0 else (high, low)
    return [p for p in order if p is not None]
