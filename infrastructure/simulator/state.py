"""Simulator configuration and shared state: markets, clock, rate limiters, faults, request counts."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from aiohttp import web

from domain.market import CandleSeries, Timeframe
from infrastructure.clock import SystemClock
from infrastructure.simulator.faults import DEFAULT_FAULTS, FaultInjector
from infrastructure.simulator.limits import BinanceLimiter, UpbitLimiter
from infrastructure.simulator.market import SYMBOLS, SimulatedMarket, SymbolSpec, find_symbol
from infrastructure.simulator.private.accounts import AccountSpec

NowMs = Callable[[], int]


wall_clock_ms: NowMs = SystemClock().now_ms


def fixed_clock(now_ms: int) -> NowMs:
    """A clock stopped at `now_ms` (deterministic tests)."""
    return lambda: now_ms


def accelerated_clock(start_ms: int, speed: float) -> NowMs:
    """Simulated time that starts at `start_ms` and runs `speed` times faster than the wall clock."""
    t0 = time.monotonic()
    return lambda: start_ms + int((time.monotonic() - t0) * 1000 * speed)


@dataclass
class SimulatorConfig:
    """What the simulator serves and how strictly: seed, clock, limits, faults, which markets."""

    seed: int = 0
    clock: NowMs = wall_clock_ms
    markets: tuple[str, ...] = ()  # empty = every known symbol
    fault_rate: float = 0.0
    faults: tuple[str, ...] = DEFAULT_FAULTS
    slow_s: float = 0.5
    upbit_per_second: int = 10
    upbit_block_s: float = 2.0
    binance_weight_per_minute: int = 2400
    binance_ban_s: float = 120.0
    stream_interval_s: float = 0.1
    activity: float = 1.0  # trades per minute × this: the desktop's Demo market trades busily enough to watch
    accounts: tuple[AccountSpec, ...] = ()  # private API accounts (api key, secret, balances)
    ack_delay_s: float = 2.0  # how long the "delay_ack" order fault holds an answer back
    listen_key_ttl_s: float = 3600.0
    clock_skew_ms: int = 0  # the exchange's clock runs this far ahead of the wall clock (recvWindow checks)
    order_fault_rate: float = 0.0  # fraction of accepted orders that meet one of `order_faults`
    order_faults: tuple[str, ...] = ("accept_drop", "delay_ack")


@dataclass
class RequestLog:
    """Counts of answered requests by route group and status, for tests and benchmarks."""

    by_route: Counter[str] = field(default_factory=Counter)
    by_status: Counter[tuple[str, int]] = field(default_factory=Counter)

    def record(self, route: str, status: int) -> None:
        self.by_route[route] += 1
        self.by_status[(route, status)] += 1

    def count(self, route: str | None = None, status: int | None = None) -> int:
        return sum(n for (r, s), n in self.by_status.items()
                   if (route is None or r == route) and (status is None or s == status))


class SimulatorState:
    """Everything the route handlers share."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        specs = [s for s in SYMBOLS if not config.markets or s.symbol in config.markets]
        unknown = set(config.markets) - {s.symbol for s in specs}
        if unknown:
            known = ", ".join(s.symbol for s in SYMBOLS)
            raise ValueError(f"unknown simulator market(s) {', '.join(sorted(unknown))}; known: {known}")
        if not config.activity > 0:
            raise ValueError(f"activity must be above 0, got {config.activity}")
        if config.activity != 1.0:
            specs = [replace(s, trades_per_minute=s.trades_per_minute * config.activity) for s in specs]
        self.markets = {(s.exchange, s.symbol): SimulatedMarket(s, config.seed) for s in specs}
        self.upbit_limits = UpbitLimiter(config.upbit_per_second, block_s=config.upbit_block_s)
        self.binance_limits = BinanceLimiter(config.binance_weight_per_minute, ban_s=config.binance_ban_s)
        self.faults = FaultInjector(config.fault_rate, config.faults, config.seed)
        self.log = RequestLog()

    def now_ms(self) -> int:
        return self.config.clock()

    def market(self, exchange: str, symbol: str) -> SimulatedMarket | None:
        return self.markets.get((exchange, symbol))

    def specs(self, exchange: str) -> list[SymbolSpec]:
        return [m.spec for (ex, _), m in self.markets.items() if ex == exchange]


STATE: web.AppKey[SimulatorState] = web.AppKey("simulator_state")


def simulator_candles(exchange: str, symbol: str, timeframe: Timeframe, start_ms: int, end_ms: int,
                      seed: int = 0, now_ms: int | None = None) -> CandleSeries:
    """The simulator's own bars for [start, end): the ground truth a collection must reproduce.

    `exchange` is "upbit" (also "demo") or "binance"; `now_ms` defaults to `end_ms` (all bars complete).
    """
    spec = find_symbol("upbit" if exchange == "demo" else exchange, symbol)
    if spec is None:
        raise ValueError(f"the simulator has no {exchange} market {symbol!r}")
    market = SimulatedMarket(spec, seed)
    now = end_ms if now_ms is None else now_ms
    return market.bars(timeframe, start_ms, end_ms, now).to_series(timeframe)
