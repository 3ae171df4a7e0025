"""Fault injection: 429s, 5xx, slow answers, dropped connections, truncated or malformed bodies."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field

from aiohttp import web

DEFAULT_FAULTS = ("429", "500", "502", "504", "slow", "drop", "truncate", "garbage")
FAULT = web.RequestKey("fault", str)  # the fault picked for a request, read by the route handlers
# "bad_row" corrupts one candle of an otherwise good answer; opt-in, because a client must skip that row.
ALL_FAULTS = (*DEFAULT_FAULTS, "bad_row")


@dataclass
class FaultInjector:
    """Picks a fault for a fraction `rate` of requests, reproducibly for a given seed."""

    rate: float = 0.0
    kinds: tuple[str, ...] = DEFAULT_FAULTS
    seed: int = 0
    slow_s: float = 0.5
    injected: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        unknown = [k for k in self.kinds if k not in ALL_FAULTS]
        if unknown:
            raise ValueError(f"unknown fault kind(s) {', '.join(unknown)}; known: {', '.join(ALL_FAULTS)}")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"fault rate must be between 0 and 1, got {self.rate}")
        self._rng = random.Random(self.seed)

    def pick(self) -> str | None:
        if self.rate <= 0 or self._rng.random() >= self.rate:
            return None
        kind = self._rng.choice(self.kinds)
        self.injected[kind] += 1
        return kind


async def respond_with_fault(request: web.Request, kind: str, error_body: bytes, retry_after: bool,
                             slow_s: float = 0.5) -> web.StreamResponse | None:
    """Answer `request` with the fault `kind`; None means carry on normally (slow, bad_row, garbage)."""
    if kind == "429":
        headers = {"Retry-After": "1"} if retry_after else {}
        return web.Response(status=429, body=error_body, headers=headers, content_type="application/json")
    if kind in ("500", "502", "504"):
        return web.Response(status=int(kind), text=f"simulated {kind}")
    if kind == "slow":
        await asyncio.sleep(slow_s)
        return None
    if kind == "drop":
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=599)  # never reaches the client: the connection is already gone
    return None


async def send_damaged(request: web.Request, kind: str, body: bytes) -> web.StreamResponse:
    """Send a good answer damaged: cut short of its Content-Length ('truncate') or as broken JSON."""
    if kind == "garbage":
        return web.Response(body=body[: max(1, len(body) // 2)], content_type="application/json")
    resp = web.StreamResponse(headers={"Content-Type": "application/json"})
    resp.content_length = len(body)
    await resp.prepare(request)
    await resp.write(body[: len(body) // 2])
    if request.transport is not None:
        request.transport.close()
    return resp


async def json_answer(request: web.Request, body: bytes) -> web.StreamResponse:
    """A JSON answer, damaged as `send_damaged` does when the request drew 'truncate' or 'garbage'."""
    fault = request.get(FAULT)
    if fault in ("truncate", "garbage"):
        return await send_damaged(request, fault, body)
    return web.Response(body=body, content_type="application/json")
