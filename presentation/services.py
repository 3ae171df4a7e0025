"""What the window needs from the composition root, typed, and the views of it that several widgets share."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from app.market_data.collect import CollectProgress as AppCollectProgress
from app.market_data.collect import CollectSummary
from app.market_data.ports import CandleRepository, StoredSeries
from domain.futures import BracketTable, FundingRates
from domain.market import CandleSeries, Coverage, SeriesKey

if TYPE_CHECKING:
    from app.backtests.service import BacktestService
    from app.live.stack import LiveStack
    from app.live.trading.desk import LiveDesk
    from app.live.trading.ports import ApiKeyStore
    from app.market_data.collect import MarketDataService
    from app.market_data.files import DataService
    from app.market_data.funding import FundingCoverage, FundingService
    from app.strategies.service import StrategyService
    from app.sweeps.service import SweepService

EXCHANGES = ("demo", "upbit", "binance")
EXCHANGE_LABELS = {"demo": "Demo", "upbit": "Upbit", "binance": "Binance", "csv": "CSV"}


class AppServices(Protocol):
    """What the window needs from the composition root (app.bootstrap's Container provides it, building each
    service on first use so that start-up pays only for what the first paint needs)."""

    @property
    def db_path(self) -> Path: ...

    @property
    def candles(self) -> CandleRepository: ...

    @property
    def data(self) -> DataService: ...

    @property
    def market_data(self) -> MarketDataService: ...

    @property
    def strategies(self) -> StrategyService: ...

    @property
    def backtests(self) -> BacktestService: ...

    @property
    def sweeps(self) -> SweepService: ...

    @property
    def live(self) -> LiveStack: ...

    @property
    def keys(self) -> ApiKeyStore: ...

    @property
    def funding(self) -> FundingService: ...

    @property
    def bracket_tables(self) -> dict[str, BracketTable]: ...

    @property
    def trading(self) -> LiveDesk: ...

    def preload(self) -> None: ...

    async def start_demo(self) -> str: ...

    async def seed_demo(self, on_progress: Callable[[AppCollectProgress], None] | None = None) -> None: ...

    async def top_up_demo(self, on_progress: Callable[[AppCollectProgress], None] | None = None) -> int: ...

    async def aclose(self) -> None: ...


class Services:
    """The composition root's services plus what several widgets share: the candle store's views and one
    market-list ask per exchange."""

    def __init__(self, app: AppServices) -> None:
        self.app = app
        self._symbols: dict[str, asyncio.Future[list[str]]] = {}  # each exchange's market list, asked for once
        self.current_strategy_id: int | None = None  # the strategy being worked on (opened or saved in the Builder)

    @property
    def db_path(self) -> Path:
        return self.app.db_path

    @property
    def candles(self) -> CandleRepository:
        return self.app.candles

    @property
    def data(self) -> DataService:
        """CSV import/export, info, delete range."""
        return self.app.data

    @property
    def market_data(self) -> MarketDataService:
        """Collection with progress and cancellation."""
        return self.app.market_data

    @property
    def strategies(self) -> StrategyService:
        return self.app.strategies

    @property
    def backtests(self) -> BacktestService:
        return self.app.backtests

    @property
    def sweeps(self) -> SweepService:
        return self.app.sweeps

    @property
    def live(self) -> LiveStack:
        """The live engine stack, built on first use."""
        return self.app.live

    @property
    def keys(self) -> ApiKeyStore:
        """Exchange API keys in the OS keyring."""
        return self.app.keys

    def brackets(self, symbol: str) -> BracketTable | None:
        """A futures symbol's maintenance-margin brackets (None: not a known futures symbol)."""
        return self.app.bracket_tables.get(symbol)

    def funding_coverage(self, exchange: str, symbol: str, start_ms: int, end_ms: int) -> FundingCoverage:
        return self.app.funding.coverage(exchange, symbol, start_ms, end_ms)

    def funding_rates(self, exchange: str, symbol: str, start_ms: int, end_ms: int) -> FundingRates:
        return self.app.funding.load(exchange, symbol, start_ms, end_ms)

    async def collect_funding(self, exchange: str, symbol: str, start_ms: int, end_ms: int) -> int:
        """Collect [start, end) of a market's funding history on the running loop; the events stored."""
        return (await self.app.funding.collect(exchange, symbol, start_ms, end_ms)).stored

    @property
    def trading(self) -> LiveDesk:
        """Live (real-order) sessions, built on first use."""
        return self.app.trading

    def stored(self) -> list[StoredSeries]:
        return list(self.candles.series())

    def load(self, key: SeriesKey) -> CandleSeries:
        return self.candles.read(key)

    def coverage(self, key: SeriesKey) -> Coverage:
        return self.candles.coverage(key)

    def delete(self, key: SeriesKey, start_ms: int | None, end_ms: int | None) -> int:
        return int(self.data.delete_range(key, start_ms, end_ms))

    async def forget_known_empty(self, key: SeriesKey) -> int:
        """Forget every range of `key` recorded as having no trades (stored candles stay), so the next collect
        asks the exchange for them again; the bars forgotten."""
        cov = await asyncio.to_thread(self.coverage, key)
        if not cov.known_empty:
            return 0
        return await self.market_data.forget_known_empty(key, cov.known_empty[0][0], cov.known_empty[-1][1])

    async def collect(self, key: SeriesKey, start_ms: int, end_ms: int,
                      on_progress: Callable[[CollectProgress], None]) -> CollectSummary:
        """Collect [start, end) of `key` on the running asyncio loop; returns the service's summary."""
        if key.exchange == "demo":
            await self.start_demo()

        def relay(p: AppCollectProgress) -> None:
            on_progress(CollectProgress.of(p))

        return await self.market_data.collect(key.exchange, key.symbol, key.timeframe, start_ms, end_ms,
                                              on_progress=relay)

    async def market_symbols(self, exchange: str, timeout_s: float) -> list[str]:
        """The exchange's market symbols, sorted. One ask per exchange, shared by every market picker (the Data
        and Live tabs), even while it runs; a failed ask is made again next time."""
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
        self.app.preload()

    async def start_demo(self) -> str:
        """Make sure the Demo exchange (in-process simulator) runs; its URL."""
        return await self.app.start_demo()

    async def seed_demo(self, on_progress: Callable[[CollectProgress], None]) -> None:
        """Fill an empty store from the Demo exchange."""
        await self.app.seed_demo(on_progress=lambda p: on_progress(CollectProgress.of(p)))

    async def top_up_demo(self, on_progress: Callable[[CollectProgress], None]) -> int:
        """Collect the stored Demo series up to now (a later start); how many series were topped up."""
        return await self.app.top_up_demo(on_progress=lambda p: on_progress(CollectProgress.of(p)))

    async def aclose(self) -> None:
        await self.app.aclose()


@dataclass(frozen=True, slots=True)
class CollectProgress:
    """What the progress bar shows (from app.market_data.collect.CollectProgress)."""

    requests: int
    requests_total: int
    candles: int
    retries: int
    eta_s: float | None

    @property
    def fraction(self) -> float:
        return min(1.0, self.requests / self.requests_total) if self.requests_total else 0.0

    @classmethod
    def of(cls, p: AppCollectProgress) -> CollectProgress:
        return cls(int(p.requests_done), int(p.requests_total), int(p.candles_stored), int(p.retries), p.eta_s)
