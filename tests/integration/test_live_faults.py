"""Stream faults: fuzzed messages are rejected and counted, drops and stalls are repaired, overload loses no order."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

from aiohttp import web
from live_helpers import SimClock, as_rows, build_engine, fast_config, faulty_simulator, series_rows, sma_cross

from app.live.bus import EventBus
from app.live.engine import LiveEngine
from app.live.events import FeedDisconnected, FeedReconnected, OrderFilled, OrderRejected, OrderRequested, TradeTick
from app.live.metrics import FeedCounters
from app.live.session import SessionSpec
from domain.market import CandleSeries, Timeframe
from domain.strategy import parse_strategy
from infrastructure.exchanges.binance_ws import BinanceKlineFeed
from infrastructure.exchanges.upbit_ws import UpbitTradeFeed
from infrastructure.exchanges.ws import StreamPolicy
from infrastructure.simulator.state import simulator_candles

GOOD_TRADE = {"type": "trade", "code": "KRW-BTC", "timestamp": 1730336862082, "trade_timestamp": 1730336862047,
              "trade_price": 100473000.0, "trade_volume": 0.00014208, "ask_bid": "BID", "stream_type": "REALTIME"}
GOOD_KLINE = {"e": "kline", "E": 1700000000123, "s": "BTCUSDT",
              "k": {"t": 1700000040000, "T": 1700000099999, "s": "BTCUSDT", "i": "1m", "o": "37000.1",
                    "c": "37010.5", "h": "37020.0", "l": "36990.0", "v": "12.345", "x": False}}
POISON: list[Any] = [None, -1, 0, 1e308, 10**400, float("nan"), float("inf"), "", "NaN", "1e999", [], {}, "abc",
                     -5.0, 2**63]  # every value is wrong for every field it may land in


def _damaged(good: dict[str, Any], rng: random.Random) -> bytes:
    """A message that must be rejected: broken bytes, wrong shape, a field missing or poisoned."""
    kind = rng.randrange(6)
    if kind == 0:
        return bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 80)))
    if kind == 1:
        return json.dumps(rng.choice([[], 1, "trade", None, [good], 3.5])).encode()
    if kind == 2:
        return b"[" * rng.randrange(1000, 5000)
    msg = json.loads(json.dumps(good))
    target = msg["k"] if "k" in msg and rng.random() < 0.8 else msg
    keys = [k for k in target if k not in ("ask_bid", "stream_type", "timestamp", "E", "T")]
    key = rng.choice(keys)
    if kind == 3:
        del target[key]
    else:
        target[key] = rng.choice(POISON)
    text = json.dumps(msg)  # NaN/Infinity become bare JSON tokens, as a broken server might send
    return text.encode()


async def _fuzz_server(make: Any, n: int, path: str) -> tuple[web.AppRunner, str]:
    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        rng = random.Random(7)
        for i in range(n):
            await ws.send_bytes(make(rng))
            if i % 2000 == 0:
                await asyncio.sleep(0)
        await ws.close()
        return ws

    app = web.Application()
    app.router.add_get(path, handler)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


async def _run_until(counters: FeedCounters, feed: Any, sink: Any, n: int) -> None:
    task = asyncio.create_task(feed.run(sink))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 120
    while counters.messages < n and loop.time() < deadline and not task.done():
        await asyncio.sleep(0.05)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_a_hundred_thousand_fuzzed_upbit_messages_are_all_rejected_and_counted_without_a_crash() -> None:
    n = 100_000
    runner, url = await _fuzz_server(lambda rng: _damaged(GOOD_TRADE, rng), n, "/websocket/v1")
    feed = UpbitTradeFeed("KRW-BTC", url, StreamPolicy(stall_s=5, backoff_initial_s=5))
    events: list[Any] = []
    try:
        await _run_until(feed.counters, feed, events.append, n)
    finally:
        await runner.cleanup()
    assert feed.counters.messages == n
    assert feed.counters.rejected == n
    assert not [e for e in events if isinstance(e, TradeTick)]


async def test_fuzzed_binance_klines_are_rejected_and_counted_and_a_good_one_still_parses() -> None:
    n = 20_000
    runner, url = await _fuzz_server(lambda rng: _damaged(GOOD_KLINE, rng), n, "/ws/btcusdt@kline_1m")
    feed = BinanceKlineFeed("BTCUSDT", url, StreamPolicy(stall_s=5, backoff_initial_s=5))
    try:
        await _run_until(feed.counters, feed, lambda e: None, n)
    finally:
        await runner.cleanup()
    assert feed.counters.rejected == feed.counters.messages == n
    (tick,) = feed.parse(json.dumps(GOOD_KLINE), 0)
    assert tick.candle.close == 37010.5 and not tick.closed


async def _wait(cond: Any, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_dropped_and_stalled_streams_reconnect_and_backfill_so_no_bar_is_missing() -> None:
    config = fast_config()
    sim, faults = faulty_simulator(config)
    await sim.start()
    policy = StreamPolicy(stall_s=0.5, backoff_initial_s=0.05, backoff_max_s=0.2)
    engine, gateways, bars = build_engine(sim.url, SimClock(config.clock), policy=policy)
    try:
        await engine.start()
        await engine.add_session(SessionSpec("s1", sma_cross(), "demo", "KRW-BTC", Timeframe.M1))
        seen = lambda: len(bars.bars.get("s1", []))  # noqa: E731
        await _wait(lambda: seen() >= 3)
        faults.drop_all()  # 1: the connection is cut
        await _wait(lambda: engine.metrics.feeds["demo:KRW-BTC"].reconnects >= 1)
        await _wait(lambda: seen() >= 8)
        faults.stall_next = 1  # 2: cut again, and the next connection goes silent
        faults.drop_all()
        await _wait(lambda: engine.metrics.feeds["demo:KRW-BTC"].reconnects >= 3)
        mark = seen()
        await _wait(lambda: seen() >= mark + 5)
    finally:
        await engine.shutdown()
        await gateways.aclose()
        faults.drop_all()
        await sim.stop()
    got = bars.bars["s1"]
    truth = simulator_candles("demo", "KRW-BTC", Timeframe.M1, got[0].ts, got[-1].ts + 60_000)
    assert as_rows(got) == series_rows(truth)
    market = engine.metrics.feeds["demo:KRW-BTC"]
    assert market.reconnects >= 3 and faults.connections >= 4


async def test_a_silent_stream_is_closed_as_stalled_after_the_stall_time_and_reconnects() -> None:
    config = fast_config()
    sim, faults = faulty_simulator(config)
    await sim.start()
    faults.stall_next = 1  # the first connection accepts the subscription and then says nothing
    feed = UpbitTradeFeed("KRW-BTC", sim.url, StreamPolicy(stall_s=0.4, backoff_initial_s=0.05))
    events: list[Any] = []
    lost_at: list[float] = []
    loop = asyncio.get_running_loop()

    def sink(event: Any) -> None:
        events.append(event)
        if isinstance(event, FeedDisconnected):
            lost_at.append(loop.time())

    t0 = loop.time()
    task = asyncio.create_task(feed.run(sink))
    try:
        await _wait(lambda: any(isinstance(e, FeedReconnected) for e in events), timeout=10)
        await _wait(lambda: any(isinstance(e, TradeTick) for e in events), timeout=10)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        faults.drop_all()
        await sim.stop()
    (lost,) = [e for e in events if isinstance(e, FeedDisconnected)][:1]
    assert lost.reason == "stalled: no message for 0.4 s"
    assert 0.4 <= lost_at[0] - t0 < 3.0 and feed.counters.reconnects == 1  # closed at the stall time, not later
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("stall-watch")]


class _BurstFeed:
    """Emits `n` trades in bursts far faster than they can be handled, minute after minute."""

    exchange, symbol = "demo", "KRW-BTC"

    def __init__(self, n: int) -> None:
        self.n = n
        self.counters = FeedCounters()

    async def run(self, sink: Any) -> None:
        rng = random.Random(3)
        price = 100.0
        for i in range(self.n):
            price = max(1.0, price + rng.choice((-1.0, 1.0)))
            sink(TradeTick(self.exchange, self.symbol, 1_704_067_200_000 + i * 300, price, 1.0, 0))
            self.counters.messages += 1
            if i % 5000 == 4999:
                await asyncio.sleep(0)
        await asyncio.Event().wait()


async def test_an_overload_burst_drops_market_data_but_never_an_order() -> None:
    flip = parse_strategy({
        "schema": 1, "name": "Flip", "direction": "long_short",
        "entry_long": {"all": [{"left": {"var": "close"}, "op": "gt", "right": {"var": "open"}}]},
        "entry_short": {"all": [{"left": {"var": "close"}, "op": "lt", "right": {"var": "open"}}]},
        "exit_long": None, "exit_short": None,
        "risk": {"position_size_pct": 100, "stop_loss_pct": None, "take_profit_pct": None, "trailing_stop_pct": None}})
    feed = _BurstFeed(100_000)

    async def no_bars(symbol: str, tf: Timeframe, start: int, end: int) -> CandleSeries:
        return CandleSeries.empty(tf)

    async def history(exchange: str, symbol: str, tf: Timeframe, n: int) -> CandleSeries:
        return CandleSeries.empty(tf)

    requested: list[str] = []
    filled: list[str] = []
    rejected: list[str] = []
    engine = LiveEngine(lambda ex, sym: feed, lambda ex: no_bars, history, SimClock(lambda: 0),
                        bus=EventBus(data_size=2_000, signal_size=10, order_size=10))
    engine.bus.subscribe(OrderRequested, lambda e: requested.append(e.order_id))
    engine.bus.subscribe(OrderFilled, lambda e: filled.append(e.order_id))
    engine.bus.subscribe(OrderRejected, lambda e: rejected.append(e.order_id))
    await engine.start()
    session = await engine.add_session(SessionSpec("burst", flip, "demo", "KRW-BTC", Timeframe.M1))
    await _wait(lambda: feed.counters.messages == feed.n)
    await engine.bus.drain()
    data = engine.bus.data.stats
    pending = {o.id for o in session.broker.pending}
    await engine.shutdown(flatten=False)
    assert data.dropped > 0 and data.handled + data.dropped == data.published
    assert engine.bus.orders.stats.dropped == 0
    assert len(requested) >= 10
    # every order sent was filled, still waits for a price, or was refused with a journalled reason
    assert set(requested) == set(filled) | pending | set(rejected)
    assert engine.bus.orders.stats.handled == engine.bus.orders.stats.published
