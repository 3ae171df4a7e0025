"""An empty answer (`200 []`) from an exchange or a proxy is not trusted as "no trades here" unless data proves it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from app.market_data.collect import CollectJob, MarketDataService
from app.timeparse import parse_time_arg
from domain.market import SeriesKey, Timeframe
from infrastructure.clock import SystemClock
from infrastructure.db.candles import SqlCandleRepository
from infrastructure.db.engine import create_sqlite_engine
from infrastructure.db.migrate import upgrade_to_head
from infrastructure.exchanges import ExchangeGateways
from infrastructure.exchanges.http import RetryPolicy
from infrastructure.simulator import LISTING_MS, SimulatorConfig, SimulatorServer, fixed_clock, simulator_candles

M1 = Timeframe.M1
NOW = parse_time_arg("2024-06-01")
START, END = parse_time_arg("2024-01-01"), parse_time_arg("2024-01-01T10:00:00")
KEY = SeriesKey("upbit", "KRW-BTC", M1)


class LyingProxy:
    """Forwards to the simulator, but answers `200 []` to candle requests while `lie` is set (a broken proxy)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.lie = True
        self.lies = 0
        self.candle_requests = 0
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        if "/candles/" in request.path or request.path.endswith("/klines"):
            self.candle_requests += 1
            if self.lie:
                self.lies += 1
                return web.json_response([])
        async with aiohttp.ClientSession() as http, http.get(self.upstream + request.path_qs) as up:
            return web.Response(body=await up.read(), status=up.status, content_type=up.content_type,
                                headers={k: v for k, v in up.headers.items() if k.lower().startswith("remaining")})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def proxy() -> AsyncIterator[tuple[SimulatorServer, LyingProxy]]:
    async with SimulatorServer(SimulatorConfig(clock=fixed_clock(NOW))) as sim:
        lying = LyingProxy(sim.url)
        await lying.start()
        try:
            yield sim, lying
        finally:
            await lying.stop()


@pytest.fixture
def repo(db_path: Path) -> SqlCandleRepository:
    engine = create_sqlite_engine(db_path)
    upgrade_to_head(engine)
    return SqlCandleRepository(engine)


async def collect(url: str, repo: SqlCandleRepository, start: int = START, end: int = END,
                  exchange: str = "upbit", market: str = "KRW-BTC") -> object:
    gateways = ExchangeGateways({exchange: url}, RetryPolicy(base_s=0.05, cap_s=0.5, timeout_s=5.0))
    try:
        [summary] = await MarketDataService(repo, gateways, SystemClock()).collect_many(
            [CollectJob(exchange, market, M1, start, end)])
    finally:
        await gateways.aclose()
    return summary


async def test_empty_pages_from_a_broken_proxy_are_not_recorded_known_empty_and_the_next_run_fetches_them(
        proxy: tuple[SimulatorServer, LyingProxy], repo: SqlCandleRepository) -> None:
    _, lying = proxy
    first = await collect(lying.url, repo)
    assert lying.lies > 0
    assert repo.coverage(KEY).known_empty == []  # nothing was proven empty
    assert first.known_empty == 0 and first.unproven == (END - START) // M1.ms  # type: ignore[attr-defined]

    lying.lie = False
    asked = lying.candle_requests
    second = await collect(lying.url, repo)
    assert lying.candle_requests > asked  # asked again, not trusted forever
    truth = simulator_candles("upbit", "KRW-BTC", M1, START, END)
    assert repo.read(KEY, START, END) == truth
    assert second.unproven == 0 and second.stored == len(truth)  # type: ignore[attr-defined]


async def test_a_range_before_the_listing_is_known_empty_once_a_newer_page_with_data_proves_it(
        proxy: tuple[SimulatorServer, LyingProxy], repo: SqlCandleRepository) -> None:
    _, lying = proxy
    lying.lie = False
    start, end = LISTING_MS - 400 * M1.ms, LISTING_MS - 100 * M1.ms  # ends 100 bars before the first candle
    summary = await collect(lying.url, repo, start, end)
    assert summary.known_empty == (end - start) // M1.ms and summary.unproven == 0  # type: ignore[attr-defined]
    asked = lying.candle_requests
    await collect(lying.url, repo, start, end)
    assert lying.candle_requests == asked  # proven once, not asked again


BINANCE = SeriesKey("binance", "BTCUSDT", M1)


async def test_binance_windows_before_the_listing_are_known_empty_once_the_first_kline_proves_it(
        proxy: tuple[SimulatorServer, LyingProxy], repo: SqlCandleRepository) -> None:
    _, lying = proxy
    lying.lie = False
    start, end = LISTING_MS - 4000 * M1.ms, LISTING_MS - 100 * M1.ms  # three pages, all before the first kline
    summary = await collect(lying.url, repo, start, end, "binance", "BTCUSDT")
    assert summary.known_empty == (end - start) // M1.ms and summary.unproven == 0  # type: ignore[attr-defined]
    assert repo.coverage(BINANCE).known_empty == [(start, end)]
    asked = lying.candle_requests
    again = await collect(lying.url, repo, start, end, "binance", "BTCUSDT")
    assert lying.candle_requests == asked and again.requests == 0  # type: ignore[attr-defined]


async def test_binance_windows_straddling_the_listing_store_every_kline_and_the_rest_is_known_empty(
        proxy: tuple[SimulatorServer, LyingProxy], repo: SqlCandleRepository) -> None:
    _, lying = proxy
    lying.lie = False
    start, end = LISTING_MS - 3000 * M1.ms, LISTING_MS + 600 * M1.ms
    summary = await collect(lying.url, repo, start, end, "binance", "BTCUSDT")
    truth = simulator_candles("binance", "BTCUSDT", M1, start, end)
    assert len(truth) and repo.read(BINANCE, start, end) == truth
    assert summary.unproven == 0 and summary.known_empty + summary.stored == (end - start) // M1.ms  # type: ignore
    asked = lying.candle_requests
    await collect(lying.url, repo, start, end, "binance", "BTCUSDT")
    assert lying.candle_requests == asked


async def test_empty_binance_answers_with_no_first_kline_to_prove_them_are_asked_again(
        proxy: tuple[SimulatorServer, LyingProxy], repo: SqlCandleRepository) -> None:
    _, lying = proxy  # answers `200 []` to the windows and to the probe of the first kline alike
    start, end = LISTING_MS - 2000 * M1.ms, LISTING_MS - 100 * M1.ms
    first = await collect(lying.url, repo, start, end, "binance", "BTCUSDT")
    assert first.unproven == (end - start) // M1.ms and repo.coverage(BINANCE).known_empty == []  # type: ignore
    asked = lying.candle_requests
    await collect(lying.url, repo, start, end, "binance", "BTCUSDT")
    assert lying.candle_requests > asked


def test_the_collect_summary_tells_the_user_about_empty_answers_it_did_not_trust() -> None:
    from app.commands.market import describe
    from app.market_data.collect import CollectSummary

    summary = CollectSummary(KEY, START, END, requests=3, unproven=600)
    text = describe(summary)
    assert "600 1m bars answered empty" in text and "asks for them again" in text
    assert "answered empty" not in describe(CollectSummary(KEY, START, END, requests=3))
