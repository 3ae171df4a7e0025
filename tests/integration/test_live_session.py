"""Live sessions against the simulator: the same orders as paper, exchange-held and local stops, halts."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from app.live.bars import MarketBars
from app.live.history import gateway_bar_fetch
from app.live.trading.broker import PaperSessionBroker, SessionBroker
from app.live.trading.driver import SessionDriver
from app.live.trading.live_broker import LiveBroker, LiveSettings
from app.live.trading.ports import OrderIntent
from app.live.trading.router import OrderRouter
from domain.live.paper import PaperBroker, PaperSettings
from domain.live.risk import RiskEngine, RiskLimits
from domain.market import CandleSeries, Timeframe
from domain.strategy import IncrementalEvaluator, SignalRow, Strategy, parse_strategy
from infrastructure.clock import SystemClock
from infrastructure.db.engine import create_sqlite_engine
from infrastructure.db.migrate import upgrade_to_head
from infrastructure.db.orders import SqlOrderJournal
from infrastructure.exchanges import ExchangeGateways
from infrastructure.exchanges.binance_private import BinancePrivateClient
from infrastructure.exchanges.binance_ws import BinanceKlineFeed
from infrastructure.exchanges.order_gateways import BinanceOrderGateway, UpbitOrderGateway
from infrastructure.exchanges.upbit_private import UpbitPrivateClient
from infrastructure.exchanges.ws import StreamPolicy
from tests.integration.private_sim import API_KEY, SECRET, exchange_state, private_simulator

M1 = Timeframe.M1


def fast_cross(stop_loss_pct: float | None = None) -> Strategy:
    return parse_strategy({
        "schema": 1, "name": "SMA 2/4 cross", "direction": "long_short",
        "entry_long": {"all": [{"left": {"var": "sma", "params": {"period": 2}}, "op": "crosses_above",
                                "right": {"var": "sma", "params": {"period": 4}}}]},
        "entry_short": {"all": [{"left": {"var": "sma", "params": {"period": 2}}, "op": "crosses_below",
                                 "right": {"var": "sma", "params": {"period": 4}}}]},
        "exit_long": None, "exit_short": None,
        "risk": {"position_size_pct": 40, "stop_loss_pct": stop_loss_pct, "take_profit_pct": None,
                 "trailing_stop_pct": None},
    })


class Account:
    """The account's value from the exchange (what the CLI wires from the private client)."""

    def __init__(self, client: BinancePrivateClient) -> None:
        self.client = client

    async def equity(self, price: float) -> float:
        return float((await self.client.account())["totalMarginBalance"])


def journal(db_path: Path) -> SqlOrderJournal:
    engine = create_sqlite_engine(db_path)
    upgrade_to_head(engine)
    return SqlOrderJournal(engine)


def live_broker(client: BinancePrivateClient, db_path: Path, session: str, strategy: Strategy,
                limits: RiskLimits | None = None) -> LiveBroker:
    router = OrderRouter(BinanceOrderGateway(client, "BTCUSDT"), journal(db_path), SystemClock(), session)
    r = strategy.risk
    settings = LiveSettings(r.position_size_pct, r.stop_loss_pct, r.trailing_stop_pct, lot_size=1e-3)
    broker = LiveBroker(router, Account(client), RiskEngine(limits or RiskLimits()), settings, SystemClock())
    broker.bind("BTCUSDT", 0.0)
    return broker


def driver(url: str, strategy: Strategy, broker: SessionBroker) -> SessionDriver:
    fetch = gateway_bar_fetch(ExchangeGateways({"binance": url}))("binance")
    return SessionDriver(IncrementalEvaluator(strategy, CandleSeries.empty(M1)),
                         MarketBars("binance", "BTCUSDT", fetch), broker, M1)


async def run_stream(url: str, drivers: list[SessionDriver], until: Any, timeout_s: float = 30.0) -> None:
    """One kline stream handed, event by event, to every driver, until `until()` or the timeout."""
    queue: asyncio.Queue[Any] = asyncio.Queue()
    feed = BinanceKlineFeed("BTCUSDT", url, StreamPolicy(stall_s=5.0, backoff_initial_s=0.05, backoff_max_s=0.2))
    task = asyncio.create_task(feed.run(queue.put_nowait))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    try:
        while not until() and loop.time() < deadline:
            event = await queue.get()
            for d in drivers:
                await d.on_event(event)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_paper_and_live_sessions_of_one_strategy_on_one_stream_send_the_same_orders(db_path: Path) -> None:
    strategy = fast_cross()
    async with private_simulator(speed=900) as sim:
        client = BinancePrivateClient(API_KEY, SECRET, sim.url)
        try:
            live = driver(sim.url, strategy, live_broker(client, db_path, "cross-BTCUSDT-1m", strategy))
            paper = driver(sim.url, strategy, PaperSessionBroker(PaperBroker(PaperSettings(
                cash=10_000, position_size_pct=40, reverse=True), order_prefix="paper")))
            await run_stream(sim.url, [paper, live], lambda: len(live.sent) >= 5)
        finally:
            await client.aclose()
        state = await exchange_state(sim)
    assert len(live.sent) >= 5
    assert [o.shape for o in paper.sent] == [o.shape for o in live.sent]
    assert [o["client_id"] for o in state["orders"]] == [o.client_id for o in live.sent]
    assert all(o["status"] == "FILLED" for o in state["orders"])


async def test_an_entry_on_binance_is_protected_by_a_reduce_only_stop_held_by_the_exchange(db_path: Path) -> None:
    strategy = fast_cross(stop_loss_pct=2.0)
    async with private_simulator(speed=1.0) as sim:
        client = BinancePrivateClient(API_KEY, SECRET, sim.url)
        try:
            broker = live_broker(client, db_path, "stop-BTCUSDT-1m", strategy)
            price = sim.private.engine.price("binance", "BTCUSDT")
            await broker.on_price(0, price)
            sent = await broker.on_signal(SignalRow(True, False, False, False), 0)
            state = await exchange_state(sim)
        finally:
            await client.aclose()
    assert [o.shape for o in sent] == [("BUY", "MARKET", False), ("SELL", "STOP_MARKET", True)]
    (stop,) = state["open_orders"]
    assert stop["reduce_only"] and stop["type"] == "STOP_MARKET" and stop["quantity"] == broker.position > 0
    assert abs(stop["stop_price"] - broker.stop.current.stop_price) < 1e-9  # type: ignore[union-attr]
    assert abs(stop["stop_price"] / price - 0.98) < 0.005
    assert broker.status()["stop_held_by"] == "exchange"


async def test_on_upbit_the_stop_is_local_and_the_guardian_sends_the_exit(db_path: Path) -> None:
    async with private_simulator(speed=1.0) as sim:
        client = UpbitPrivateClient(API_KEY, SECRET, sim.url)
        try:
            gateway = UpbitOrderGateway(client, "KRW-BTC")
            router = OrderRouter(gateway, journal(db_path), SystemClock(), "guard-KRWBTC-1m")

            class Krw:
                async def equity(self, price: float) -> float:
                    return 1_000_000.0

            broker = LiveBroker(router, Krw(), RiskEngine(RiskLimits()), LiveSettings(50, 1.0, spot=True),
                                SystemClock())
            broker.bind("KRW-BTC", 0.0)
            price = sim.private.engine.price("upbit", "KRW-BTC")
            await broker.on_price(0, price)
            entry = await broker.on_signal(SignalRow(True, False, False, False), 0)
            held = broker.position
            level = broker.guard_level
            above = await broker.on_price(1, level * 1.001)
            exit_ = await broker.on_price(2, level * 0.999)
            state = await exchange_state(sim)
        finally:
            await client.aclose()
    assert [o.shape for o in entry] == [("BUY", "MARKET", False)] and held > 0
    assert broker.status()["stop_held_by"] == "local" and abs(level / price - 0.99) < 0.005
    assert above == [] and [(o.shape, o.reason) for o in exit_] == [(("SELL", "MARKET", True), "stop")]
    assert state["open_orders"] == [] and broker.position == 0


async def test_a_breached_daily_loss_limit_halts_cancels_open_entries_and_keeps_the_stop(db_path: Path) -> None:
    strategy = fast_cross(stop_loss_pct=2.0)
    async with private_simulator(speed=1.0) as sim:
        client = BinancePrivateClient(API_KEY, SECRET, sim.url)
        try:
            broker = live_broker(client, db_path, "halt-BTCUSDT-1m", strategy, RiskLimits(daily_loss_limit=1.0))
            price = sim.private.engine.price("binance", "BTCUSDT")
            await broker.on_price(0, price)
            assert await broker.mark() == ""  # the day starts at the account's equity
            await broker.on_signal(SignalRow(True, False, False, False), 0)  # pays ~2 USDT of fees
            router = broker.router
            resting = await router.submit(OrderIntent(router.new_client_id(), "BTCUSDT", "BUY", "LIMIT", 0.01,
                                                      price=round(price * 0.8, 1)))
            reason = await broker.mark()
            after = await broker.on_signal(SignalRow(False, True, False, False), 1)
            again = await broker.on_signal(SignalRow(True, False, False, False), 2)
            state = await exchange_state(sim)
        finally:
            await client.aclose()
    assert "daily loss limit" in reason and broker.halted == reason
    assert [o.shape for o in after] == [("SELL", "MARKET", True)] and again == []  # exits allowed, entries not
    orders = {o["client_id"]: o["status"] for o in state["orders"]}
    assert orders[resting.client_id] == "CANCELED"
