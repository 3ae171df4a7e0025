"""No duplicate order: Upbit's late acknowledgements, and a process killed (-9) between send and acknowledgement."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from app.live.trading.router import OrderRouter
from infrastructure.clock import SystemClock
from infrastructure.db.engine import create_sqlite_engine
from infrastructure.db.migrate import upgrade_to_head
from infrastructure.db.orders import SqlOrderJournal
from infrastructure.exchanges.http import RetryPolicy
from infrastructure.exchanges.upbit_private import SpotOrder, UpbitPrivateClient
from infrastructure.simulator import SimulatorConfig, SimulatorServer
from infrastructure.simulator.private.accounts import AccountSpec
from tests.integration.order_child import gateway
from tests.integration.private_sim import API_KEY, SECRET, START, exchange_state, private_simulator

ROOT = Path(__file__).parents[2]


async def test_an_upbit_acknowledgement_held_back_is_found_by_its_identifier_and_not_sent_again() -> None:
    async with private_simulator(ack_delay_s=1.5) as sim:
        client = UpbitPrivateClient(API_KEY, SECRET, sim.url, policy=RetryPolicy(attempts=3, timeout_s=0.5))
        sim.private.script_fault("delay_ack")
        try:
            order = await client.place_order(SpotOrder("KRW-BTC", "bid", "price", funds=50_000, identifier="late-1"))
        finally:
            await client.aclose()
        state = await exchange_state(sim)
    assert sim.private.injected["delay_ack"] == 1
    assert order.client_id == "late-1" and order.status == "FILLED"
    assert [o["client_id"] for o in state["orders"]] == ["late-1"]
    assert sim.state.log.count("upbit.private", 201) == 1  # one order placed; the lookup found it


class LateArrival:
    """Holds the first POST /v1/orders back until the client has looked the order up and found nothing, then
    delivers the very same request (headers, JWT, body) to the exchange before the client's resend: the resend
    then meets Upbit's duplicate-identifier refusal."""

    REPLAY = "X-Test-Late-Replay"

    def __init__(self) -> None:
        self.url = ""
        self.looked_up = asyncio.Event()
        self.first_done = asyncio.Event()
        self.posts: list[int] = []  # the status of each order request, in the order the exchange answered them
        self.held = False

    @property
    def middleware(self) -> Any:
        @web.middleware
        async def late(request: web.Request, handler: Any) -> web.StreamResponse:
            if request.path == "/v1/order" and request.method == "GET":
                response = await handler(request)
                self.looked_up.set()
                return response
            if request.path != "/v1/orders" or request.method != "POST" or self.REPLAY in request.headers:
                return await handler(request)
            if not self.held:  # the first attempt: on its way, slowly
                self.held = True
                body = await request.read()
                await self.looked_up.wait()
                status = await self._deliver(request, body)
                self.posts.append(status)
                self.first_done.set()
                return web.Response(status=status)  # nobody is listening any more
            await self.first_done.wait()
            try:
                response = await handler(request)
            except web.HTTPException as err:
                response = err
            self.posts.append(response.status)
            return response

        return late

    async def _deliver(self, request: web.Request, body: bytes) -> int:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        async with aiohttp.ClientSession() as session, session.post(
                self.url + request.path_qs, data=body, headers={**headers, self.REPLAY: "1"}) as resp:
            return resp.status


async def test_an_upbit_order_arriving_after_its_lookup_makes_the_resend_a_duplicate_that_leads_to_it() -> None:
    from infrastructure.simulator.state import fixed_clock

    sim = SimulatorServer(SimulatorConfig(clock=fixed_clock(START), accounts=(AccountSpec(API_KEY, SECRET),)))
    late = LateArrival()
    sim.app.middlewares.append(late.middleware)
    late.url = await sim.start()
    client = UpbitPrivateClient(API_KEY, SECRET, sim.url, policy=RetryPolicy(attempts=3, timeout_s=0.5))
    try:
        order = await client.place_order(SpotOrder("KRW-BTC", "bid", "price", funds=50_000, identifier="slow-1"))
        state = await exchange_state(sim)
    finally:
        await client.aclose()
        await sim.stop()
    assert late.posts == [201, 400]  # the late first attempt placed it; the resend was refused as a duplicate
    assert sim.private.book.accounts[API_KEY].identifiers == {"slow-1"}  # both attempts carried one identifier
    assert [o["client_id"] for o in state["orders"]] == ["slow-1"]
    assert order.client_id == "slow-1" and order.status == "FILLED"  # the order that arrived, as the exchange has it
    assert order.executed == pytest.approx(state["fills"][0]["quantity"])


@pytest.mark.parametrize("exchange", ["binance", "upbit"])
async def test_a_process_killed_between_send_and_acknowledgement_is_resolved_on_restart_without_a_duplicate(
        exchange: str, tmp_path: Path) -> None:
    db = tmp_path / "orders.db"
    upgrade_to_head(create_sqlite_engine(db))
    session = f"k9-{exchange}"
    async with private_simulator(ack_delay_s=4.0) as sim:
        sim.private.script_fault("delay_ack")  # the exchange takes the order; its answer is held back
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "tests.integration.order_child", exchange,
                                                    sim.url, str(db), session, cwd=ROOT, env=env)
        journal = SqlOrderJournal(create_sqlite_engine(db))
        try:
            for _ in range(300):  # the order is at the exchange, its answer not yet at the process
                if (await exchange_state(sim))["orders"]:
                    break
                await asyncio.sleep(0.05)
            pending = journal.unresolved(session)
            os.kill(proc.pid, signal.SIGKILL)
            assert await proc.wait() == -signal.SIGKILL
        finally:
            if proc.returncode is None:
                proc.kill()
        gw, client = gateway(exchange, sim.url)
        try:
            recovered = await OrderRouter(gw, journal, SystemClock(), session).recover()
        finally:
            await client.aclose()
        state = await exchange_state(sim)
    assert [i.client_id for i in pending] == [f"{session}-1"]  # journaled before it was sent, no answer recorded
    assert [r.client_id for r in recovered] == [f"{session}-1"] and recovered[0].status == "FILLED"
    assert [o["client_id"] for o in state["orders"]] == [f"{session}-1"]  # looked up, not sent again
    assert journal.unresolved(session) == [] and journal.orders(session)[0].status == "FILLED"
