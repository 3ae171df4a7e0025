"""The Binance private client against the simulator: signed requests, orders by client id, stops, the user stream."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.errors import ExchangeError
from infrastructure.exchanges.binance_private import BinancePrivateClient, FuturesOrder, parse_order_update
from infrastructure.exchanges.http import RetryPolicy
from infrastructure.exchanges.private_http import ExchangeRejected
from infrastructure.exchanges.private_streams import BinanceUserStream
from infrastructure.simulator import SimulatorServer
from tests.integration.private_sim import API_KEY, SECRET, WRONG_SECRET, exchange_state, private_simulator


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    async with private_simulator() as server:
        yield server


@pytest.fixture
async def client(sim: SimulatorServer) -> AsyncIterator[BinancePrivateClient]:
    c = BinancePrivateClient(API_KEY, SECRET, sim.url)
    yield c
    await c.aclose()


def price_now(sim: SimulatorServer, symbol: str = "BTCUSDT") -> float:
    return sim.private.engine.price("binance", symbol)


async def test_signed_requests_are_accepted_and_the_account_shows_the_provisioned_balance(
        client: BinancePrivateClient) -> None:
    account = await client.account()
    assert float(account["totalWalletBalance"]) == 10_000.0
    assert [(b.currency, b.free, b.locked) for b in await client.balances()] == [("USDT", 10_000.0, 0.0)]
    assert abs(client.clock.offset_ms) < 1_000


async def test_a_wrong_secret_is_refused_with_a_clear_message_and_no_order_is_placed(sim: SimulatorServer) -> None:
    wrong = BinancePrivateClient(API_KEY, WRONG_SECRET, sim.url)
    try:
        with pytest.raises(ExchangeRejected, match="secret does not belong to this API key") as err:
            await wrong.place_order(FuturesOrder("BTCUSDT", "BUY", "MARKET", 0.01, client_id="wrong-secret-1"))
    finally:
        await wrong.aclose()
    assert err.value.code == -1022
    assert WRONG_SECRET not in str(err.value)
    state = await exchange_state(sim)
    assert state["orders"] == [] and state["positions"] == []


async def test_clock_skew_is_refused_as_outside_the_recv_window_and_no_order_is_placed() -> None:
    async with private_simulator(clock_skew_ms=30_000) as sim:
        client = BinancePrivateClient(API_KEY, SECRET, sim.url)
        try:
            with pytest.raises(ExchangeRejected, match="clock differs from the exchange's") as err:
                await client.place_order(FuturesOrder("BTCUSDT", "BUY", "MARKET", 0.01, client_id="skewed-1"))
        finally:
            await client.aclose()
        assert err.value.code == -1021
        assert "measured offset" in str(err.value)
        assert (await exchange_state(sim))["orders"] == []


async def test_an_unsynchronised_clock_is_corrected_from_the_server_time_before_signing() -> None:
    async with private_simulator() as sim:
        client = BinancePrivateClient(API_KEY, SECRET, sim.url, local_ms=lambda: sim.private.clock.now_ms() - 45_000)
        try:
            order = await client.place_order(FuturesOrder("BTCUSDT", "BUY", "MARKET", 0.01, client_id="late-clock"))
        finally:
            await client.aclose()
        assert order.status == "FILLED"
        assert 44_000 < client.clock.offset_ms < 46_000


async def test_a_limit_order_is_placed_found_by_client_id_and_cancelled(sim: SimulatorServer,
                                                                        client: BinancePrivateClient) -> None:
    below = price_now(sim) * 0.9
    placed = await client.place_order(FuturesOrder("BTCUSDT", "BUY", "LIMIT", 0.0123456, below, client_id="qd-s1-1"))
    assert (placed.status, placed.client_id, placed.quantity) == ("NEW", "qd-s1-1", 0.012)
    assert placed.price == pytest.approx(below, abs=0.1) and placed.price <= below
    found = await client.get_order("BTCUSDT", client_id="qd-s1-1")
    assert found.order_id == placed.order_id
    assert [o.client_id for o in await client.open_orders("BTCUSDT")] == ["qd-s1-1"]
    state = await exchange_state(sim)
    assert set(state) == {"balances", "positions", "open_orders", "orders", "fills"}
    assert state["open_orders"] == [{"client_id": "qd-s1-1", "symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                     "reduce_only": False, "stop_price": None, "quantity": 0.012}]
    cancelled = await client.cancel_order("BTCUSDT", client_id="qd-s1-1")
    assert cancelled.status == "CANCELED"
    assert await client.open_orders("BTCUSDT") == []
    assert await client.find_order("BTCUSDT", client_id="never-sent") is None


async def test_a_market_order_opens_a_position_at_the_current_price_with_the_taker_fee(
        sim: SimulatorServer, client: BinancePrivateClient) -> None:
    price = price_now(sim)
    order = await client.place_order(FuturesOrder("BTCUSDT", "SELL", "MARKET", 0.05, client_id="short-1"))
    assert order.status == "FILLED" and order.avg_price == price
    [pos] = await client.positions("BTCUSDT")
    assert (pos.amount, pos.entry_price) == (-0.05, price)
    state = await exchange_state(sim)
    assert state["positions"] == [{"symbol": "BTCUSDT", "amount": -0.05, "entry_price": price}]
    [fill] = state["fills"]
    assert fill["fee"] == pytest.approx(price * 0.05 * 0.0005)
    assert state["balances"]["USDT"] == pytest.approx(10_000 - fill["fee"])


async def test_orders_the_exchange_refuses_carry_its_code_and_a_clear_message(
        sim: SimulatorServer, client: BinancePrivateClient) -> None:
    price = price_now(sim)
    cases: list[tuple[FuturesOrder, int, str]] = [
        (FuturesOrder("BTCUSDT", "BUY", "MARKET", 0.001, client_id="tiny"), -4164, "minimum"),
        (FuturesOrder("BTCUSDT", "SELL", "MARKET", 0.01, reduce_only=True, client_id="ro"), -2022, "no position"),
        (FuturesOrder("BTCUSDT", "BUY", "MARKET", 50.0, client_id="huge"), -2019, "margin is insufficient"),
        (FuturesOrder("BTCUSDT", "SELL", "STOP_MARKET", 0.01, stop_price=price * 1.01, client_id="wrong-side"),
         -2021, "trigger immediately"),
    ]
    for order, code, words in cases:
        with pytest.raises(ExchangeRejected, match=words) as err:
            await client.place_order(order)
        assert err.value.code == code
    assert (await exchange_state(sim))["orders"] == []


async def test_a_second_close_position_stop_in_the_same_direction_is_refused_with_4130(
        sim: SimulatorServer, client: BinancePrivateClient) -> None:
    price = price_now(sim)
    await client.place_order(FuturesOrder("BTCUSDT", "BUY", "MARKET", 0.01, client_id="long"))
    stop = FuturesOrder("BTCUSDT", "SELL", "STOP_MARKET", stop_price=price * 0.95, close_position=True,
                        client_id="stop-a")
    await client.place_order(stop)
    with pytest.raises(ExchangeRejected, match="place the new one before cancelling the old") as err:
        await client.place_order(FuturesOrder("BTCUSDT", "SELL", "STOP_MARKET", stop_price=price * 0.96,
                                              close_position=True, client_id="stop-b"))
    assert err.value.code == -4130
    moved = await client.place_order(FuturesOrder("BTCUSDT", "SELL", "STOP_MARKET", 0.01, stop_price=price * 0.96,
                                                  reduce_only=True, client_id="stop-c"))
    assert moved.reduce_only
    state = await exchange_state(sim)
    assert sorted(o["client_id"] for o in state["open_orders"]) == ["stop-a", "stop-c"]
    assert all(o["reduce_only"] for o in state["open_orders"])


async def test_below_minimum_orders_are_refused_before_anything_is_sent(sim: SimulatorServer,
                                                                       client: BinancePrivateClient) -> None:
    with pytest.raises(ExchangeError, match="below the minimum notional 100 USDT"):
        await client.place_order(FuturesOrder("BTCUSDT", "BUY", "LIMIT", 0.001, 20_000.0, client_id="small"))
    assert sim.state.log.count("binance.private") == 0  # not even the server time: nothing signed was sent
    assert (await exchange_state(sim))["orders"] == []


async def test_an_order_whose_answer_is_lost_is_found_by_client_id_not_sent_twice(
        sim: SimulatorServer, client: BinancePrivateClient) -> None:
    sim.private.script_fault("accept_drop")
    order = await client.place_order(FuturesOrder("BTCUSDT", "BUY", "MARKET", 0.01, client_id="dropped-1"))
    assert order.client_id == "dropped-1" and order.status == "FILLED"
    state = await exchange_state(sim)
    assert [o["client_id"] for o in state["orders"]] == ["dropped-1"]
    assert state["positions"][0]["amount"] == 0.01


async def test_a_late_acknowledgement_is_resolved_by_lookup_without_a_duplicate() -> None:
    async with private_simulator(ack_delay_s=1.5) as sim:
        client = BinancePrivateClient(API_KEY, SECRET, sim.url, policy=RetryPolicy(attempts=3, timeout_s=0.5))
        sim.private.script_fault("delay_ack")
        try:
            order = await client.place_order(FuturesOrder("BTCUSDT", "BUY", "MARKET", 0.01, client_id="late-ack"))
        finally:
            await client.aclose()
        assert order.client_id == "late-ack"
        assert len((await exchange_state(sim))["orders"]) == 1


async def test_leverage_margin_type_and_brackets_are_set_and_read(client: BinancePrivateClient) -> None:
    assert await client.set_leverage("BTCUSDT", 10) == 10
    with pytest.raises(ExchangeRejected, match="leverage is not allowed") as err:
        await client.set_leverage("BTCUSDT", 200)
    assert err.value.code == -4028
    assert await client.set_margin_type("BTCUSDT", "ISOLATED") is True
    assert await client.set_margin_type("BTCUSDT", "ISOLATED") is False
    first = (await client.leverage_brackets("BTCUSDT"))[0]
    assert (first["notionalCap"], first["initialLeverage"], first["maintMarginRatio"], first["cum"]) == \
        (50_000, 125, 0.004, 0)
    [pos] = await client.positions("BTCUSDT")
    assert (pos.leverage, pos.margin_type) == (10, "isolated")


async def test_order_answers_report_the_order_rate_and_the_client_keeps_count(
        sim: SimulatorServer, client: BinancePrivateClient) -> None:
    for i in range(3):
        await client.place_order(FuturesOrder("BTCUSDT", "BUY", "LIMIT", 0.01, price_now(sim) * 0.9,
                                              client_id=f"rate-{i}"))
    assert client.order_rate._count(10.0, time.monotonic()) == 3
    assert sim.private.binance_order_counts(sim.private.book.accounts[API_KEY], new_order=False)[0] == {
        "X-MBX-ORDER-COUNT-10S": "3", "X-MBX-ORDER-COUNT-1M": "3"}


async def test_a_stop_triggers_on_the_market_and_the_user_stream_delivers_its_fill() -> None:
    async with private_simulator(speed=600.0) as sim:
        client = BinancePrivateClient(API_KEY, SECRET, sim.url)
        try:
            async with BinanceUserStream(client) as stream:
                price = price_now(sim)
                for side, stop in (("BUY", price * 1.0005), ("SELL", price * 0.9995)):
                    await client.place_order(FuturesOrder("BTCUSDT", side, "STOP_MARKET", 0.01,
                                                          stop_price=round(stop, 1), client_id=f"stop-{side}"))
                fill = await asyncio.wait_for(_first_fill(stream), timeout=20)
            state = await exchange_state(sim)
        finally:
            await client.aclose()
        assert fill.type == "STOP_MARKET" and fill.status == "FILLED" and fill.executed == 0.01
        triggered = next(o for o in state["orders"] if o["client_id"] == fill.client_id)
        assert triggered["status"] == "FILLED"
        signed = 0.01 if fill.side == "BUY" else -0.01
        assert state["positions"] == [{"symbol": "BTCUSDT", "amount": signed, "entry_price": fill.avg_price}]
        assert [f["client_id"] for f in state["fills"]] == [fill.client_id]


async def _first_fill(stream: BinanceUserStream) -> Any:
    async for event in stream.events():
        if event.get("e") == "ORDER_TRADE_UPDATE" and event["o"]["x"] == "TRADE":
            return parse_order_update(event)
    raise AssertionError("the stream ended without a fill")
