"""Client-side pacing from the exchange's own headers, so that a healthy run never meets a 429."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections import deque
from collections.abc import Callable, Mapping

_REMAINING = re.compile(r"group=([a-z-]+); min=([0-9]+); sec=([0-9]+)")


class UpbitPacer:
    """At most `per_second` requests in any second, counted from when answers arrive.

    A slot is held from sending until a second after the answer came back; the server counts the
    request somewhere in between, so its sliding second can never see more than the limit. The
    `Remaining-Req` header corrects the count when someone else (another program on this IP) spends
    the same budget; a 429 empties the window for a full second.
    """

    def __init__(self, per_second: int = 10, window_s: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second = per_second
        self.window_s = window_s
        self._clock = clock
        self._done: deque[float] = deque()
        self._inflight = 0
        self._changed = asyncio.Event()

    def _prune(self, now: float) -> None:
        while self._done and self._done[0] <= now - self.window_s:
            self._done.popleft()

    async def acquire(self, weight: int = 1) -> None:
        while True:
            now = self._clock()
            self._prune(now)
            if len(self._done) + self._inflight < self.per_second:
                self._inflight += 1
                return
            self._changed.clear()
            wait = self._done[0] + self.window_s - now if self._done else self.window_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=max(wait, 0.001))

    def release(self, status: int | None, headers: Mapping[str, str], weight: int = 1) -> None:
        now = self._clock()
        self._inflight -= 1
        self._done.append(now)
        self._prune(now)
        if status == 429 or status == 418:
            self._done.extend([now] * max(0, self.per_second - len(self._done)))
        else:
            m = _REMAINING.search(headers.get("Remaining-Req", ""))
            if m:
                expected_left = self.per_second - len(self._done) - self._inflight
                extra = expected_left - int(m.group(3))
                self._done.extend([now] * max(0, min(extra, self.per_second)))
        self._changed.set()


class WeightPacer:
    """Binance: keep the weight used in this wall-clock minute (as the server reports it) under budget."""

    def __init__(self, budget: int = 2400, headroom: float = 0.95,
                 clock: Callable[[], float] = time.time) -> None:
        self.budget = round(budget * headroom)
        self._clock = clock
        self._minute = -1
        self._used = 0
        self._inflight = 0

    def _roll(self, now: float) -> None:
        minute = int(now // 60)
        if minute != self._minute:
            self._minute, self._used = minute, 0

    async def acquire(self, weight: int = 1) -> None:
        while True:
            now = self._clock()
            self._roll(now)
            if self._used + self._inflight + weight <= self.budget:
                self._inflight += weight
                return
            await asyncio.sleep((self._minute + 1) * 60 - now + 0.05)

    def release(self, status: int | None, headers: Mapping[str, str], weight: int = 1) -> None:
        self._inflight -= weight
        now = self._clock()
        self._roll(now)
        used = headers.get("X-MBX-USED-WEIGHT-1M", "")  # a 429 without it is not about weight: Retry-After rules
        if used.isdigit():
            self._used = max(self._used, int(used))
        else:
            self._used += weight


class OrderCountPacer:
    """Binance's order-rate limits (orders per 10 s and per minute) kept with headroom.

    Counts what this client sent; the X-MBX-ORDER-COUNT-* headers correct the count when orders from
    elsewhere on the same account spend the same budget.
    """

    def __init__(self, limits: tuple[tuple[float, int, str], ...] = ((10.0, 300, "10S"), (60.0, 1200, "1M")),
                 headroom: float = 0.9, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = tuple((w, max(1, int(n * headroom)), name) for w, n, name in limits)
        self._clock = clock
        self._sent: deque[float] = deque()

    def _count(self, window_s: float, now: float) -> int:
        return sum(1 for t in self._sent if t > now - window_s)

    async def acquire(self, weight: int = 1) -> None:
        longest = max(w for w, _, _ in self.limits)
        while True:
            now = self._clock()
            while self._sent and self._sent[0] <= now - longest:
                self._sent.popleft()
            full = [(w, n) for w, n, _ in self.limits if self._count(w, now) >= n]
            if not full:
                self._sent.append(now)
                return
            window, limit = full[0]
            inside = [t for t in self._sent if t > now - window]
            await asyncio.sleep(max(0.001, inside[-limit] + window - now))

    def release(self, status: int | None, headers: Mapping[str, str], weight: int = 1) -> None:
        now = self._clock()
        for window, _, name in self.limits:
            reported = headers.get(f"X-MBX-ORDER-COUNT-{name}", "")
            if reported.isdigit():
                missing = int(reported) - self._count(window, now)
                self._sent.extend([now] * max(0, missing))
        if self._sent and sorted(self._sent) != list(self._sent):
            self._sent = deque(sorted(self._sent))
