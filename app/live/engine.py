"""Live paper trading: streams → bus → bars → incremental evaluator → orders → paper broker → journal.

The engine owns the bus and every running session (their data path is `app.live.flow`); persistence runs in
worker threads (blocking bus handlers); the audit log is written by a logging listener thread. Views read
sessions through `snapshot()`, never through the engine's internals.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any, Literal

from app.clock import Clock
from app.errors import UserError
from app.live.audit import AuditLog
from app.live.bars import BarFetch
from app.live.bus import EventBus
from app.live.events import (
    BarClosed,
    BarTimer,
    FeedDisconnected,
    FeedReconnected,
    KlineTick,
    MarkPriceTick,
    OrderFilled,
    OrderRejected,
    OrderRequested,
    PositionChanged,
    SessionFlattened,
    SignalRaised,
    TradeTick,
)
from app.live.flow import Market, Observer, SessionFlow
from app.live.journal import StoreJournal
from app.live.metrics import LiveMetrics
from app.live.paper_risk import PaperRisk
from app.live.ports import FeedFactory, PaperStore
from app.live.session import (
    FLATTENED,
    RUNNING,
    STOPPED,
    PaperSession,
    SessionSpec,
    finished_session_message,
    kept_session_message,
)
from app.live.snapshot import SessionSnapshot, snapshot_of
from domain.futures import BracketTable
from domain.market import CandleSeries, Timeframe
from domain.strategy import warmup_bars

log = logging.getLogger(__name__)
HistoryLoader = Callable[[str, str, Timeframe, int], Awaitable[CandleSeries]]
StoredNamePolicy = Literal["refuse", "replace", "rename"]  # what starting a name with a stored history does
"""(exchange, symbol, timeframe, bars) -> the latest `bars` complete bars (stored, topped up over REST)."""


class LiveEngine(SessionFlow):
    """Runs paper sessions on live streams. `await start()`, `add_session(spec)`, `await shutdown()`."""

    def __init__(self, feeds: FeedFactory, bar_fetch: Callable[[str], BarFetch], history: HistoryLoader,
                 clock: Clock, store: PaperStore | None = None, audit: AuditLog | None = None,
                 metrics: LiveMetrics | None = None, bus: EventBus | None = None, flush_grace_ms: int | None = 5000,
                 history_bars: int = 500, brackets: Mapping[str, BracketTable] | None = None) -> None:
        self.feeds, self.bar_fetch, self.history, self.clock = feeds, bar_fetch, history, clock
        self.brackets = brackets or {}  # maintenance-margin brackets per futures symbol
        self.store, self.audit = store, audit or AuditLog()
        self.metrics = metrics or LiveMetrics()
        self.bus = bus or EventBus(on_error=self._handler_failed)
        self.metrics.queue_stats = self.queue_stats
        self.sessions: dict[str, PaperSession] = {}
        self.stopped: dict[str, PaperSession] = {}  # stopped by the user: shown (marked stopped) until removed
        self.markets: dict[tuple[str, str], Market] = {}
        self.observers: list[Observer] = []
        self.flush_grace_ms, self.history_bars = flush_grace_ms, history_bars
        self.paper_risk = PaperRisk()
        self._timer: asyncio.Task[None] | None = None
        self._subscribe()

    # ----- life cycle
    def _subscribe(self) -> None:
        b = self.bus
        b.subscribe(TradeTick, self._on_trade)
        b.subscribe(KlineTick, self._on_kline)
        b.subscribe(MarkPriceTick, self._on_mark)
        b.subscribe(BarClosed, self._on_bar_event)
        b.subscribe(FeedDisconnected, self._on_disconnect)
        b.subscribe(BarTimer, self._on_timer)
        b.subscribe(FeedReconnected, self.audit.event)
        b.subscribe(SignalRaised, self._on_signal)
        for kind in (OrderRequested, OrderFilled, OrderRejected, PositionChanged, SessionFlattened):
            b.subscribe(kind, self.audit.event)
            b.subscribe(kind, self._notify)
        if self.store is not None:
            StoreJournal(self.store).attach(b)

    async def start(self) -> None:
        await self.bus.start()
        self.metrics.start()
        if self.flush_grace_ms is not None:  # None: bars close only on the next trade (no clock guesses)
            self._timer = asyncio.create_task(self._flush_loop(), name="live-bar-timer")

    async def shutdown(self, flatten: bool = True, reason: str = "shutdown") -> None:
        """Stop every stream; flatten (or keep, to resume next start) every session; deliver the journal."""
        for market in self.markets.values():
            await self._stop_feed(market)
        for session in list(self.sessions.values()):
            if flatten and session.active:
                await self.flatten(session.id, reason, FLATTENED)
            else:
                await self._checkpoint(session)
        if self._timer is not None:
            self._timer.cancel()
            await asyncio.gather(self._timer, return_exceptions=True)
            self._timer = None
        await self.bus.stop()
        await self.metrics.stop()
        self.markets.clear()

    # ----- sessions
    async def add_session(self, spec: SessionSpec, state: dict[str, Any] | None = None,
                          last_bar_ts: int = -1, persist: bool = True,
                          stored_name: StoredNamePolicy = "refuse") -> PaperSession:
        """Warm the strategy up on history, then trade it live (resuming `state` after a restart). A name that
        has a stored history is refused, or ("replace") a finished one's history deleted, or ("rename") the
        session started under the next free name "NAME (2)" - never silently reset."""
        if spec.session_id in self.sessions:
            raise UserError(f"a paper session named {spec.session_id!r} is already running")
        wipe = stored_name == "replace"
        if persist and self.store is not None and state is None:
            spec = await asyncio.to_thread(self._claim_name, spec, stored_name)
        bars = max(self.history_bars, 3 * warmup_bars(spec.strategy, spec.timeframe) + 10)
        history = await self.history(spec.exchange, spec.symbol, spec.timeframe, bars)
        # Warming the evaluator streams every history bar through the indicators: off the loop.
        session = await asyncio.to_thread(PaperSession.build, spec, history, state, last_bar_ts,
                                          self.brackets.get(spec.symbol) if spec.futures else None)
        if persist and self.store is not None and state is None:
            await asyncio.to_thread(self.store.create, spec.session_id, spec.to_dict(), self.clock.now_ms(), wipe)
        market = self._market(spec.exchange, spec.symbol)
        for bar in await market.bars.join(spec.timeframe, session.last_bar_ts):
            session.on_bar(bar)  # bars missed before joining: warm-up only, too late to act on
        market.sessions.append(session)
        self.sessions[spec.session_id] = session
        self.stopped.pop(spec.session_id, None)
        self.audit.record("SessionStarted", session_id=spec.session_id, strategy=spec.strategy.name,
                          exchange=spec.exchange, symbol=spec.symbol, timeframe=spec.timeframe.code,
                          resumed=state is not None, history_bars=len(history))
        await self._checkpoint(session)
        gc.freeze()  # warm-up objects (history, indicator state) are long-lived: keep them out of GC scans
        if market.task is None:
            market.task = asyncio.create_task(self._run_feed(market), name=f"feed-{spec.exchange}-{spec.symbol}")
        return session

    def _claim_name(self, spec: SessionSpec, policy: StoredNamePolicy) -> SessionSpec:
        """The spec to start under `policy`: a stored name is refused (a kept one always), kept for replacing
        a finished one's history, or swapped for the next name nothing has used."""
        assert self.store is not None
        stored = self.store.get(spec.session_id)
        if stored is None:
            return spec
        if policy == "rename":
            taken = {*self.sessions, *self.stopped}
            n = 2
            while f"{spec.session_id} ({n})" in taken or self.store.get(f"{spec.session_id} ({n})") is not None:
                n += 1
            return replace(spec, session_id=f"{spec.session_id} ({n})")
        if stored.status == RUNNING:
            raise UserError(kept_session_message(spec.session_id))
        if policy == "refuse":
            raise UserError(finished_session_message(spec.session_id, stored.status))
        return spec

    async def resume(self) -> list[PaperSession]:
        """Restart every session that was running when the app stopped, with its positions."""
        if self.store is None:
            return []
        out = []
        for stored in await asyncio.to_thread(self.store.active):
            spec = SessionSpec.from_dict(stored.spec)
            out.append(await self.add_session(spec, stored.state, stored.last_bar_ts, persist=False))
        return out

    async def stop_session(self, session_id: str, flatten: bool = True) -> None:
        session = self._session(session_id)
        if flatten and session.active:
            await self.flatten(session_id, "session stopped", STOPPED)
        else:
            session.status = STOPPED
            await self._checkpoint(session)
        self._detach(session)
        self.stopped[session_id] = session

    def remove_session(self, session_id: str) -> bool:
        """Forget a stopped session's row (its history stays in the store); False if it is not a stopped one."""
        return self.stopped.pop(session_id, None) is not None

    def _detach(self, session: PaperSession) -> None:
        self.sessions.pop(session.id, None)
        key = (session.spec.exchange, session.spec.symbol)
        market = self.markets.get(key)
        if market is not None and session in market.sessions:
            market.sessions.remove(session)
            if not market.sessions:
                self.markets.pop(key)
                if market.task is not None:
                    market.task.cancel()

    def rows(self) -> list[dict[str, Any]]:
        """One summary row per session, for a sessions table."""
        return [{**s.summary(), "halted": self.paper_risk.halted(s.id)}
                for s in (*self.sessions.values(), *self.stopped.values())]

    def reset_halt(self, session_id: str) -> None:
        """Lift the halt a breached risk limit left on a paper session (the user has read why)."""
        s = self._session(session_id)
        self.paper_risk.reset(s)
        self.audit.record("HaltReset", session_id=session_id)

    def snapshot(self, session_id: str, with_bars: bool = False) -> SessionSnapshot | None:
        """What a view shows of one session (None if it is not running here); `with_bars` adds the closed bars
        its strategy has seen (a copy: for a chart being (re)drawn)."""
        session = self.sessions.get(session_id) or self.stopped.get(session_id)
        if session is None:
            return None
        market = self.markets.get((session.spec.exchange, session.spec.symbol))
        forming = market.bars.forming(session.spec.timeframe) if market is not None else None
        return snapshot_of(session, forming, with_bars)

    def open_positions(self) -> int:
        return sum(1 for s in self.sessions.values() if s.broker.side != 0)

    # ----- observers and bus health
    def _notify(self, event: Any) -> None:
        for obs in self.observers:
            obs(event)

    def _handler_failed(self, err: BaseException, event: Any) -> None:
        self.audit.record("HandlerError", error=f"{type(err).__name__}: {err}", event=type(event).__name__)

    def queue_stats(self) -> dict[str, Any]:
        return {ch.name: {"depth": ch.queue.qsize(), **vars(ch.stats)} for ch in self.bus.channels}
