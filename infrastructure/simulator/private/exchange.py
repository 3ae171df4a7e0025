"""The simulator's private side: accounts, matching, the auth clock, listen keys, order faults and order limits."""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections import Counter, deque
from dataclasses import dataclass, field

from aiohttp import web

from infrastructure.simulator.private.accounts import Account, AccountBook, AccountSpec
from infrastructure.simulator.private.auth import AuthClock
from infrastructure.simulator.private.engine import MatchingEngine
from infrastructure.simulator.state import SimulatorState

ORDER_FAULTS = ("accept_drop", "delay_ack")
BINANCE_ORDER_LIMITS = ((10.0, 300, "10S"), (60.0, 1200, "1M"))  # (window s, orders, header suffix)
UPBIT_ORDER_PER_SECOND = 8
UPBIT_DEFAULT_PER_SECOND = 30


@dataclass
class _OrderWindow:
    sent: deque[float] = field(default_factory=deque)

    def count(self, window_s: float, now: float) -> int:
        return sum(1 for t in self.sent if t > now - window_s)


class PrivateExchange:
    """Shared by the private routes of both exchanges."""

    def __init__(self, state: SimulatorState, specs: tuple[AccountSpec, ...] = ()) -> None:
        self.state = state
        self.book = AccountBook(specs)
        self.engine = MatchingEngine(state, self.book)
        self.clock = AuthClock(state.config.clock_skew_ms)
        self.listen_keys: dict[str, tuple[str, float]] = {}
        self.scripted_faults: deque[str] = deque()
        config = state.config
        unknown = [k for k in config.order_faults if k not in ORDER_FAULTS]
        if unknown:
            raise ValueError(f"unknown order fault(s) {', '.join(unknown)}; known: {', '.join(ORDER_FAULTS)}")
        if not 0.0 <= config.order_fault_rate <= 1.0:
            raise ValueError(f"order fault rate must be between 0 and 1, got {config.order_fault_rate}")
        self._rng = random.Random(config.seed)
        self.injected: Counter[str] = Counter()
        self._orders: dict[str, _OrderWindow] = {}
        self._upbit: dict[tuple[str, str], deque[float]] = {}

    def script_fault(self, kind: str, times: int = 1) -> None:
        """The next `times` accepted orders meet fault `kind` (accept_drop or delay_ack)."""
        if kind not in ORDER_FAULTS:
            raise ValueError(f"unknown order fault {kind!r}; known: {', '.join(ORDER_FAULTS)}")
        self.scripted_faults.extend([kind] * times)

    def next_fault(self) -> str | None:
        """A scripted fault first; else one drawn at the configured rate (reproducible for a seed)."""
        kind = self.scripted_faults.popleft() if self.scripted_faults else None
        rate, kinds = self.state.config.order_fault_rate, self.state.config.order_faults
        if kind is None and rate > 0 and kinds and self._rng.random() < rate:
            kind = self._rng.choice(kinds)
        if kind is not None:
            self.injected[kind] += 1
        return kind

    async def apply_fault(self, request: web.Request, kind: str | None) -> web.StreamResponse | None:
        """After an order was accepted: drop the connection, or hold the answer back for a while."""
        if kind == "accept_drop":
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=599)  # never reaches the client
        if kind == "delay_ack":
            await asyncio.sleep(self.state.config.ack_delay_s)
        return None

    # -- listen keys ------------------------------------------------------------------------------------

    def open_listen_key(self, account: Account) -> str:
        for key, (api_key, _) in self.listen_keys.items():
            if api_key == account.api_key:  # Binance answers the same key while it is valid
                self.listen_keys[key] = (api_key, time.monotonic() + self.state.config.listen_key_ttl_s)
                return key
        key = secrets.token_urlsafe(48).replace("-", "a").replace("_", "b")[:64]
        self.listen_keys[key] = (account.api_key, time.monotonic() + self.state.config.listen_key_ttl_s)
        return key

    def keep_alive(self, account: Account) -> bool:
        for key, (api_key, _) in self.listen_keys.items():
            if api_key == account.api_key:
                self.listen_keys[key] = (api_key, time.monotonic() + self.state.config.listen_key_ttl_s)
                return True
        return False

    def close_listen_key(self, account: Account) -> None:
        for key in [k for k, (a, _) in self.listen_keys.items() if a == account.api_key]:
            del self.listen_keys[key]

    def listen_key_owner(self, key: str) -> tuple[Account, float] | None:
        hit = self.listen_keys.get(key)
        if hit is None:
            return None
        account = self.book.get(hit[0])
        return (account, hit[1]) if account is not None else None

    # -- order rate limits ------------------------------------------------------------------------------

    def binance_order_counts(self, account: Account, new_order: bool) -> tuple[dict[str, str], bool]:
        """X-MBX-ORDER-COUNT-* headers, and whether this new order is over a limit (then not counted)."""
        now = time.monotonic()
        window = self._orders.setdefault(account.api_key, _OrderWindow())
        while window.sent and window.sent[0] <= now - 60.0:
            window.sent.popleft()
        over = new_order and any(window.count(w, now) >= n for w, n, _ in BINANCE_ORDER_LIMITS)
        if new_order and not over:
            window.sent.append(now)
        headers = {f"X-MBX-ORDER-COUNT-{name}": str(window.count(w, now)) for w, _, name in BINANCE_ORDER_LIMITS}
        return headers, over

    def upbit_remaining(self, account: Account, group: str) -> int:
        """Requests left this second in Upbit's `group` (order or default) after this one; -1 = over."""
        limit = UPBIT_ORDER_PER_SECOND if group == "order" else UPBIT_DEFAULT_PER_SECOND
        now = time.monotonic()
        sent = self._upbit.setdefault((account.api_key, group), deque())
        while sent and sent[0] <= now - 1.0:
            sent.popleft()
        if len(sent) >= limit:
            return -1
        sent.append(now)
        return limit - len(sent)


PRIVATE: web.AppKey[PrivateExchange] = web.AppKey("private_exchange", PrivateExchange)
