"""The Upbit private client against the simulator: JWTs, nonces, identifiers, KRW units, the private websocket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from app.errors import ExchangeError
from infrastructure.exchanges.private_http import ExchangeRejected
from infrastructure.exchanges.private_streams import UpbitPrivateStream
from infrastructure.exchanges.signing import UpbitSigner
from infrastructure.exchanges.upbit_private import SpotOrder, UpbitPrivateClient, krw_price
from infrastructure.simulator import SimulatorServer
from tests.integration.private_sim import API_KEY, SECRET, WRONG_SECRET, exchange_state, private_simulator


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    async with private_simulator() as server:
        yield server


@pytest.fixture
async def client(sim: SimulatorServer) -> AsyncIterator[UpbitPrivateClient]:
    c = UpbitPrivateClient(API_KEY, SECRET, sim.url)
    yield c
    await c.aclose()


def price_now(sim: SimulatorServer, market: str = "KRW-BTC") -> float:
    return sim.private.engine.price("upbit", market)


async def test_jwt_signed_requests_are_accepted_and_show_the_krw_balance(client: UpbitPrivateClient) -> None:
    balances = {b.currency: b for b in await client.balances()}
    assert balances["KRW"].free == 10_000_000 and balances["KRW"].locked == 0
    chance = await client.chance("KRW-BTC")
    assert chance["market"]["bid"]["min_total"] == "5000" and chance["bid_fee"] == "0.0005"


async def test_a_wrong_secret_is_refused_as_a_bad_jwt_and_no_order_is_placed(sim: SimulatorServer) -> None:
    wrong = UpbitPrivateClient(API_KEY, WRONG_SECRET, sim.url)
    try:
        with pytest.raises(ExchangeRejected, match="secret does not belong to this access key") as err:
            await wrong.place_order(SpotOrder("KRW-BTC", "bid", "price", funds=10_000, identifier="bad-jwt"))
    finally:
        await wrong.aclose()
    assert err.value.code == "jwt_verification"
    assert WRONG_SECRET not in str(err.value)
    assert (await exchange_state(sim))["orders"] == []


async def test_a_reused_nonce_is_refused_and_the_replayed_order_is_not_placed(sim: SimulatorServer) -> None:
    replaying = UpbitPrivateClient(API_KEY, SECRET, sim.url)
    replaying.signer = UpbitSigner(API_KEY, SECRET, new_nonce=lambda: "the-same-nonce")
    try:
        await replaying.balances()
        with pytest.raises(ExchangeRejected, match="nonce was used before") as err:
            await replaying.place_order(SpotOrder("KRW-BTC", "bid", "price", funds=10_000, identifier="replay"))
    finally:
        await replaying.aclose()
    assert err.value.code == "nonce_used"
    assert (await exchange_state(sim))["orders"] == []


async def test_a_query_hash_that_does_not_match_the_parameters_is_refused(sim: SimulatorServer) -> None:
    token = UpbitSigner(API_KEY, SECRET).token({"market": "KRW-ETH"})
    async with aiohttp.ClientSession() as session, session.get(
            f"{sim.url}/v1/orders/chance", params={"market": "KRW-BTC"},
            headers={"Authorization": f"Bearer {token}"}) as resp:
        body = await resp.json()
    assert resp.status == 401 and body["error"]["name"] == "invalid_query_payload"


async def test_a_limit_order_is_placed_found_by_identifier_and_cancelled(sim: SimulatorServer,
                                                                          client: UpbitPrivateClient) -> None:
    below = price_now(sim) * 0.9
    placed = await client.place_order(SpotOrder("KRW-BTC", "bid", "limit", volume=0.001, price=below + 123,
                                                identifier="qd-u1-1"))
    assert (placed.status, placed.client_id) == ("NEW", "qd-u1-1")
    assert placed.price % 1000 == 0 and placed.price <= below + 123
    found = await client.get_order(identifier="qd-u1-1")
    assert found.order_id == placed.order_id
    assert [o.client_id for o in await client.open_orders("KRW-BTC")] == ["qd-u1-1"]
    krw = {b.currency: b for b in await client.balances()}["KRW"]
    assert krw.locked == pytest.approx(placed.price * 0.001 * 1.0005)
    assert krw.free + krw.locked == pytest.approx(10_000_000)
    cancelled = await client.cancel_order(identifier="qd-u1-1")
    assert cancelled.status == "CANCELED"
    assert (await exchange_state(sim))["open_orders"] == []
    assert {b.currency: b for b in await client.balances()}["KRW"].locked == 0
    with pytest.raises(ExchangeRejected, match="identifier was used before") as err:
        await client.place_order(SpotOrder("KRW-BTC", "bid", "limit", volume=0.001, price=below,
                                           identifier="qd-u1-1"))
    assert err.value.code == "duplicate_identifier"


async def test_market_buy_by_krw_amount_and_market_sell_by_volume_settle_with_fees(
        sim: SimulatorServer, client: UpbitPrivateClient) -> None:
    price = price_now(sim)
    bought = await client.place_order(SpotOrder("KRW-BTC", "bid", "price", funds=1_000_000, identifier="buy-1"))
    assert bought.status == "FILLED" and bought.executed == pytest.approx(1_000_000 / price, rel=1e-6)
    sold = await client.place_order(SpotOrder("KRW-BTC", "ask", "market", volume=bought.executed / 2,
                                              identifier="sell-1"))
    assert sold.status == "FILLED"
    state = await exchange_state(sim)
    fees = sum(f["fee"] for f in state["fills"])
    assert fees == pytest.approx(1_000_000 * 0.0005 + price * bought.executed / 2 * 0.0005, rel=1e-6)
    assert state["balances"]["BTC"] == pytest.approx(bought.executed / 2, abs=1e-8)
    spent = sum(f["price"] * f["quantity"] for f in state["fills"] if f["side"] == "BUY")
    received = sum(f["price"] * f["quantity"] for f in state["fills"] if f["side"] == "SELL")
    assert 1_000_000 - price * 1e-8 < spent <= 1_000_000  # whole satoshis for at most the amount given
    assert state["balances"]["KRW"] == pytest.approx(10_000_000 - spent + received - fees, abs=1e-6)


async def test_krw_price_units_and_the_5000_minimum_are_applied_before_sending(sim: SimulatorServer,
                                                                               client: UpbitPrivateClient) -> None:
    assert [str(krw_price(p, "bid")) for p in (41_234_567, 1_234_567, 123_456, 12_345.6, 1_234.5, 123.45)] == \
        ["41234000", "1234500", "123450", "12340", "1234", "123.4"]
    assert str(krw_price(1_234_567, "ask")) == "1235000"
    with pytest.raises(ExchangeError, match="below Upbit's minimum of 5,000 KRW"):
        await client.place_order(SpotOrder("KRW-XRP", "bid", "limit", volume=5, price=600.0, identifier="small"))
    assert sim.state.log.count("upbit.private") == 0
    raw = {"market": "KRW-BTC", "side": "bid", "ord_type": "limit", "price": "40000500", "volume": "0.001"}
    with pytest.raises(ExchangeRejected, match="KRW price unit") as err:  # what the exchange says when not rounded
        await client.request("POST", "/v1/orders", raw, order_group=True)
    assert err.value.code == "invalid_price_bid"


async def test_an_order_whose_answer_is_lost_is_found_by_identifier_not_sent_twice(
        sim: SimulatorServer, client: UpbitPrivateClient) -> None:
    sim.private.script_fault("accept_drop")
    order = await client.place_order(SpotOrder("KRW-BTC", "bid", "price", funds=50_000, identifier="dropped-u"))
    assert order.client_id == "dropped-u" and order.status == "FILLED"
    assert [o["client_id"] for o in (await exchange_state(sim))["orders"]] == ["dropped-u"]


async def test_order_answers_carry_the_order_groups_remaining_requests(sim: SimulatorServer) -> None:
    signer = UpbitSigner(API_KEY, SECRET)
    async with aiohttp.ClientSession() as session, session.get(
            f"{sim.url}/v1/orders/open", headers=signer.headers()) as resp:
        assert resp.status == 200
        assert resp.headers["Remaining-Req"] == "group=default; min=1800; sec=29"


async def test_the_private_websocket_delivers_my_order_and_my_asset_on_a_fill() -> None:
    async with private_simulator(speed=60.0) as sim:
        client = UpbitPrivateClient(API_KEY, SECRET, sim.url)
        try:
            async with UpbitPrivateStream(UpbitSigner(API_KEY, SECRET), sim.url, codes=("KRW-BTC",)) as stream:
                account = sim.private.book.accounts[API_KEY]
                while not account.subscribers:  # the subscription request is on its way
                    await asyncio.sleep(0.01)
                await client.place_order(SpotOrder("KRW-BTC", "bid", "price", funds=20_000, identifier="ws-1"))
                seen = await asyncio.wait_for(_until_done(stream), 10)
        finally:
            await client.aclose()
        assert {m["type"] for m in seen} == {"myOrder", "myAsset"}
        orders = [m for m in seen if m["type"] == "myOrder"]
        assert orders[0]["state"] == "wait" and orders[-1]["state"] == "done"
        assert orders[-1]["identifier"] == "ws-1" and orders[-1]["paid_fee"] == pytest.approx(20_000 * 0.0005, rel=1e-4)
        assets = [m for m in seen if m["type"] == "myAsset"]
        assert {a["currency"] for a in assets[-1]["assets"]} == {"BTC", "KRW"}
        state = await exchange_state(sim)
        assert state["fills"][0]["client_id"] == "ws-1"


async def _until_done(stream: UpbitPrivateStream) -> list[dict[str, Any]]:
    seen = []
    async for message in stream.events():
        seen.append(message)
        if message["type"] == "myAsset" and any(m.get("state") == "done" for m in seen):
            return seen
    raise AssertionError("the stream ended before the order was done")


async def test_a_burst_of_orders_is_paced_under_the_order_groups_limit_without_a_429(
        sim: SimulatorServer, client: UpbitPrivateClient) -> None:
    below = price_now(sim) * 0.8
    started = asyncio.get_running_loop().time()
    for i in range(12):
        await client.place_order(SpotOrder("KRW-BTC", "bid", "limit", volume=0.0005, price=below,
                                           identifier=f"burst-{i}"))
    elapsed = asyncio.get_running_loop().time() - started
    assert sim.state.log.count("upbit.private", 429) == 0
    assert sim.state.log.count("upbit.private", 201) == 12
    assert elapsed >= 0.9  # 8 a second: the last four waited for the first answers to age a second


async def test_the_private_websocket_refuses_a_jwt_signed_with_the_wrong_secret(sim: SimulatorServer) -> None:
    with pytest.raises(ExchangeError, match="private stream refused \\(HTTP 401\\)") as err:
        async with UpbitPrivateStream(UpbitSigner(API_KEY, WRONG_SECRET), sim.url):
            pass
    assert WRONG_SECRET not in str(err.value)
    assert sim.private.book.accounts[API_KEY].subscribers == []
