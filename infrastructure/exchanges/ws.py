"""Websocket stream base: connect, heartbeat, stall detection, reconnect with exponential backoff and jitter.

Subclasses say what to send after connecting and how to parse one message. A message that cannot be
parsed is dropped, counted in `counters.rejected` and logged (the first few, then every 1000th); it
never raises. Bars missed while disconnected are repaired by the app (see app.live.bars) when it sees
the FeedDisconnected / FeedReconnected events this class emits.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from app.live.events import FeedDisconnected, FeedReconnected
from app.live.metrics import FeedCounters
from app.live.ports import FeedSink

log = logging.getLogger(__name__)


_BAD_MESSAGE = (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError, RecursionError)


class FeedDead(Exception):
    """The stream could not be re-established within the allowed attempts."""


@dataclass(frozen=True, slots=True)
class StreamPolicy:
    """Timings of a stream. `stall_s`: silence after which the connection is presumed dead."""

    heartbeat_s: float = 20.0
    stall_s: float = 60.0
    connect_timeout_s: float = 10.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    max_attempts: int | None = 20  # consecutive failed attempts before the stream is declared dead (None = never)

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Exponential backoff with equal jitter: half fixed, half random, so clients spread out."""
        delay = min(self.backoff_max_s, self.backoff_initial_s * 2 ** max(0, attempt - 1))
        return delay / 2 + rng.uniform(0, delay / 2)


def ws_url(base_url: str, path: str) -> str:
    if base_url.startswith("http://"):
        base_url = "ws://" + base_url[len("http://"):]
    elif base_url.startswith("https://"):
        base_url = "wss://" + base_url[len("https://"):]
    return base_url.rstrip("/") + path


class Rejected(ValueError):
    """A message that is not a usable market event; the text says why."""


class WebSocketFeed:
    """One market's stream. Subclasses implement `url`, `subscription()` and `parse(data, recv_ns)`."""

    exchange = ""

    def __init__(self, symbol: str, base_url: str, policy: StreamPolicy | None = None, seed: int | None = None,
                 exchange: str | None = None) -> None:
        self.symbol = symbol
        self.base_url = base_url
        self.policy = policy or StreamPolicy()
        if exchange:
            self.exchange = exchange
        self.counters = FeedCounters()
        self._rng = random.Random(seed)
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._last_ns = 0  # perf_counter_ns of the last message (the stall watchdog reads it)
        self._stalled = False

    async def force_reconnect(self) -> None:
        """Drop the current connection (the stream reconnects and repairs its bars as after any drop)."""
        ws = self._ws
        if ws is not None and not ws.closed:
            await ws.close()

    @property
    def url(self) -> str:
        raise NotImplementedError

    def subscription(self) -> str | None:
        """Text to send once connected (None = nothing)."""
        return None

    def parse(self, data: str | bytes, recv_ns: int) -> list[Any]:
        """Events from one message; raise Rejected (or any ValueError/TypeError/KeyError) to reject it."""
        raise NotImplementedError

    async def run(self, sink: FeedSink) -> None:
        """Stream until cancelled; raises FeedDead after `policy.max_attempts` consecutive failures."""
        attempt = 0
        connected_once = False
        timeout = aiohttp.ClientWSTimeout(ws_close=2.0)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None,
                                         connect=self.policy.connect_timeout_s)) as http:
            while True:
                reason = "connection failed"
                try:
                    async with http.ws_connect(self.url, heartbeat=self.policy.heartbeat_s, timeout=timeout,
                                               max_msg_size=1 << 20) as ws:
                        sub = self.subscription()
                        if sub is not None:
                            await ws.send_str(sub)
                        self.counters.connected = True
                        if connected_once:
                            self.counters.reconnects += 1
                            sink(FeedReconnected(self.exchange, self.symbol, attempt, -1, -1, 0))
                        connected_once, attempt = True, 0
                        self._ws = ws
                        try:
                            reason = await self._read(ws, sink)
                        finally:
                            self._ws = None
                except (TimeoutError, aiohttp.ClientError, OSError) as err:
                    reason = f"{type(err).__name__}: {err}"
                if self.counters.connected:
                    self.counters.connected = False
                    sink(FeedDisconnected(self.exchange, self.symbol, reason))
                attempt += 1
                if self.policy.max_attempts is not None and attempt > self.policy.max_attempts:
                    raise FeedDead(f"{self.exchange} {self.symbol} stream: {reason}; gave up after "
                                   f"{self.policy.max_attempts} attempts")
                delay = self.policy.backoff(attempt, self._rng)
                log.warning("%s %s stream lost (%s); reconnecting in %.2f s", self.exchange, self.symbol, reason, delay)
                await asyncio.sleep(delay)

    async def _read(self, ws: aiohttp.ClientWebSocketResponse, sink: FeedSink) -> str:
        counters = self.counters
        clock = time.perf_counter_ns
        self._last_ns = clock()
        self._stalled = False
        watchdog = asyncio.create_task(self._watch(ws), name=f"stall-watch-{self.symbol}")
        try:
            while True:
                msg = await ws.receive()  # no per-message timeout: the watchdog closes a silent stream
                kind = msg.type
                if kind is aiohttp.WSMsgType.TEXT or kind is aiohttp.WSMsgType.BINARY:
                    counters.messages += 1
                    self._last_ns = now = clock()
                    try:
                        events = self.parse(msg.data, now)
                    except _BAD_MESSAGE as err:
                        self._reject(msg.data, err)
                        continue
                    for event in events:
                        sink(event)
                    await asyncio.sleep(0)  # let the bus hand this tick on before the next buffered message
                elif kind in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED):
                    if self._stalled:
                        return f"stalled: no message for {self.policy.stall_s:g} s"
                    return f"closed by the server ({ws.close_code})"
                elif kind is aiohttp.WSMsgType.ERROR:
                    return f"websocket error: {ws.exception()}"
        finally:
            watchdog.cancel()
            await asyncio.gather(watchdog, return_exceptions=True)

    async def _watch(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Close the connection after `stall_s` without a message. One timer per stream rather than one per
        message: aiohttp's per-receive timeout costs about as much as the rest of reading a message."""
        limit_ns = int(self.policy.stall_s * 1e9)
        while True:
            idle = time.perf_counter_ns() - self._last_ns
            if idle >= limit_ns:
                self._stalled = True
                await ws.close()
                return
            await asyncio.sleep(max(0.01, (limit_ns - idle) / 1e9))

    def _reject(self, data: str | bytes, err: Exception) -> None:
        self.counters.rejected += 1
        n = self.counters.rejected
        if (n <= 10 or n % 1000 == 0) and log.isEnabledFor(logging.WARNING):
            log.warning("%s %s: rejected message #%d (%s): %.120r", self.exchange, self.symbol, n, err, data)
