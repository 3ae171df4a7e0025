"""Warm-up history for paper sessions: stored bars, topped up over REST up to the last complete bar."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from app.clock import Clock
from app.live.bars import BarFetch, fetch_bars
from app.live.engine import HistoryLoader
from app.market_data.exchange import GatewayFactory
from app.market_data.ports import CandleRepository
from domain.market import CandleSeries, SeriesKey, Timeframe


def gateway_bar_fetch(gateways: GatewayFactory) -> Callable[[str], BarFetch]:
    """exchange -> (symbol, timeframe, start, end) -> bars, through the shared REST gateways."""

    def for_exchange(exchange: str) -> BarFetch:
        async def fetch(symbol: str, timeframe: Timeframe, start: int, end: int) -> CandleSeries:
            return await fetch_bars(gateways(exchange), symbol, timeframe, start, end)

        return fetch

    return for_exchange


def history_loader(candles: CandleRepository | None, gateways: GatewayFactory, clock: Clock) -> HistoryLoader:
    """The latest `bars` complete bars: read from the store, the missing recent part fetched and stored."""

    async def load(exchange: str, symbol: str, timeframe: Timeframe, bars: int) -> CandleSeries:
        end = timeframe.floor(clock.now_ms())  # the forming bar is not history
        start = end - bars * timeframe.ms
        key = SeriesKey(exchange, symbol, timeframe)
        stored = CandleSeries.empty(timeframe)
        if candles is not None:
            stored = await asyncio.to_thread(candles.read, key, start, end)
        first_missing = int(stored.ts[-1]) + timeframe.ms if len(stored) else start
        if first_missing < end:
            fresh = await fetch_bars(gateways(exchange), symbol, timeframe, first_missing, end)
            if candles is not None and len(fresh):
                await asyncio.to_thread(candles.upsert, key, fresh, (first_missing, end))
            stored = stored.concat(fresh)
        return stored

    return load
