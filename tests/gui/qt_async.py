"""Awaiting Qt signals on the running qasync loop."""

from __future__ import annotations

import asyncio
from typing import Any

from PyQt6 import sip


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


_ALIVE: list[Any] = []


def keep(widget: Any) -> Any:
    """Hold a strong reference to a top-level window until the test's teardown closes it.

    qtbot keeps only weak references: once a test returns, a shown window that is reachable only through
    reference cycles may be collected by the garbage collector in the middle of painting itself.
    """
    _ALIVE.append(widget)
    return widget


def release_all() -> None:
    while _ALIVE:
        widget = _ALIVE.pop()
        if not sip.isdeleted(widget):  # qtbot's own teardown may have deleted it already
            widget.close()
