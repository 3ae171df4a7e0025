"""The Demo exchange's candles: collected on the first run, topped up to now on every later start."""

from __future__ import annotations

from collections.abc import Sequence

from app.clock import Clock
from app.market_data.collect import CollectSummary, MarketDataService, ProgressCallback
from app.market_data.ports import StoredSeries
from domain.market import DAY_MS, Timeframe

DEMO_MARKETS = ("KRW-BTC", "KRW-ETH")


class DemoSeed:
    """Collects the last `days` whole days (and today so far) of Demo 1m candles for each market."""

    def __init__(self, market_data: MarketDataService, clock: Clock, days: int = 3,
                 markets: tuple[str, ...] = DEMO_MARKETS) -> None:
        self.market_data = market_data
        self.clock = clock
        self.days = days
        self.markets = markets

    def window_start(self, now: int) -> int:
        """Where the seeded history begins: `days` whole days before today."""
        return now - now % DAY_MS - self.days * DAY_MS

    async def run(self, on_progress: ProgressCallback | None = None) -> None:
        now = self.clock.now_ms()
        for market in self.markets:
            await self.market_data.collect("demo", market, Timeframe.M1, self.window_start(now), now, on_progress)

    async def top_up(self, stored: Sequence[StoredSeries],
                     on_progress: ProgressCallback | None = None) -> list[CollectSummary]:
        """Collect what the stored Demo series lack from their last bar to now (at most the seed's window), so a
        chart opened after a restart is current; the other exchanges' series are left alone."""
        now = self.clock.now_ms()
        out = []
        for s in stored:
            if s.key.exchange != "demo":
                continue
            start = max(self.window_start(now), s.last_ts + s.key.timeframe.ms)
            if start < s.key.timeframe.floor(now):
                out.append(await self.market_data.collect("demo", s.key.symbol, s.key.timeframe, start, now,
                                                          on_progress))
        return out
