"""MarketDataService.collect with a fake exchange and an in-memory store: resume, cancel, progress, rejects."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from app.errors import ExchangeError, UserError
from app.market_data.collect import CollectProgress, MarketDataService
from app.market_data.exchange import FetchResult, RejectedRow
from domain.market import MINUTE_MS, CandleSeries, Coverage, Market, SeriesKey, Timeframe
from domain.market.coverage import runs
from domain.market.intervals import Interval, merge
from domain.market.planning import UPBIT_GEOMETRY, Geometry

M1 = Timeframe.M1
T0 = 1_704_067_200_000


class FakeCandles:
    """In-memory CandleRepository."""

    def __init__(self) -> None:
        self.series: dict[SeriesKey, CandleSeries] = {}
        self.fetched: dict[SeriesKey, list[Interval]] = {}

    def upsert(self, key: SeriesKey, series: CandleSeries, fetched: tuple[int, int] | None = None) -> int:
        old = self.series.get(key, CandleSeries.empty(key.timeframe))
        self.series[key] = old.concat(series)
        if fetched is not None:
            self.fetched[key] = merge([*self.fetched.get(key, []), fetched])
        return len(series)

    def read(self, key: SeriesKey, start_ms: int | None = None, end_ms: int | None = None) -> CandleSeries:
        return self.series.get(key, CandleSeries.empty(key.timeframe)).slice_time(start_ms, end_ms)

    def coverage(self, key: SeriesKey) -> Coverage:
        s = self.series.get(key, CandleSeries.empty(key.timeframe))
        return Coverage(key.timeframe, self.fetched.get(key, []), runs(s.ts, key.timeframe.ms))


class FakeExchange:
    """Answers like Upbit (newest `count` bars before `to`) from a fixed bar set; can hold or spoil calls."""

    name = "fake"
    timeframes = frozenset({M1})

    def __init__(self, ts: np.ndarray, geometry: Geometry = UPBIT_GEOMETRY) -> None:
        self.ts = ts
        self.geometry = geometry
        self.calls: list[tuple[int, int]] = []
        self.hold_after: int | None = None
        self.held = asyncio.Event()
        self.bad_call: int | None = None

    def bars(self, ts: np.ndarray) -> CandleSeries:
        price = 100 + (ts - T0) / MINUTE_MS
        return CandleSeries.from_columns(M1, ts, price, price + 1, price - 1, price, np.ones(len(ts)))

    async def fetch_candles(self, symbol: str, timeframe: Timeframe, window: tuple[int, int]) -> FetchResult:
        if self.hold_after is not None and len(self.calls) >= self.hold_after:
            self.held.set()
            await asyncio.Event().wait()
        self.calls.append(window)
        count = (window[1] - window[0]) // MINUTE_MS
        page = self.ts[self.ts < window[1]][-count:]
        if self.bad_call == len(self.calls):
            kept = np.delete(page, len(page) // 2)  # the exchange sent a row we could not read
            return FetchResult(self.bars(kept), len(page), (RejectedRow(len(page) // 2, "high_price is not a number"),))
        return FetchResult(self.bars(page), len(page), retries=1)

    async def first_candle(self, symbol: str, timeframe: Timeframe) -> None:
        return None  # answers like Upbit: no first-candle question

    async def list_markets(self) -> list[Market]:
        return [Market("fake", "KRW-BTC")]

    async def aclose(self) -> None:
        pass


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def now_ms(self) -> int:
        return self.now


def exchange_bars(n_minutes: int, quiet_every: int = 17) -> np.ndarray:
    return np.array([T0 + i * MINUTE_MS for i in range(n_minutes) if i % quiet_every], dtype=np.int64)


def service(ex: FakeExchange, repo: FakeCandles, lanes: int = 2) -> MarketDataService:
    return MarketDataService(repo, lambda name: ex, Clock(T0 + 10**9), lanes=lanes)


KEY = SeriesKey("fake", "KRW-BTC", M1)
END = T0 + 1000 * MINUTE_MS


async def test_a_collection_stores_every_bar_and_a_second_run_asks_nothing() -> None:
    ex, repo = FakeExchange(exchange_bars(1200)), FakeCandles()
    first = await service(ex, repo).collect("fake", "KRW-BTC", M1, T0, END)
    assert repo.read(KEY, T0, END) == ex.bars(ex.ts[ex.ts < END])
    assert first.stored == len(ex.ts[ex.ts < END]) and first.known_empty == 1000 - first.stored
    assert first.retries == first.requests
    calls = len(ex.calls)
    again = await service(ex, repo).collect("fake", "KRW-BTC", M1, T0, END)
    assert len(ex.calls) == calls and again.requests == 0 and again.already_stored == first.stored


async def test_a_cancelled_collection_keeps_its_chunks_and_the_rerun_fetches_only_the_rest() -> None:
    ex, repo = FakeExchange(exchange_bars(1200)), FakeCandles()
    ex.hold_after = 3
    task = asyncio.create_task(service(ex, repo, lanes=1).collect("fake", "KRW-BTC", M1, T0, END))
    await ex.held.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    kept = len(repo.read(KEY))
    assert kept > 0
    ex.hold_after = None
    before = len(ex.calls)
    await service(ex, repo, lanes=1).collect("fake", "KRW-BTC", M1, T0, END)
    assert repo.read(KEY, T0, END) == ex.bars(ex.ts[ex.ts < END])
    assert len(ex.calls) - before <= 3  # 1000 minutes = 5 pages of 200, three were done


async def test_progress_counts_requests_up_to_a_finished_event() -> None:
    ex, repo = FakeExchange(exchange_bars(1200)), FakeCandles()
    events: list[CollectProgress] = []
    await service(ex, repo).collect("fake", "KRW-BTC", M1, T0, END, on_progress=events.append)
    done = [e.requests_done for e in events]
    assert done == sorted(done) and events[0].requests_done == 0 and events[0].requests_total >= 5
    assert events[-1].finished and events[-1].requests_done == events[-1].requests_total == len(ex.calls)
    assert events[-1].eta_s == 0


async def test_the_current_unfinished_bar_is_never_collected() -> None:
    ex, repo = FakeExchange(exchange_bars(1200, quiet_every=10**6)), FakeCandles()
    svc = MarketDataService(repo, lambda name: ex, Clock(T0 + 100 * MINUTE_MS + 5_000))
    summary = await svc.collect("fake", "KRW-BTC", M1, T0, END)
    assert summary.end_ms == T0 + 100 * MINUTE_MS
    assert repo.coverage(KEY).fetched[-1][1] == T0 + 100 * MINUTE_MS


async def test_a_page_with_rejected_rows_is_stored_without_marking_its_holes_known_empty() -> None:
    ex, repo = FakeExchange(exchange_bars(1200)), FakeCandles()
    ex.bad_call = 1
    summary = await service(ex, repo, lanes=1).collect("fake", "KRW-BTC", M1, T0, END)
    assert summary.rejected == {"high_price is not a number": 1}
    assert len(repo.read(KEY, T0, END)) == len(ex.ts[ex.ts < END]) - 1
    ex.bad_call = None
    again = await service(ex, repo, lanes=1).collect("fake", "KRW-BTC", M1, T0, END)
    assert again.requests == 1 and repo.read(KEY, T0, END) == ex.bars(ex.ts[ex.ts < END])


async def test_bad_ranges_and_timeframes_the_exchange_lacks_are_refused_before_any_request() -> None:
    ex, repo = FakeExchange(exchange_bars(10)), FakeCandles()
    with pytest.raises(UserError, match="before its end"):
        await service(ex, repo).collect("fake", "KRW-BTC", M1, END, T0)
    with pytest.raises(ExchangeError, match="no 1h candles; it offers 1m"):
        await service(ex, repo).collect("fake", "KRW-BTC", Timeframe.H1, T0, END)
    assert ex.calls == []
