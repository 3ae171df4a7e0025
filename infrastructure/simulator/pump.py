"""The simulator's websocket loop: send what is due, wait a beat or until the client speaks or leaves, repeat."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web


async def pump(ws: web.WebSocketResponse, interval_s: float, tick: Callable[[], Awaitable[None]]) -> None:
    """Run `tick` every `interval_s` until the client closes or sends anything; then close the socket."""
    reader = asyncio.create_task(ws.receive())
    try:
        while not ws.closed and not reader.done():
            await tick()
            await asyncio.wait([reader], timeout=interval_s)
    except (ConnectionResetError, RuntimeError):
        pass  # the client went away mid-send
    finally:
        reader.cancel()
    await ws.close()
