"""Exchange rate limits as the simulator enforces them: Upbit per-second groups, Binance weight per minute."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Verdict:
    """Outcome of one request against a limit: allowed or the status to answer with."""

    status: int  # 200 = go ahead, 429 = over the limit, 418 = blocked
    remaining: int = 0  # Upbit: requests left in this second
    used_weight: int = 0  # Binance: weight used this minute
    retry_after_s: int = 0


@dataclass
class _UpbitClient:
    sent: deque[float] = field(default_factory=deque)
    rejected: deque[float] = field(default_factory=deque)
    blocked_until: float = 0.0
    blocks: int = 0


class UpbitLimiter:
    """`per_second` requests in any sliding second per client; 429 beyond; repeated 429s earn 418 blocks."""

    def __init__(self, per_second: int = 10, hammer_429s: int = 10, block_s: float = 2.0,
                 clock: Clock = time.monotonic) -> None:
        self.per_second = per_second
        self.hammer_429s = hammer_429s
        self.block_s = block_s
        self._clock = clock
        self._clients: dict[str, _UpbitClient] = {}

    def check(self, client: str) -> Verdict:
        now = self._clock()
        c = self._clients.setdefault(client, _UpbitClient())
        if now < c.blocked_until:
            return Verdict(418, retry_after_s=int(c.blocked_until - now) + 1)
        while c.sent and c.sent[0] <= now - 1.0:
            c.sent.popleft()
        while c.rejected and c.rejected[0] <= now - 10.0:
            c.rejected.popleft()
        if len(c.sent) >= self.per_second:
            c.rejected.append(now)
            if len(c.rejected) >= self.hammer_429s:
                c.blocks += 1
                c.blocked_until = now + self.block_s * 2 ** (c.blocks - 1)  # the block grows with repeats
                c.rejected.clear()
                return Verdict(418, retry_after_s=int(c.blocked_until - now) + 1)
            return Verdict(429, remaining=0)
        c.sent.append(now)
        return Verdict(200, remaining=self.per_second - len(c.sent))


def binance_weight(limit: int) -> int:
    """Request weight of /fapi/v1/klines by `limit`."""
    if limit < 100:
        return 1
    if limit < 500:
        return 2
    if limit <= 1000:
        return 5
    return 10


@dataclass
class _BinanceClient:
    minute: int = -1
    used: int = 0
    over: int = 0
    banned_until: float = 0.0


class BinanceLimiter:
    """Weight budget per wall-clock minute per client; 429 with Retry-After, 418 ban if 429s are ignored."""

    def __init__(self, weight_per_minute: int = 2400, hammer_429s: int = 10, ban_s: float = 120.0,
                 clock: Clock = time.time) -> None:
        self.weight_per_minute = weight_per_minute
        self.hammer_429s = hammer_429s
        self.ban_s = ban_s
        self._clock = clock
        self._clients: dict[str, _BinanceClient] = {}

    def check(self, client: str, weight: int) -> Verdict:
        now = self._clock()
        c = self._clients.setdefault(client, _BinanceClient())
        if now < c.banned_until:
            return Verdict(418, used_weight=c.used, retry_after_s=int(c.banned_until - now) + 1)
        minute = int(now // 60)
        if minute != c.minute:
            c.minute, c.used, c.over = minute, 0, 0
        until_next = int((minute + 1) * 60 - now) + 1
        if c.used + weight > self.weight_per_minute:
            c.over += 1
            if c.over >= self.hammer_429s:
                c.banned_until = now + self.ban_s
                return Verdict(418, used_weight=c.used, retry_after_s=int(self.ban_s))
            return Verdict(429, used_weight=c.used, retry_after_s=until_next)
        c.used += weight
        return Verdict(200, used_weight=c.used)
