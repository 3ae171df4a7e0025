"""FundingService: collect funding-rate history from an exchange (resumable), import files, report coverage."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from app.clock import Clock
from app.errors import DataError, UserError
from app.market_data.exchange import RejectedRow
from domain.futures import FundingRates
from domain.market.intervals import Interval, intersect, merge, subtract, total

FUNDING_EVERY_MS = 8 * 3_600_000  # Binance's usual interval; only used to estimate how many requests remain


@dataclass(frozen=True, slots=True)
class FundingPage:
    """One answered funding request: events (ascending), rows returned, rows rejected, retries."""

    rates: FundingRates
    returned: int
    rejected_rows: tuple[RejectedRow, ...] = ()
    retries: int = 0
    throttled: int = 0


class FundingSource(Protocol):
    """An exchange's funding history. `funding_limit` is the most events one request returns; a request
    answers the oldest events with start ≤ time < end."""

    funding_limit: int

    async def fetch_funding(self, symbol: str, window: tuple[int, int]) -> FundingPage: ...


FundingSources = Callable[[str], FundingSource]  # exchange name -> source; UserError if it has no funding


class FundingRepository(Protocol):
    """Funding events per (exchange, symbol) and the windows proven complete (collected or imported)."""

    def upsert(self, exchange: str, symbol: str, rates: FundingRates, proven: Interval | None = None) -> int:
        """Insert or replace events and record `proven` as complete, in one transaction. Returns events written."""
        ...

    def read(self, exchange: str, symbol: str, start_ms: int | None = None,
             end_ms: int | None = None) -> FundingRates: ...

    def proven(self, exchange: str, symbol: str) -> list[Interval]: ...


class FundingFiles(Protocol):
    """Reads `time,rate[,mark_price]` files; raises DataError naming the file and line of a bad row."""

    def read(self, path: Path | str) -> FundingRates: ...


@dataclass
class FundingSummary:
    """What one collection did: requests, events stored, span already complete before it started."""

    exchange: str
    symbol: str
    start_ms: int
    end_ms: int
    requests: int = 0
    stored: int = 0
    already_covered_ms: int = 0
    retries: int = 0
    rejected: int = 0


@dataclass(frozen=True, slots=True)
class FundingCoverage:
    """Whether stored funding covers [start, end): `missing` lists the spans nobody has proven."""

    start_ms: int
    end_ms: int
    events: int
    missing: tuple[Interval, ...]

    @property
    def covered(self) -> bool:
        return not self.missing


@dataclass(frozen=True, slots=True)
class FundingImport:
    events: int
    first_ts: int
    last_ts: int


FundingProgress = Callable[[int, int], None]  # (requests done, requests estimated in all)


class FundingService:
    """Funding-rate history use cases. `sources(exchange)` is the exchange's shared (rate-limited) client."""

    def __init__(self, repo: FundingRepository, sources: FundingSources, files: FundingFiles, clock: Clock) -> None:
        self._repo = repo
        self._sources = sources
        self._files = files
        self._clock = clock

    async def collect(self, exchange: str, symbol: str, start_ms: int, end_ms: int,
                      on_progress: FundingProgress | None = None) -> FundingSummary:
        """Fetch the funding events of [start, end) not yet proven, page by page (each page its own transaction),
        so an interrupted collection resumes where it stopped. The end is clamped to now."""
        if start_ms >= end_ms:
            raise UserError("the start of the range must be before its end")
        source = self._sources(exchange)
        end_ms = max(start_ms, min(end_ms, self._clock.now_ms() + 1))
        summary = FundingSummary(exchange, symbol, start_ms, end_ms)
        proven = await asyncio.to_thread(self._repo.proven, exchange, symbol)
        summary.already_covered_ms = total(intersect(proven, [(start_ms, end_ms)]))
        todo = subtract([(start_ms, end_ms)], proven)
        per_request = source.funding_limit * FUNDING_EVERY_MS
        for lo, hi in todo:
            cursor = lo
            while cursor < hi:
                page = await source.fetch_funding(symbol, (cursor, hi))
                done = self._settled(page, cursor, hi, source.funding_limit)
                rates = page.rates.slice_time(cursor, done)
                # a page with rejected rows proves nothing: its holes may be rows we could not read
                await asyncio.to_thread(self._repo.upsert, exchange, symbol, rates,
                                        None if page.rejected_rows else (cursor, done))
                summary.requests += 1
                summary.stored += len(rates)
                summary.retries += page.retries
                summary.rejected += len(page.rejected_rows)
                cursor = done
                if on_progress is not None:
                    left = sum(-(-(b - max(a, cursor)) // per_request) for a, b in todo if b > cursor)
                    on_progress(summary.requests, summary.requests + left)
        return summary

    @staticmethod
    def _settled(page: FundingPage, start: int, end: int, limit: int) -> int:
        """Where the proven part of [start, end) ends: all of it unless the page was full."""
        if page.returned < limit:
            return end
        if len(page.rates) == 0:
            raise DataError("the exchange answered a full page of funding rows none of which could be read")
        return min(end, int(page.rates.ts[-1]) + 1)

    def import_file(self, path: Path | str, exchange: str, symbol: str) -> FundingImport:
        """Read the whole file, then store it in one transaction (a bad row stores nothing). The span proven
        runs from the first event to the last plus the file's shortest spacing (the next event's earliest time)."""
        rates = self._files.read(path)
        if len(rates) == 0:
            raise DataError(f"{path}: no funding rows to import")
        first, last = int(rates.ts[0]), int(rates.ts[-1])
        step = int(min(rates.ts[1:] - rates.ts[:-1])) if len(rates) > 1 else 1
        self._repo.upsert(exchange, symbol, rates, (first, last + step))
        return FundingImport(len(rates), first, last)

    def coverage(self, exchange: str, symbol: str, start_ms: int, end_ms: int) -> FundingCoverage:
        """Whether [start, end) is proven complete, and how many events are stored in it."""
        proven = merge(self._repo.proven(exchange, symbol))
        missing = tuple(subtract([(start_ms, end_ms)], proven))
        events = len(self._repo.read(exchange, symbol, start_ms, end_ms))
        return FundingCoverage(start_ms, end_ms, events, missing)

    def load(self, exchange: str, symbol: str, start_ms: int | None = None,
             end_ms: int | None = None) -> FundingRates:
        return self._repo.read(exchange, symbol, start_ms, end_ms)
