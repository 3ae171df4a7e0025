"""What the window needs from the composition root, read defensively: services appear as they are built."""

from __future__ import annotations

import time
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
                      on_progress: Callable[[CollectProgress], None]) -> None:
        """Collect [start, end) of `key` through the market-data service on the running asyncio loop."""
        service = self.market_data
        if service is None:
            raise UserError("collection is not available in this build")
        clock = time.monotonic()

        def relay(p: Any) -> None:
            on_progress(CollectProgress.of(p, time.monotonic() - clock))

        await service.collect(key.exchange, key.symbol, key.timeframe, start_ms, end_ms, on_progress=relay)


@dataclass(frozen=True, slots=True)
class CollectProgress:
    """What the progress bar shows, whatever shape the service reports progress in."""

    requests: int
    candles: int
    retries: int
    fraction: float
    eta_s: float | None

    @classmethod
    def of(cls, p: Any, elapsed_s: float) -> CollectProgress:
        def num(*names: str) -> float:
            return next((float(getattr(p, n)) for n in names if getattr(p, n, None) is not None), 0.0)

        done, total = num("done_ms", "done", "chunks_done"), num("total_ms", "total", "chunks_total")
        frac = num("fraction") or (done / total if total else 0.0)
        frac = min(max(frac, 0.0), 1.0)
        eta = elapsed_s * (1 - frac) / frac if frac > 0 else None
        return cls(int(num("requests")), int(num("candles", "bars")), int(num("retries")), frac, eta)
