"""The simulator's matching seen through the private clients: partial fills, realised PnL, account events."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from app.errors import ExchangeError
from infrastructure.exchanges.binance_private import BinancePrivateClient, FuturesOrder
from infrastructure.exchanges.private_http import ExchangeRejected
from infrastructure.exchanges.private_streams import BinanceUserStream
from infrastructure.simulator import SimulatorServer
from tests.integration.private_sim import API_KEY, SECRET, exchange_state, private_simulator


async def _wait_for(sim: SimulatorServer, ready: Any, timeout_s: float = 20.0) -> dict[str, Any]:
    for _ in range(int(timeout_s / 0.1)):
        state = await exchange_state(sim)
        if ready(state):
            return state
        await asyncio.sleep(0.1)
    raise AssertionError(f"the exchange never reached the expected state: {state}")


async def test_a_large_resting_limit_fills_in_parts_at_its_price_with_the_maker_fee() -> None:
    async with private_simulator(speed=600.0) as sim:
        client = BinancePrivateClient(API_KEY, SECRET, sim.url)
        try:
            price = sim.private.engine.price("binance", "BTCUSDT")
            limit, qty = round(price * 0.9995, 1), round(150_000 / price, 3)
            await client.place_order(FuturesOrder("BTCUSDT", "BUY", "LIMIT", qty, limit, client_id="big-bid"))
            state = await _wait_for(sim, lambda s: len(s["fills"]) >= 2)
            order = await client.get_order("BTCUSDT", client_id="big-bid")
        finally:
            await client.aclose()
    fills = [f for f in state["fills"] if f["client_id"] == "big-bid"]
    assert all(f["price"] == limit and f["maker"] for f in fills)
    assert all(f["fee"] == pytest.approx(f["price"] * f["quantity"] * 0.0002) for f in fills)
    assert 0 < fills[0]["quantity"] < qty
    assert order.status in ("PARTIALLY_FILLED", "FILLED") and order.executed >= sum(f["quantity"] for f in fills)


async def test_closing_a_long_with_reduce_only_realises_the_price_difference_into_the_wallet() -> None:
    async with private_simulator(speed=600.0) as sim:
        client = BinancePrivateClient(API_KEY, SECRET, sim.url)
        try:
            await client.place_order(FuturesOrder("BTCUSDT", "BUY", "MARKET", 0.1, client_id="open"))
            await asyncio.sleep(0.5)  # five simulated minutes
            with pytest.raises(ExchangeRejected, match="no position it would reduce"):
                await client.place_order(FuturesOrder("BTCUSDT", "BUY", "MARKET", 0.1, reduce_only=True,
                                                      client_id="wrong-way"))
            await client.place_order(FuturesOrder("BTCUSDT", "SELL", "MARKET", 0.1, reduce_only=True,
                                                  client_id="close"))
            state = await exchange_state(sim)
        finally:
            await client.aclose()
    opened, closed = state["fills"]
    assert closed["realized"] == pytest.approx((closed["price"] - opened["price"]) * 0.1)
    assert state["positions"] == []
    assert state["balances"]["USDT"] == pytest.approx(10_000 + closed["realized"] - opened["fee"] - closed["fee"])


async def test_a_fill_reaches_the_user_stream_as_order_and_account_updates() -> None:
    async with private_simulator() as sim:
        client = BinancePrivateClient(API_KEY, SECRET, sim.url)
        try:
            async with BinanceUserStream(client) as stream:
                await client.place_order(FuturesOrder("BTCUSDT", "BUY", "MARKET", 0.02, client_id="streamed"))
                events = await asyncio.wait_for(_take(stream, 3), 10)
        finally:
            await client.aclose()
    new, trade, account = events
    assert (new["e"], new["o"]["x"], new["o"]["c"]) == ("ORDER_TRADE_UPDATE", "NEW", "streamed")
    assert (trade["o"]["x"], trade["o"]["X"], trade["o"]["l"]) == ("TRADE", "FILLED", "0.02")
    assert account["e"] == "ACCOUNT_UPDATE" and account["a"]["m"] == "ORDER"
    assert account["a"]["P"][0]["pa"] == "0.02" and account["a"]["P"][0]["ep"] == trade["o"]["L"]


async def test_an_expired_listen_key_ends_the_user_stream_with_listen_key_expired() -> None:
    async with private_simulator(listen_key_ttl_s=0.3) as sim:
        client = BinancePrivateClient(API_KEY, SECRET, sim.url)
        try:
            async with BinanceUserStream(client) as stream:
                events = await asyncio.wait_for(_take(stream, 10), 10)
        finally:
            await client.aclose()
    assert [e["e"] for e in events] == ["listenKeyExpired"]
    assert events[0]["listenKey"] == stream.listen_key


async def _take(stream: BinanceUserStream, n: int) -> list[dict[str, Any]]:
    out = []
    async for event in stream.events():
        out.append(event)
        if len(out) == n:
            break
    return out


async def test_orders_whose_answers_are_often_lost_are_each_placed_exactly_once(
        caplog: pytest.LogCaptureFixture) -> None:
    async with private_simulator(order_fault_rate=0.5, order_faults=("accept_drop",), seed=7) as sim:
        client = BinancePrivateClient(API_KEY, SECRET, sim.url)
        try:
            with caplog.at_level(logging.DEBUG):
                for i in range(12):
                    await client.place_order(FuturesOrder("BTCUSDT", "BUY", "MARKET", 0.01, client_id=f"lossy-{i}"))
            state = await exchange_state(sim)
        finally:
            await client.aclose()
    assert sim.private.injected["accept_drop"] >= 3
    assert sorted(o["client_id"] for o in state["orders"]) == sorted(f"lossy-{i}" for i in range(12))
    assert state["positions"][0]["amount"] == pytest.approx(0.12)
    assert SECRET not in caplog.text and API_KEY not in caplog.text


async def test_ioc_limits_never_rest_and_post_only_limits_that_would_trade_are_rejected() -> None:
    async with private_simulator() as sim:
        client = BinancePrivateClient(API_KEY, SECRET, sim.url)
        price = sim.private.engine.price("binance", "BTCUSDT")
        try:
            far = await client.place_order(FuturesOrder("BTCUSDT", "BUY", "LIMIT", 0.01, price * 0.9,
                                                        client_id="ioc", time_in_force="IOC"))
            with pytest.raises(ExchangeRejected, match="post-only") as err:
                await client.place_order(FuturesOrder("BTCUSDT", "BUY", "LIMIT", 0.01, price * 1.01,
                                                      client_id="gtx", time_in_force="GTX"))
            state = await exchange_state(sim)
        finally:
            await client.aclose()
    assert far.status == "EXPIRED" and far.executed == 0
    assert err.value.code == -5022
    assert state["open_orders"] == []


async def test_a_user_stream_on_an_unknown_listen_key_is_refused() -> None:
    async with private_simulator() as sim:
        client = BinancePrivateClient(API_KEY, SECRET, sim.url)
        stream = BinanceUserStream(client)
        try:
            with pytest.raises(ExchangeError, match="HTTP 400"):
                await stream._open(f"{sim.url.replace('http', 'ws')}/ws/{'x' * 64}")
        finally:
            await client.aclose()


@pytest.mark.parametrize(("side", "margin_type"), [("BUY", "ISOLATED"), ("SELL", "ISOLATED"), ("BUY", "CROSSED")])
async def test_the_liquidation_price_is_where_margin_plus_pnl_meets_the_maintenance_margin(
        side: str, margin_type: str) -> None:
    async with private_simulator() as sim:
        client = BinancePrivateClient(API_KEY, SECRET, sim.url)
        try:
            await client.set_leverage("BTCUSDT", 10)
            if margin_type == "ISOLATED":
                await client.set_margin_type("BTCUSDT", "ISOLATED")
            await client.place_order(FuturesOrder("BTCUSDT", side, "MARKET", 0.5, client_id="levered"))
            [pos] = await client.positions("BTCUSDT")
            notional = abs(pos.amount) * pos.entry_price
            bracket = next(b for b in await client.leverage_brackets("BTCUSDT") if notional < b["notionalCap"])
            wallet = float((await client.account())["totalWalletBalance"])
        finally:
            await client.aclose()
    liq = pos.liquidation_price
    assert liq > 0
    margin = abs(pos.amount) * pos.entry_price / 10 if margin_type == "ISOLATED" else wallet
    equity_at_liq = margin + (liq - pos.entry_price) * pos.amount
    maintenance = abs(pos.amount) * liq * bracket["maintMarginRatio"] - bracket["cum"]
    assert equity_at_liq == pytest.approx(maintenance, rel=1e-9)
    assert (liq < pos.entry_price) == (side == "BUY")
