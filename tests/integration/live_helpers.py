"""Shared pieces of the live-trading tests: a simulator on an accelerated clock, strategies, an engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.live.engine import LiveEngine
from app.live.events import SessionBar
from app.live.history import gateway_bar_fetch, history_loader
from app.live.ports import PaperStore
from domain.market import Candle
from domain.strategy import Strategy, parse_strategy
from infrastructure.exchanges import ExchangeGateways
from infrastructure.exchanges.upbit_ws import UpbitTradeFeed
from infrastructure.exchanges.ws import StreamPolicy
from infrastructure.simulator.state import SimulatorConfig, accelerated_clock

START_MS = 1_704_067_200_000  # 2024-01-01T00:00Z
SPEED = 600.0  # ten simulated minutes per wall second


class SimClock:
    """The simulator's clock, shared by the engine (bar timer, audit times)."""

    def __init__(self, now: Callable[[], int]) -> None:
        self._now = now

    def now_ms(self) -> int:
        return self._now()


def fast_config(speed: float = SPEED, **kw: Any) -> SimulatorConfig:
    return SimulatorConfig(clock=accelerated_clock(START_MS, speed), stream_interval_s=0.02, **kw)


def always_long() -> Strategy:
    """Enters long on the first bar it sees and never exits: a position to test flatten and resume."""
    return parse_strategy({
        "schema": 1, "name": "Always long", "direction": "long_only",
        "entry_long": {"all": [{"left": {"var": "close"}, "op": "gt", "right": {"const": 0}}]},
        "entry_short": None, "exit_long": None, "exit_short": None,
        "risk": {"position_size_pct": 50, "stop_loss_pct": None, "take_profit_pct": None, "trailing_stop_pct": None},
    })


def sma_cross() -> Strategy:
    return parse_strategy({
        "schema": 1, "name": "SMA 3/8 cross", "direction": "long_short",
        "entry_long": {"all": [{"left": {"var": "sma", "params": {"period": 3}}, "op": "crosses_above",
                                "right": {"var": "sma", "params": {"period": 8}}}]},
        "entry_short": {"all": [{"left": {"var": "sma", "params": {"period": 3}}, "op": "crosses_below",
                                 "right": {"var": "sma", "params": {"period": 8}}}]},
        "exit_long": None, "exit_short": None,
        "risk": {"position_size_pct": 100, "stop_loss_pct": None, "take_profit_pct": None, "trailing_stop_pct": None},
    })


@dataclass
class BarLog:
    """Every bar each session was handed, in order."""

    bars: dict[str, list[Candle]] = field(default_factory=dict)

    def __call__(self, event: Any) -> None:
        if isinstance(event, SessionBar):
            self.bars.setdefault(event.session_id, []).append(event.candle)


def build_engine(url: str, clock: SimClock, store: PaperStore | None = None, policy: StreamPolicy | None = None,
                 candles: Any = None, **kw: Any) -> tuple[LiveEngine, ExchangeGateways, BarLog]:
    gateways = ExchangeGateways({"demo": url})
    pol = policy or StreamPolicy(stall_s=5.0, backoff_initial_s=0.05, backoff_max_s=0.2)

    def feeds(exchange: str, symbol: str) -> UpbitTradeFeed:
        return UpbitTradeFeed(symbol, url, pol, seed=1, exchange=exchange)

    engine = LiveEngine(feeds, gateway_bar_fetch(gateways), history_loader(candles, gateways, clock), clock,
                        store=store, flush_grace_ms=kw.pop("flush_grace_ms", None), **kw)
    log = BarLog()
    engine.observers.append(log)
    return engine, gateways, log


def as_rows(bars: list[Candle]) -> list[tuple[int, float, float, float, float, float]]:
    return [(b.ts, b.open, b.high, b.low, b.close, b.volume) for b in bars]


def series_rows(s: Any) -> list[tuple[int, float, float, float, float, float]]:
    return [(int(s.ts[i]), float(s.open[i]), float(s.high[i]), float(s.low[i]), float(s.close[i]),
             float(s.volume[i])) for i in range(len(s))]


class SocketFaults:
    """Simulator middleware for stream faults: drop every open websocket, or stall the next connection(s)."""

    def __init__(self) -> None:
        self.transports: list[Any] = []
        self.stall_next = 0
        self.connections = 0

    @property
    def middleware(self) -> Any:
        from aiohttp import web

        @web.middleware
        async def faults(request: web.Request, handler: Any) -> web.StreamResponse:
            if request.path != "/websocket/v1" and not request.path.startswith("/ws/"):
                return await handler(request)
            self.connections += 1
            self.transports.append(request.transport)
            if self.stall_next > 0:  # accept, read the subscription, then say nothing at all
                self.stall_next -= 1
                ws = web.WebSocketResponse()
                await ws.prepare(request)
                async for _ in ws:
                    pass
                return ws
            return await handler(request)

        return faults

    def drop_all(self) -> None:
        for t in self.transports:
            if t is not None:
                t.close()
        self.transports.clear()


def faulty_simulator(config: SimulatorConfig) -> tuple[Any, SocketFaults]:
    from infrastructure.simulator.server import SimulatorServer

    sim = SimulatorServer(config)
    faults = SocketFaults()
    sim.app.middlewares.append(faults.middleware)
    return sim, faults
