"""Risk limits on paper sessions: the live sessions' RiskEngine halts a paper session the same way."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from live_helpers import SimClock, always_long, build_engine, fast_config

from app.live.events import OrderFilled, OrderRejected
from app.live.session import SessionSpec
from domain.live.risk import RiskLimits
from domain.market import Timeframe
from infrastructure.simulator.server import SimulatorServer


async def until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_an_entry_above_the_order_limit_is_refused_halts_the_paper_session_and_a_reset_lets_it_try_again(
        ) -> None:
    config = fast_config()
    seen: list[Any] = []
    async with SimulatorServer(config) as sim:
        engine, gateways, _bars = build_engine(sim.url, SimClock(config.clock))
        engine.bus.subscribe(OrderRejected, seen.append)
        engine.bus.subscribe(OrderFilled, seen.append)
        try:
            await engine.start()
            spec = SessionSpec("capped", always_long(), "demo", "KRW-BTC", Timeframe.M1, cash=1_000_000,
                               limits=RiskLimits(max_order_notional=100_000))
            session = await engine.add_session(spec)
            await until(lambda: any(isinstance(e, OrderRejected) for e in seen))
            first = {**engine.rows()[0]}
            engine.reset_halt("capped")
            after_reset = (engine.rows()[0]["halted"], session.broker.halted)
            await until(lambda: sum(isinstance(e, OrderRejected) for e in seen) >= 2)
            again = engine.rows()[0]["halted"]
        finally:
            await engine.shutdown()
            await gateways.aclose()
    rejected = [e for e in seen if isinstance(e, OrderRejected)]
    assert not [e for e in seen if isinstance(e, OrderFilled)] and session.broker.side == 0
    assert first["halted"] == "order notional 500,000.00 is above the limit of 100,000.00"  # 50 % of 1,000,000
    assert rejected[0].reason == "risk limit: " + first["halted"]
    assert after_reset == ("", False) and again == first["halted"]


async def test_a_daily_loss_beyond_the_limit_halts_the_paper_session_and_its_entries() -> None:
    config = fast_config()
    async with SimulatorServer(config) as sim:
        engine, gateways, _bars = build_engine(sim.url, SimClock(config.clock))
        try:
            await engine.start()
            spec = SessionSpec("lossy", always_long(), "demo", "KRW-BTC", Timeframe.M1, cash=1_000_000,
                               commission=0.01, limits=RiskLimits(daily_loss_limit=1.0))
            session = await engine.add_session(spec)
            await until(lambda: engine.rows()[0]["halted"] != "", 30)
            halted = engine.rows()[0]["halted"]
        finally:
            await engine.shutdown(flatten=False)
            await gateways.aclose()
    assert halted.startswith("the day's loss ") and halted.endswith("reached the daily loss limit of 1.00")
    assert session.broker.halted and not [o for o in session.broker.pending if o.action == "open"]
