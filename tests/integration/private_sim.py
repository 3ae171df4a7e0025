"""A simulator with private accounts for the private-client tests, and its test-only view of an account."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from app.timeparse import parse_time_arg
from infrastructure.simulator import SimulatorConfig, SimulatorServer, fixed_clock
from infrastructure.simulator.private.accounts import AccountSpec
from infrastructure.simulator.state import accelerated_clock

API_KEY = "qdTestKey" + "A1b2C3d4" * 7
SECRET = "qdTestSecret" + "Z9y8X7w6" * 7
WRONG_SECRET = "qdWrongSecret" + "0000aaaa" * 7
START = parse_time_arg("2024-05-01T12:00:00Z")


@asynccontextmanager
async def private_simulator(speed: float = 0.0, **overrides: Any) -> AsyncIterator[SimulatorServer]:
    """A running simulator with one account (10,000 USDT, 10,000,000 KRW); a stopped clock unless `speed`."""
    clock = accelerated_clock(START, speed) if speed else fixed_clock(START)
    config = SimulatorConfig(clock=clock, accounts=(AccountSpec(API_KEY, SECRET),), stream_interval_s=0.05,
                             **overrides)
    async with SimulatorServer(config) as sim:
        yield sim


async def exchange_state(sim: SimulatorServer, api_key: str = API_KEY) -> dict[str, Any]:
    """GET /_sim/state: what the exchange holds for the account."""
    async with aiohttp.ClientSession() as session, session.get(f"{sim.url}/_sim/state",
                                                               params={"api_key": api_key}) as resp:
        assert resp.status == 200
        data: dict[str, Any] = await resp.json()
        return data
