"""Awaiting Qt signals on the running qasync loop."""

from __future__ import annotations

import asyncio
from typing import Any


async def fired(signal: Any, timeout: float = 30.0) -> tuple[Any, ...]:
    """Await one emission of a Qt signal on the running qasync loop (the asyncio form of waitSignal)."""
    fut: asyncio.Future[tuple[Any, ...]] = asyncio.get_running_loop().create_future()

    def done(*args: Any) -> None:
        if not fut.done():
            fut.set_result(args)

    signal.connect(done)
    try:
        return await asyncio.wait_for(fut, timeout)
    finally:
        signal.disconnect(done)
