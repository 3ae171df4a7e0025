"""Collecting from the exchange simulator on 127.0.0.1 into a real SQLite file, through the real adapters."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import numpy as np
import pytest

from app.market_data.collect import CollectJob, MarketDataService
from app.timeparse import parse_time_arg
from domain.market import MINUTE_MS, SeriesKey, Timeframe
from infrastructure.clock import SystemClock
from infrastructure.db.candles import SqlCandleRepository
from infrastructure.db.engine import create_sqlite_engine
from infrastructure.db.migrate import upgrade_to_head
from infrastructure.exchanges import ExchangeGateways
from infrastructure.exchanges.http import RetryPolicy
from infrastructure.simulator import SimulatorConfig, SimulatorServer, fixed_clock, simulator_candles
from infrastructure.simulator.market import Trades, bars_from_trades
from infrastructure.simulator.state import accelerated_clock

M1 = Timeframe.M1
NOW = parse_time_arg("2024-06-01")
FAST_RETRIES = RetryPolicy(base_s=0.05, cap_s=0.5, timeout_s=5.0)


def open_repo(path: Path) -> SqlCandleRepository:
    engine = create_sqlite_engine(path)
    upgrade_to_head(engine)
    return SqlCandleRepository(engine)


@pytest.fixture
def repo(db_path: Path) -> SqlCandleRepository:
    return open_repo(db_path)


@pytest.fixture
async def sim(request: pytest.FixtureRequest) -> AsyncIterator[SimulatorServer]:
    overrides = getattr(request, "param", {})
    config = SimulatorConfig(clock=fixed_clock(NOW), slow_s=0.2, **overrides)
    async with SimulatorServer(config) as server:
        yield server


async def collect(sim: SimulatorServer, repo: SqlCandleRepository, jobs: list[CollectJob]) -> list:
    gateways = ExchangeGateways({"upbit": sim.url, "binance": sim.url, "demo": sim.url}, FAST_RETRIES)
    try:
        return await MarketDataService(repo, gateways, SystemClock()).collect_many(jobs)
    finally:
        await gateways.aclose()


def job(exchange: str, symbol: str, start: str, end: str, tf: Timeframe = M1) -> CollectJob:
    return CollectJob(exchange, symbol, tf, parse_time_arg(start), parse_time_arg(end))


CASES = [("upbit", "KRW-BTC", "2024-01-01", "2024-01-03"), ("binance", "BTCUSDT", "2024-01-01", "2024-01-21")]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("sim", [{"seed": 1}, {"seed": 1, "fault_rate": 0.1}], ids=["healthy", "faults"],
                         indirect=True)
async def test_a_collected_range_equals_the_simulators_own_candles(
        sim: SimulatorServer, repo: SqlCandleRepository, case: tuple[str, str, str, str]) -> None:
    exchange, symbol, start, end = case
    [summary] = await collect(sim, repo, [job(exchange, symbol, start, end)])
    s, e = parse_time_arg(start), parse_time_arg(end)
    truth = simulator_candles(exchange, symbol, M1, s, e, seed=1)
    assert repo.read(SeriesKey(exchange, symbol, M1), s, e) == truth
    assert summary.stored == len(truth)
    assert summary.known_empty == (e - s) // MINUTE_MS - len(truth)
    if sim.config.fault_rate:
        assert sum(sim.state.faults.injected.values()) > 0
        assert summary.retries > 0
    else:
        assert summary.retries == 0


async def test_a_healthy_run_at_upbits_real_limit_sees_no_429_even_with_markets_sharing_the_budget(
        sim: SimulatorServer, repo: SqlCandleRepository) -> None:
    jobs = [job("upbit", "KRW-BTC", "2024-02-01", "2024-02-04"), job("upbit", "KRW-ETH", "2024-02-01", "2024-02-04")]
    summaries = await collect(sim, repo, jobs)
    assert sim.state.config.upbit_per_second == 10
    assert sim.state.log.count("upbit.candles", 200) == sum(s.requests for s in summaries) > 40
    assert sim.state.log.count("upbit.candles", 429) == 0 and sim.state.log.count(status=418) == 0
    assert all(s.throttled == 0 and s.retries == 0 for s in summaries)


@pytest.mark.parametrize("sim", [{"seed": 2, "fault_rate": 0.4, "faults": ("bad_row",)}], indirect=True)
async def test_malformed_rows_are_counted_never_stored_and_their_windows_fetched_again(
        sim: SimulatorServer, repo: SqlCandleRepository) -> None:
    s, e = parse_time_arg("2024-03-01"), parse_time_arg("2024-03-03")
    [summary] = await collect(sim, repo, [job("upbit", "KRW-XRP", "2024-03-01", "2024-03-03")])
    truth = simulator_candles("upbit", "KRW-XRP", M1, s, e, seed=2)
    got = repo.read(SeriesKey("upbit", "KRW-XRP", M1), s, e)
    assert summary.rejected_rows > 0
    assert all("high_price is not a number" in reason for reason in summary.rejected)
    assert len(got) < len(truth) and np.isin(got.ts, truth.ts).all()
    assert got == truth.take(np.isin(truth.ts, got.ts))
    sim.state.faults.rate = 0.0
    [again] = await collect(sim, repo, [job("upbit", "KRW-XRP", "2024-03-01", "2024-03-03")])
    assert 0 < again.requests <= 2 * summary.rejected_rows < summary.requests
    assert repo.read(SeriesKey("upbit", "KRW-XRP", M1), s, e) == truth


async def test_readers_can_read_the_database_while_a_collection_writes(
        sim: SimulatorServer, db_path: Path, repo: SqlCandleRepository) -> None:
    reader = open_repo(db_path)  # its own engine and connections, as another window or process would have
    key = SeriesKey("upbit", "KRW-SOL", M1)
    seen: list[int] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def read_loop() -> None:
        while not stop.is_set():
            try:
                seen.append(len(reader.read(key)))
            except BaseException as err:  # noqa: BLE001 - any failure to read is the finding
                errors.append(err)
                return

    thread = threading.Thread(target=read_loop)
    thread.start()
    try:
        await collect(sim, repo, [job("upbit", "KRW-SOL", "2024-04-01", "2024-04-03")])
    finally:
        stop.set()
        thread.join()
    assert errors == []
    assert len(set(seen)) > 2 and seen == sorted(seen)  # partial states were visible, never going back


async def test_the_simulator_answers_429_beyond_10_per_second_and_418_to_a_client_that_keeps_hammering(
        sim: SimulatorServer) -> None:
    url = f"{sim.url}/v1/candles/minutes/1?market=KRW-BTC&count=1"
    statuses: list[int] = []
    async with aiohttp.ClientSession() as session:
        for _ in range(25):
            async with session.get(url) as resp:
                statuses.append(resp.status)
                if resp.status == 200:
                    assert resp.headers["Remaining-Req"].startswith("group=candles; min=")
                else:
                    body = await resp.json()
                    assert set(body["error"]) == {"name", "message"}
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429 and statuses[-1] == 418


@pytest.mark.parametrize("sim", [{"binance_weight_per_minute": 25}], indirect=True)
async def test_binance_weight_is_reported_and_over_budget_answers_429_with_retry_after(
        sim: SimulatorServer) -> None:
    url = f"{sim.url}/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=1500&startTime={NOW - 10**8}"
    async with aiohttp.ClientSession() as session:
        used = []
        for _ in range(2):
            async with session.get(url) as resp:
                assert resp.status == 200 and len(await resp.json()) == 1500
                used.append(int(resp.headers["X-MBX-USED-WEIGHT-1M"]))
        async with session.get(url) as resp:
            assert resp.status == 429
            assert 1 <= int(resp.headers["Retry-After"]) <= 61
            assert (await resp.json())["code"] == -1003
    assert used[1] - used[0] == 10  # limit 1500 weighs 10


async def test_upbit_trades_streamed_by_websocket_build_the_same_bars_as_rest() -> None:
    start = parse_time_arg("2024-05-01T12:01:00Z")
    end = start + 3 * MINUTE_MS
    config = SimulatorConfig(clock=accelerated_clock(start - 30_000, 120.0), stream_interval_s=0.05)
    ts: list[int] = []
    price: list[float] = []
    volume: list[float] = []
    async with (
        SimulatorServer(config) as server, aiohttp.ClientSession() as session,
        session.ws_connect(f"{server.url}/websocket/v1") as ws,
    ):
        await ws.send_str(json.dumps([{"ticket": "t1"}, {"type": "trade", "codes": ["KRW-BTC"]},
                                      {"format": "DEFAULT"}]))
        async for msg in ws:
            m = json.loads(msg.data)
            assert m["type"] == "trade" and m["code"] == "KRW-BTC"
            if m["trade_timestamp"] >= end:
                break
            if m["trade_timestamp"] < start:
                continue
            ts.append(m["trade_timestamp"])
            price.append(m["trade_price"])
            volume.append(m["trade_volume"])
    trades = Trades(np.array(ts, np.int64), np.array(price), np.array(volume), np.zeros(len(ts), bool))
    streamed = bars_from_trades(trades, MINUTE_MS).to_series(M1)
    assert len(streamed) == 3
    assert streamed == simulator_candles("upbit", "KRW-BTC", M1, start, end)


async def test_the_upbit_websocket_answers_a_request_without_a_ticket_with_its_error_format() -> None:
    async with (
        SimulatorServer(SimulatorConfig(clock=fixed_clock(NOW))) as server, aiohttp.ClientSession() as s,
        s.ws_connect(f"{server.url}/websocket/v1") as ws,
    ):
        await ws.send_str(json.dumps([{"type": "trade", "codes": ["KRW-BTC"]}]))
        msg = await ws.receive()
        assert json.loads(msg.data) == {"error": {"name": "NO_TICKET", "message": "a ticket field is required"}}


async def test_binance_kline_stream_closes_bars_equal_to_the_rest_klines() -> None:
    start = parse_time_arg("2024-05-01T12:00:00Z")
    config = SimulatorConfig(clock=accelerated_clock(start + 30_000, 240.0), stream_interval_s=0.02)
    closed: list[dict] = []
    partial = 0
    async with (
        SimulatorServer(config) as server, aiohttp.ClientSession() as session,
        session.ws_connect(f"{server.url}/ws/btcusdt@kline_1m") as ws,
    ):
        async for msg in ws:
            k = json.loads(msg.data)["k"]
            if k["x"]:
                closed.append(k)
            else:
                partial += 1
            if len(closed) == 2:
                break
    truth = simulator_candles("binance", "BTCUSDT", M1, start, start + 2 * MINUTE_MS)
    assert partial > 0
    assert [k["t"] for k in closed] == list(truth.ts)
    assert [float(k["c"]) for k in closed] == list(truth.close)
    assert [float(k["h"]) for k in closed] == list(truth.high)
    assert [float(k["v"]) for k in closed] == list(truth.volume)


async def test_several_markets_on_one_exchange_are_collected_concurrently(
        sim: SimulatorServer, repo: SqlCandleRepository) -> None:
    jobs = [job("binance", sym, "2024-01-01", "2024-01-02") for sym in ("BTCUSDT", "ETHUSDT", "SOLUSDT")]
    summaries = await asyncio.wait_for(collect(sim, repo, jobs), timeout=30)
    assert [s.stored for s in summaries] == [1440, 1440, 1440]


@pytest.mark.parametrize("sim", [{"fault_rate": 1.0, "faults": ("502",)}], indirect=True)
async def test_an_exchange_that_keeps_failing_ends_in_a_clear_error_after_capped_retries(
        sim: SimulatorServer, repo: SqlCandleRepository) -> None:
    from app.errors import ExchangeError

    gateways = ExchangeGateways({"upbit": sim.url}, RetryPolicy(attempts=3, base_s=0.01, cap_s=0.05))
    service = MarketDataService(repo, gateways, SystemClock())
    try:
        with pytest.raises(ExchangeError, match="upbit: gave up after 3 attempts; last problem: HTTP 502"):
            await service.collect("upbit", "KRW-BTC", M1, parse_time_arg("2024-01-01"), parse_time_arg("2024-01-02"))
    finally:
        await gateways.aclose()
    assert sim.state.log.count("upbit.candles", 502) >= 3
    assert repo.count(SeriesKey("upbit", "KRW-BTC", M1)) == 0


@pytest.mark.parametrize("sim", [{"binance_weight_per_minute": 25}], indirect=True)
async def test_a_long_retry_after_is_reported_instead_of_waited_out(
        sim: SimulatorServer, repo: SqlCandleRepository) -> None:
    from app.errors import ExchangeError
    from infrastructure.exchanges.binance import BinanceGateway

    policy = RetryPolicy(max_wait_s=0.5, base_s=0.01)
    gateway = BinanceGateway(sim.url, policy=policy, weight_per_minute=10**6)  # a client that ignores weight
    service = MarketDataService(repo, lambda _: gateway, SystemClock(), lanes=1)
    try:
        with pytest.raises(ExchangeError, match=r"binance: the exchange (rate-limited|banned) this IP for \d+ s"):
            await service.collect("binance", "BTCUSDT", M1, parse_time_arg("2024-01-01"), parse_time_arg("2024-01-06"))
    finally:
        await gateway.aclose()
    assert repo.count(SeriesKey("binance", "BTCUSDT", M1)) == 2 * 1500  # the chunks before the limit are kept


async def test_binance_bans_a_client_that_ignores_its_429s(sim: SimulatorServer) -> None:
    sim.state.binance_limits.weight_per_minute = 1
    url = f"{sim.url}/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=1"
    async with aiohttp.ClientSession() as session:
        statuses = []
        for _ in range(12):
            async with session.get(url) as resp:
                statuses.append(resp.status)
                retry_after = resp.headers.get("Retry-After")
    assert statuses[0] == 200 and statuses[1] == 429 and statuses[-1] == 418
    assert retry_after is not None and int(retry_after) >= 60
