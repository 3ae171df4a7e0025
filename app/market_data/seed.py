"""First run on the Demo exchange: collect its recent 1m candles so the charts show data at once."""

from __future__ import annotations

from app.clock import Clock
from app.market_data.collect import MarketDataService, ProgressCallback
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

    async def run(self, on_progress: ProgressCallback | None = None) -> None:
        now = self.clock.now_ms()
        start = now - now % DAY_MS - self.days * DAY_MS
        for market in self.markets:
            await self.market_data.collect("demo", market, Timeframe.M1, start, now, on_progress)
