"""What the window needs from the composition root, read defensively: services appear as they are built."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.errors import UserError
from app.ports import CandleRepository, StoredSeries
from domain.market import CandleSeries, Coverage, SeriesKey

EXCHANGES = ("demo", "upbit", "binance")
EXCHANGE_LABELS = {"demo": "Demo", "upbit": "Upbit", "binance": "Binance", "csv": "CSV"}


class Services:
    """A thin view of the container (duck-typed): db path, candle store, data and collection services."""

    def __init__(self, container: Any) -> None:
        self.container = container
        self._symbols: dict[str, asyncio.Future[list[str]]] = {}  # each exchange's market list, asked for once

    def _get(self, name: str) -> Any:
        try:
            return getattr(self.container, name, None)
        except ImportError:  # a service whose module has not landed in this build
            return None

    @property
    def db_path(self) -> Path | str:
        return self._get("db_path") or "(in memory)"

    @property
    def candles(self) -> CandleRepository | None:
        return self._get("candles")

    @property
    def data(self) -> Any:
        """app.data.DataService: CSV import/export, info, delete range."""
        return self._get("data")

    @property
    def market_data(self) -> Any:
        """app.market_data.MarketDataService: collection with progress and cancellation."""
        return self._get("market_data")

    @property
    def strategies(self) -> Any:
        """app.strategies.StrategyService, once the strategy store is in this build."""
        return self._get("strategies")

    @property
    def backtests(self) -> Any:
        """app.backtests.BacktestService, once backtests are in this build."""
        return self._get("backtests")

    def stored(self) -> list[StoredSeries]:
        repo = self.candles
        return list(repo.series()) if repo is not None else []

    def load(self, key: SeriesKey) -> CandleSeries:
        repo = self.candles
        if repo is None:
            return CandleSeries.empty(key.timeframe)
        return repo.read(key)

    def coverage(self, key: SeriesKey) -> Coverage:
        repo = self.candles
        if repo is None:
            return Coverage(key.timeframe)
        return repo.coverage(key)

    def delete(self, key: SeriesKey, start_ms: int | None, end_ms: int | None) -> int:
        data = self.data
        if data is not None:
            return int(data.delete_range(key, start_ms, end_ms))
        repo = self.candles
        return repo.delete(key, start_ms, end_ms) if repo is not None else 0

    async def collect(self, key: SeriesKey, start_ms: int, end_ms: int,
                      on_progress: Callable[[CollectProgress], None]) -> Any:
        """Collect [start, end) of `key` on the running asyncio loop; returns the service's summary."""
        service = self.market_data
        if service is None:
            raise UserError("collection is not available in this build")
        if key.exchange == "demo":
            await self.start_demo()

        def relay(p: Any) -> None:
            on_progress(CollectProgress.of(p))

        return await service.collect(key.exchange, key.symbol, key.timeframe, start_ms, end_ms, on_progress=relay)

    async def market_symbols(self, exchange: str, timeout_s: float) -> list[str] | None:
        """The exchange's market symbols, sorted. One ask per exchange, shared by every market picker (the Data
        and Live tabs), even while it runs; a failed ask is made again next time. None if this build cannot
        list markets."""
        if self.market_data is None:
            return None
        task = self._symbols.get(exchange)
        if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
            task = self._symbols[exchange] = asyncio.ensure_future(self._ask_symbols(exchange, timeout_s))
        return await asyncio.shield(task)  # a picker that stops waiting does not cancel the others' answer

    async def _ask_symbols(self, exchange: str, timeout_s: float) -> list[str]:
        if exchange == "demo":
            await self.start_demo()
        markets = await asyncio.wait_for(self.market_data.list_markets(exchange), timeout_s)
        return sorted(m.symbol for m in markets)

    def preload(self) -> None:
        """Import what the exchanges and the Demo simulator need (any thread; nothing is built)."""
        preload = getattr(self.container, "preload", None)
        if preload is not None:
            preload()

    async def start_demo(self) -> str | None:
        """Make sure the Demo exchange (in-process simulator) runs; its URL, or None if this build lacks it."""
        start = getattr(self.container, "start_demo", None)
        return str(await start()) if start is not None else None

    async def seed_demo(self, on_progress: Callable[[CollectProgress], None]) -> bool:
        """Fill an empty store from the Demo exchange; False if this build cannot."""
        seed = getattr(self.container, "seed_demo", None)
        if seed is None:
            return False
        await seed(on_progress=lambda p: on_progress(CollectProgress.of(p)))
        return True

    async def aclose(self) -> None:
        close = getattr(self.container, "aclose", None)
        if close is not None:
            await close()


@dataclass(frozen=True, slots=True)
class CollectProgress:
    """What the progress bar shows (from app.market_data.CollectProgress)."""

    requests: int
    requests_total: int
    candles: int
    retries: int
    eta_s: float | None

    @property
    def fraction(self) -> float:
        return min(1.0, self.requests / self.requests_total) if self.requests_total else 0.0

    @classmethod
    def of(cls, p: Any) -> CollectProgress:
        return cls(int(p.requests_done), int(p.requests_total), int(p.candles_stored), int(p.retries), p.eta_s)
