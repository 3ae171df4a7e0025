"""Live orders through the router, the journal and the private clients, against the simulator on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

from app.live.trading.kill import kill
from app.live.trading.ports import OrderIntent
from app.live.trading.router import OrderRouter
from app.live.trading.stops import ExchangeStop
from infrastructure.clock import SystemClock
from infrastructure.db.engine import create_sqlite_engine
from infrastructure.db.migrate import upgrade_to_head
from infrastructure.db.orders import SqlOrderJournal
from infrastructure.exchanges.binance_private import BinancePrivateClient
from infrastructure.exchanges.order_gateways import BinanceOrderGateway, UpbitOrderGateway
from infrastructure.exchanges.upbit_private import UpbitPrivateClient
from tests.integration.private_sim import API_KEY, SECRET, exchange_state, private_simulator

SESSION = "ema-BTCUSDT-1m"


def journal(db_path: Path) -> SqlOrderJournal:
    engine = create_sqlite_engine(db_path)
    upgrade_to_head(engine)
    return SqlOrderJournal(engine)


async def test_an_entry_whose_answer_is_dropped_is_placed_once_and_journaled(db_path: Path) -> None:
    async with private_simulator() as sim:
        client = BinancePrivateClient(API_KEY, SECRET, sim.url)
        try:
            router = OrderRouter(BinanceOrderGateway(client, "BTCUSDT"), journal(db_path), SystemClock(), SESSION)
            sim.private.script_fault("accept_drop")
            report = await router.submit(OrderIntent(router.new_client_id(), "BTCUSDT", "BUY", "MARKET", 0.01))
        finally:
            await client.aclose()
        state = await exchange_state(sim)
    assert [o["client_id"] for o in state["orders"]] == [report.client_id] == ["ema-BTCUSDT-1m-1"]
    assert state["positions"][0]["amount"] == 0.01
    assert router.journal.unresolved(SESSION) == []


async def test_a_trailing_stop_moved_a_hundred_times_is_always_held_by_the_exchange(db_path: Path) -> None:
    async with private_simulator() as sim:
        client = BinancePrivateClient(API_KEY, SECRET, sim.url)
        try:
            router = OrderRouter(BinanceOrderGateway(client, "BTCUSDT"), journal(db_path), SystemClock(), SESSION)
            await router.submit(OrderIntent(router.new_client_id(), "BTCUSDT", "BUY", "MARKET", 0.01))
            price = sim.private.engine.price("binance", "BTCUSDT")
            stop = ExchangeStop(router, "BTCUSDT")
            await stop.place("SELL", 0.01, round(price * 0.95, 1))
            held = []
            for i in range(100):
                await stop.move(round(price * 0.95 + i * 0.1, 1))
                stops = [o for o in (await exchange_state(sim))["open_orders"] if o["type"] == "STOP_MARKET"]
                held.append((len(stops), stops[0]["reduce_only"], stops[0]["stop_price"]))
        finally:
            await client.aclose()
    assert all(n == 1 and reduce_only for n, reduce_only, _ in held)
    assert held[-1][2] == round(price * 0.95 + 9.9, 1)


async def test_the_kill_switch_leaves_no_open_order_and_no_position_at_the_exchange(db_path: Path) -> None:
    async with private_simulator(speed=1.0) as sim:
        client = BinancePrivateClient(API_KEY, SECRET, sim.url)
        try:
            gateway = BinanceOrderGateway(client, "BTCUSDT")
            router = OrderRouter(gateway, journal(db_path), SystemClock(), SESSION)
            price = sim.private.engine.price("binance", "BTCUSDT")
            await router.submit(OrderIntent(router.new_client_id(), "BTCUSDT", "BUY", "MARKET", 0.02))
            await router.submit(OrderIntent(router.new_client_id(), "BTCUSDT", "SELL", "STOP_MARKET", 0.02,
                                            stop_price=round(price * 0.9, 1), reduce_only=True))
            await router.submit(OrderIntent(router.new_client_id(), "BTCUSDT", "BUY", "LIMIT", 0.01,
                                            price=round(price * 0.8, 1)))
            report = await kill(gateway, ("ema-BTCUSDT-1m-",), router.new_client_id())
        finally:
            await client.aclose()
        state = await exchange_state(sim)
    assert report.clean and len(report.cancelled) == 2
    assert state["open_orders"] == [] and all(p["amount"] == 0 for p in state["positions"])


async def test_upbit_has_no_exchange_stops_and_its_position_is_the_coin_held(db_path: Path) -> None:
    async with private_simulator() as sim:
        client = UpbitPrivateClient(API_KEY, SECRET, sim.url)
        try:
            gateway = UpbitOrderGateway(client, "KRW-BTC")
            router = OrderRouter(gateway, journal(db_path), SystemClock(), "scale-KRW-BTC-1m")
            await router.submit(OrderIntent(router.new_client_id(), "KRW-BTC", "BUY", "MARKET", quote_amount=100_000))
            position = await gateway.position()
            report = await kill(gateway, ("scale-KRW-BTC-1m-",), router.new_client_id())
        finally:
            await client.aclose()
    assert not gateway.holds_stops and position.amount > 0
    assert report.clean
