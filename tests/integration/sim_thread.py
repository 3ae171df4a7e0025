"""The exchange simulator on its own loop in a thread, so a CLI command can run its own asyncio loop in the test."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from infrastructure.simulator import SimulatorConfig, SimulatorServer


@contextmanager
def threaded_simulator(config: SimulatorConfig) -> Iterator[SimulatorServer]:
    server = SimulatorServer(config)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(10)
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
