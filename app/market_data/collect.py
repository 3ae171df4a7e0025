"""MarketDataService: collect candles from an exchange into the store, fetching only what is missing."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from app.clock import Clock
from app.errors import ExchangeError, UserError
from app.market_data.exchange import ExchangeGateway, FetchResult, GatewayFactory
from app.market_data.ports import CandleRepository
from domain.market import Market, SeriesKey, Timeframe
from domain.market.intervals import Interval, intersect, subtract, total
from domain.market.planning import (
    FetchRequest,
    empty_page_proven,
    first_bar_shown,
    missing,
    next_request,
    proven,
    request_estimate,
    split_lanes,
    wanted,
)

LANES = 3  # requests in flight at once: the missing ranges are split into this many contiguous lanes


@dataclass(frozen=True, slots=True)
class CollectProgress:
    """Where a collection stands; `requests_total` shrinks when answers prove more than was asked."""

    key: SeriesKey
    requests_done: int
    requests_total: int
    candles_stored: int
    retries: int
    eta_s: float | None
    finished: bool = False


@dataclass
class CollectSummary:
    """What a collection did, in bars: written now, already stored before, known to have no trades."""

    key: SeriesKey
    start_ms: int
    end_ms: int
    requests: int = 0
    written: int = 0  # bars written, counting rewrites and neighbours outside the range
    stored: int = 0
    already_stored: int = 0
    known_empty: int = 0
    unproven: int = 0  # bars asked whose empty answers proved nothing: not recorded, asked again next run
    retries: int = 0
    throttled: int = 0
    rejected: Counter[str] = field(default_factory=Counter)

    @property
    def rejected_rows(self) -> int:
        return sum(self.rejected.values())


@dataclass(frozen=True, slots=True)
class CollectJob:
    exchange: str
    market: str
    timeframe: Timeframe
    start_ms: int
    end_ms: int


ProgressCallback = Callable[[CollectProgress], None]


class _Run:
    """Counters of one collection, shared by its lanes."""

    def __init__(self, summary: CollectSummary, lanes: list[list[Interval]], gw: ExchangeGateway,
                 on_progress: ProgressCallback | None) -> None:
        self.summary = summary
        self.remaining = lanes
        self.gw = gw
        self.on_progress = on_progress
        self.t0 = time.monotonic()
        self.first_bar: int | None = None  # the market's first bar, once a page with data showed it
        self.probed_to = 0  # newer pages asked on behalf of empty answers answered empty up to here
        self._listing_asked = asyncio.Lock()  # a forward exchange is asked for the market's first bar once a run
        self._listing_known = False

    async def fetch(self, req: FetchRequest) -> FetchResult:
        """One exchange call, counted; a backward page that shows the market's first bar records it."""
        key, geometry = self.summary.key, self.gw.geometry
        result = await self.gw.fetch_candles(key.symbol, key.timeframe, (req.start, req.end))
        self._count(result)
        shown = first_bar_shown(req, result.series.ts, result.returned, geometry)
        if shown is not None and not result.rejected_rows:
            self.first_bar = shown if self.first_bar is None else min(self.first_bar, shown)
        return result

    async def first_bar_listed(self) -> int | None:
        """The market's first bar as a forward exchange answers it (one probe a run: Binance's oldest kline from
        startTime 0); None when the answer shows no bar (an empty or spoiled answer proves nothing)."""
        async with self._listing_asked:
            if not self._listing_known:
                self._listing_known = True
                key = self.summary.key
                result = await self.gw.first_candle(key.symbol, key.timeframe)
                if result is not None:
                    self._count(result)
                    if result.returned and not result.rejected_rows and len(result.series.ts):
                        self.first_bar = int(result.series.ts[0])
        return self.first_bar

    async def first_bar_after(self, end_ms: int) -> int | None:
        """The market's first bar if it opens at or after `end_ms`, found by asking the newer pages (Upbit-style
        exchanges) up to one page past the collection, or asking a forward exchange for it; None where no
        answer with data shows it."""
        geometry, tf = self.gw.geometry, self.summary.key.timeframe
        if geometry.direction != "backward":
            return await self.first_bar_listed()
        step = geometry.max_candles * tf.ms
        limit = self.summary.end_ms + step
        probe = max(end_ms, self.probed_to)
        while self.first_bar is None and probe < limit:
            result = await self.fetch(FetchRequest(probe, probe + step, geometry.max_candles))
            if result.returned:
                break  # data: `fetch` recorded the first bar if this page showed it, else nothing is proven
            probe += step
            self.probed_to = max(self.probed_to, probe)  # empty up to here: never asked twice in one run
        return self.first_bar

    def _count(self, result: FetchResult) -> None:
        s = self.summary
        s.requests += 1
        s.retries += result.retries
        s.throttled += result.throttled
        s.rejected.update(r.reason for r in result.rejected_rows)

    def emit(self, finished: bool = False) -> None:
        if self.on_progress is None:
            return
        s, tf = self.summary, self.summary.key.timeframe
        left = sum(request_estimate(r, tf, self.gw.geometry) for r in self.remaining)
        done = s.requests
        eta = (time.monotonic() - self.t0) / done * left if done else None
        self.on_progress(CollectProgress(s.key, done, done + left, s.written, s.retries, eta, finished))


class MarketDataService:
    """Use cases around exchange market data. `gateways(name)` returns the shared gateway of an exchange."""

    def __init__(self, candles: CandleRepository, gateways: GatewayFactory, clock: Clock, lanes: int = LANES) -> None:
        self._candles = candles
        self._gateways = gateways
        self._clock = clock
        self._lanes = lanes
        self._write_lock = asyncio.Lock()

    async def list_markets(self, exchange: str) -> list[Market]:
        return await self._gateways(exchange).list_markets()

    async def collect(self, exchange: str, market: str, timeframe: Timeframe, start_ms: int, end_ms: int,
                      on_progress: ProgressCallback | None = None) -> CollectSummary:
        """Fetch the bars of [start, end) the store lacks, chunk by chunk (each its own transaction).

        Cancelling stops cleanly after the chunks already stored; running again resumes. Only
        completed bars are fetched: the end is clamped to the current bar's open.
        """
        if start_ms >= end_ms:
            raise UserError("the start of the range must be before its end")
        gw = self._gateways(exchange)
        if timeframe not in gw.timeframes:
            offered = ", ".join(tf.code for tf in Timeframe if tf in gw.timeframes)
            raise ExchangeError(f"{exchange} has no {timeframe.code} candles; it offers {offered}")
        key = SeriesKey(exchange, market, timeframe)
        end_ms = min(end_ms, timeframe.floor(self._clock.now_ms()))
        summary = CollectSummary(key, start_ms, end_ms)
        coverage = await asyncio.to_thread(self._candles.coverage, key)
        want = wanted(timeframe, start_ms, end_ms)
        summary.already_stored = total(intersect(coverage.stored, [want])) // timeframe.ms
        todo = missing(timeframe, start_ms, end_ms, coverage) if want[0] < want[1] else []
        run = _Run(summary, split_lanes(todo, self._lanes, timeframe), gw, on_progress)
        run.emit()
        try:
            async with asyncio.TaskGroup() as tg:
                for i in range(len(run.remaining)):
                    tg.create_task(self._lane(run, i))
        except BaseExceptionGroup as group:
            raise group.exceptions[0] from None
        after = await asyncio.to_thread(self._candles.coverage, key)
        summary.known_empty = total(intersect(after.known_empty, [want])) // timeframe.ms
        summary.stored = total(intersect(after.stored, [want])) // timeframe.ms - summary.already_stored
        run.emit(finished=True)
        return summary

    async def forget_known_empty(self, key: SeriesKey, start_ms: int, end_ms: int) -> int:
        """Forget the known-empty ranges of [start, end) (never a candle) so the next collect asks for them
        again. Returns the bars forgotten."""
        want = wanted(key.timeframe, start_ms, end_ms)
        before = await asyncio.to_thread(self._candles.coverage, key)
        async with self._write_lock:
            await asyncio.to_thread(self._candles.forget_fetched, key, *want)
        return total(intersect(before.known_empty, [want])) // key.timeframe.ms

    async def _lane(self, run: _Run, lane: int) -> None:
        key, gw = run.summary.key, run.gw
        tf = key.timeframe
        floor = run.remaining[lane][0][0]
        while (req := next_request(run.remaining[lane], tf, gw.geometry)) is not None:
            result = await run.fetch(req)
            settled = proven(req, result.series.ts, result.returned, tf, gw.geometry, floor)
            if settled is None:  # an empty answer: "no trades" only where a page with data proves it
                back = gw.geometry.direction == "backward"  # a forward page proves only its own window
                settled = empty_page_proven(req, await run.first_bar_after(req.end), floor if back else req.start)
            if settled is None:
                run.summary.unproven += req.count  # asked again next run, never trusted as known-empty
                run.remaining[lane] = subtract(run.remaining[lane], [(req.start, req.end)])
                run.emit()
                continue
            bars = result.series.slice_time(*settled)
            # A window with rejected rows is not recorded as fetched: its holes are not known-empty.
            fetched = None if result.rejected_rows else settled
            async with self._write_lock:
                written = await asyncio.shield(asyncio.to_thread(self._candles.upsert, key, bars, fetched))
            run.summary.written += written
            run.remaining[lane] = subtract(run.remaining[lane], [settled])
            run.emit()

    async def collect_many(self, jobs: Sequence[CollectJob],
                           on_progress: ProgressCallback | None = None) -> list[CollectSummary]:
        """Several series at once; jobs on one exchange share its gateway and so its rate budget."""
        try:
            async with asyncio.TaskGroup() as tg:
                tasks = [tg.create_task(self.collect(j.exchange, j.market, j.timeframe, j.start_ms, j.end_ms,
                                                     on_progress)) for j in jobs]
        except BaseExceptionGroup as group:
            raise group.exceptions[0] from None  # the first failure, as the user would see it alone
        return [t.result() for t in tasks]
