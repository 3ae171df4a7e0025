"""Live sessions in the desktop: arming, start, stop, the kill switch, lifting a halt, and the state shown of each."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from app.clock import Clock
from app.errors import UserError
from app.live.ports import MarketFeed
from app.live.trading.kill import KillReport, kill
from app.live.trading.live_broker import AuditSink
from app.live.trading.live_session import LiveTrader
from app.live.trading.reconcile import Reconciliation
from app.live.trading.router import client_id
from domain.live.risk import RiskLimits
from domain.market import Timeframe
from domain.strategy import Strategy

log = logging.getLogger("quantdesk.live.trading")
LIVE_EXCHANGES = ("binance", "upbit")
LIVE, HALTED, STOPPED, KILLED, FAILED = "live", "halted", "stopped", "killed", "failed"


@dataclass(frozen=True, slots=True)
class LiveSpec:
    """What a live session trades and under which limits (leverage and margin mode: Binance futures only)."""

    session_id: str
    strategy: Strategy
    exchange: str
    market: str
    timeframe: Timeframe
    limits: RiskLimits
    leverage: int = 1
    margin: str = ""  # "isolated" / "cross"; "" leaves the account's mode as it is


def live_session_id(strategy: str, market: str, timeframe: Timeframe) -> str:
    """A session id that is also a usable client-id prefix (letters, digits, '-', at most 24 characters)."""
    slug = re.sub(r"[^A-Za-z0-9]+", "", strategy)[:10] or "qd"
    return f"{slug}-{market.replace('-', '')}-{timeframe.code}"[:24]


def arming_problem(exchange: str, market: str, confirm: str, has_keys: bool) -> str:
    """Why a live session may not start ("" = armed): an exchange without live trading, no stored keys, or a
    confirmation that is not exactly the market."""
    if exchange not in LIVE_EXCHANGES:
        return f"live trading runs on {' or '.join(LIVE_EXCHANGES)} only; {exchange} is paper only"
    if not has_keys:
        return f"no {exchange} API keys are stored: add them in Settings → Exchange keys"
    if not market:
        return "enter a market first"
    if confirm != market:
        return f"not armed: type {market} exactly into the confirmation field to send real orders"
    return ""


@dataclass
class OpenedTrader:
    """A live session ready to run: the trader, its market stream, and how to release its account."""

    trader: LiveTrader
    feed: MarketFeed
    close: Callable[[], Awaitable[None]]


class TraderFactory(Protocol):
    """Builds live sessions from the adapters (app.bootstrap wires the keyring, private clients and journal)."""

    def has_keys(self, exchange: str) -> bool:
        """Whether keys for `exchange` are in the keyring (UserError when no keyring is usable)."""
        ...

    async def open(self, spec: LiveSpec, audit: AuditSink) -> OpenedTrader:
        """Keys from the keyring, the account prepared (leverage, margin), the trader warmed up."""
        ...

    def save(self, spec: LiveSpec, trader: LiveTrader, status: str) -> None:
        """Record the session so `quantdesk live status` and `live kill` know it."""
        ...


@dataclass
class DeskSession:
    """One live session of the desktop and what it last reported."""

    spec: LiveSpec
    opened: OpenedTrader
    task: asyncio.Task[None] | None = None
    status: str = LIVE
    kill: KillReport | None = None
    error: str = ""
    closed: bool = False  # the account's clients released (after the kill switch, or at shutdown)

    @property
    def trader(self) -> LiveTrader:
        return self.opened.trader


class LiveDesk:
    """The live sessions the desktop runs on its event loop."""

    def __init__(self, factory: TraderFactory, clock: Clock, audit: AuditSink | None = None) -> None:
        self.factory, self.clock = factory, clock
        self.audit: AuditSink = audit or (lambda kind, **fields: None)
        self.sessions: dict[str, DeskSession] = {}

    def arming(self, exchange: str, market: str, confirm: str) -> str:
        """Why Start must stay refused for these inputs ("" = armed)."""
        has = exchange in LIVE_EXCHANGES and self.factory.has_keys(exchange)
        return arming_problem(exchange, market, confirm, has)

    async def start(self, spec: LiveSpec, confirm: str) -> DeskSession:
        """Arm, build, reconcile and run a live session. Refused (UserError) unless armed."""
        problem = self.arming(spec.exchange, spec.market, confirm) or "; ".join(spec.limits.problems())
        cap = spec.limits.max_leverage
        if not problem and cap is not None and spec.leverage > cap:
            problem = f"leverage {spec.leverage}x is above the leverage cap of {cap}x"
        if problem:
            raise UserError(problem)
        if spec.session_id in self.sessions and self.sessions[spec.session_id].status == LIVE:
            raise UserError(f"live session {spec.session_id} is already running")
        opened = await self.factory.open(spec, self.audit)
        session = DeskSession(spec, opened)
        try:
            await opened.trader.start(resume=False)
        except BaseException:
            await opened.close()
            raise
        old = self.sessions.get(spec.session_id)
        if old is not None:  # stopped or killed earlier: the new session takes its row, the old account is released
            await self._close(old)
        self.sessions[spec.session_id] = session
        session.task = asyncio.get_running_loop().create_task(self._run(session), name=f"live-{spec.session_id}")
        self._save(session)
        return session

    async def _run(self, session: DeskSession) -> None:
        try:
            await session.trader.run(session.opened.feed)
        except asyncio.CancelledError:
            raise
        except Exception as err:  # the stream died for good: the session stops, its stops stay at the exchange
            log.exception("live session %s failed", session.spec.session_id)
            session.status, session.error = FAILED, f"{type(err).__name__}: {err}"

    async def _halt_task(self, session: DeskSession) -> None:
        task, session.task = session.task, None
        if task is not None and not task.done():
            await session.trader.stop(task)

    async def stop(self, session_id: str) -> None:
        """Stop trading: the position and its exchange-held stop stay (resume from the CLI with --resume); the kill
        switch still works on the stopped session."""
        session = self._get(session_id)
        await self._halt_task(session)
        if session.status == LIVE:
            session.status = STOPPED
        self._save(session)

    async def _close(self, session: DeskSession) -> None:
        if not session.closed:
            session.closed = True
            await session.opened.close()

    async def kill(self, session_id: str) -> KillReport:
        """The kill switch: stop the session, cancel its open orders, flatten, confirm from the exchange."""
        session = self._get(session_id)
        if session.closed:
            raise UserError(f"live session {session_id} was killed already; `quantdesk live kill` works on any market")
        await self._halt_task(session)
        b = session.trader.broker
        b.risk.halted = "kill switch"
        report = await kill(b.gateway, (b.router.prefix,), client_id("qdkill", self.clock.now_ms() % 10**9))
        session.kill, session.status = report, KILLED
        b.audit("KillSwitch", session_id=session_id, cancelled=list(report.cancelled), open_orders=report.open_orders,
                position=report.position, clean=report.clean)
        with contextlib.suppress(Exception):  # the row shows the exchange's own answer in any case
            await b.refresh()
        self._save(session)
        await self._close(session)
        return report

    async def reset_halt(self, session_id: str) -> Reconciliation:
        """Lift a halt after the user read its report; reconciliation runs again at once."""
        session = self._get(session_id)
        if session.status != LIVE:
            raise UserError(f"live session {session_id} is {session.status}; only a running session can resume")
        rec = await session.trader.reset_halt()
        self._save(session)
        return rec

    def _get(self, session_id: str) -> DeskSession:
        if session_id not in self.sessions:
            raise UserError(f"no live session {session_id}")
        return self.sessions[session_id]

    def _save(self, session: DeskSession) -> None:
        status = HALTED if session.status == LIVE and session.trader.broker.halted else session.status
        with contextlib.suppress(Exception):  # a row the CLI reads; trading never waits on it
            self.factory.save(session.spec, session.trader, status)

    def rows(self) -> list[dict[str, Any]]:
        """One row per live session: what the sessions table and the live panel show."""
        return [self.row(s) for s in self.sessions.values()]

    def row(self, s: DeskSession) -> dict[str, Any]:
        b, rec = s.trader.broker, s.trader.last
        status = HALTED if s.status == LIVE and b.halted else s.status
        held = b.stop.current
        ledger = s.trader.ledger
        return {"session_id": s.spec.session_id, "mode": "live", "status": f"LIVE · {status}",
                "strategy": s.spec.strategy.name, "exchange": s.spec.exchange, "market": s.spec.market,
                "timeframe": s.spec.timeframe.code, "position": b.position, "last_price": b.last_price,
                "stop_held_by": b.stop_held_by, "stop_price": held.stop_price if held is not None else b.guard_level,
                "stop_order": held.client_id if held is not None else "", "halted": b.halted,
                "reconciled_ms": rec.at_ms if rec is not None else None,
                "reconciled_ok": rec.clean if rec is not None else None,
                "differences": list(rec.differences) if rec is not None else [],
                "balance": ledger.last if ledger is not None else None,
                "currency": ledger.currency if ledger is not None else "", "error": s.error,
                "kill": _kill_row(s.kill), "leverage": s.spec.leverage, "margin": s.spec.margin}

    def running(self) -> int:
        """How many sessions are trading now."""
        return sum(1 for s in self.sessions.values() if s.status == LIVE)

    async def shutdown(self) -> None:
        """Stop every session (positions and exchange stops stay) and release the accounts."""
        for sid, s in list(self.sessions.items()):
            if s.status == LIVE:
                await self.stop(sid)
            await self._close(s)


def _kill_row(report: KillReport | None) -> dict[str, Any] | None:
    if report is None:
        return None
    return {"cancelled": len(report.cancelled), "open_orders": report.open_orders, "position": report.position,
            "clean": report.clean, "problems": list(report.problems)}
