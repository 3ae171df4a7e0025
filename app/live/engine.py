"""Live paper trading: streams → bus → bars → incremental evaluator → orders → paper broker → journal.

The engine owns the bus and every running session. Market data handlers run on the loop and only do
arithmetic; persistence runs in worker threads (blocking bus handlers); the audit log is written by a
logging listener thread. A fatal error in a session (or its stream dying) flattens that session.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from app.clock import Clock
from app.errors import UserError
from app.live.audit import AuditLog
from app.live.bars import BarFetch, MarketBars
from app.live.bus import EventBus
from app.live.events import (
    BarClosed,
    BarTimer,
    FeedDisconnected,
    FeedReconnected,
    KlineTick,
    OrderFilled,
    OrderRejected,
    OrderRequested,
    PositionChanged,
    SessionBar,
    SessionCheckpoint,
    SessionError,
    SessionFlattened,
    SignalRaised,
    TradeTick,
)
from app.live.journal import StoreJournal
from app.live.metrics import LiveMetrics
from app.live.ports import FeedFactory, MarketFeed, PaperStore
from app.live.session import FAILED, FLATTENED, RUNNING, STOPPED, PaperSession, SessionSpec
from domain.live.paper import Fill
from domain.market import Candle, CandleSeries, Timeframe
from domain.strategy import SignalRow, warmup_bars

log = logging.getLogger(__name__)
HistoryLoader = Callable[[str, str, Timeframe, int], Awaitable[CandleSeries]]
"""(exchange, symbol, timeframe, bars) -> the latest `bars` complete bars (stored, topped up over REST)."""
Observer = Callable[[Any], None]


@dataclass
class _Market:
    feed: MarketFeed
    bars: MarketBars
    task: asyncio.Task[None] | None = None
    sessions: list[PaperSession] = field(default_factory=list)


class LiveEngine:
    """Runs paper sessions on live streams. `await start()`, `add_session(spec)`, `await shutdown()`."""

    def __init__(self, feeds: FeedFactory, bar_fetch: Callable[[str], BarFetch], history: HistoryLoader,
                 clock: Clock, store: PaperStore | None = None, audit: AuditLog | None = None,
                 metrics: LiveMetrics | None = None, bus: EventBus | None = None, flush_grace_ms: int | None = 5000,
                 history_bars: int = 500) -> None:
        self.feeds, self.bar_fetch, self.history, self.clock = feeds, bar_fetch, history, clock
        self.store, self.audit = store, audit or AuditLog()
        self.metrics = metrics or LiveMetrics()
        self.bus = bus or EventBus(on_error=self._handler_failed)
        self.metrics.queue_stats = self.queue_stats
        self.sessions: dict[str, PaperSession] = {}
        self.markets: dict[tuple[str, str], _Market] = {}
        self.observers: list[Observer] = []
        self.flush_grace_ms, self.history_bars = flush_grace_ms, history_bars
        self._timer: asyncio.Task[None] | None = None
        self._subscribe()

    # ----- life cycle
    def _subscribe(self) -> None:
        b = self.bus
        b.subscribe(TradeTick, self._on_trade)
        b.subscribe(KlineTick, self._on_kline)
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
                          last_bar_ts: int = -1, persist: bool = True) -> PaperSession:
        """Warm the strategy up on history, then trade it live (resuming `state` after a restart)."""
        if spec.session_id in self.sessions:
            raise UserError(f"a paper session named {spec.session_id!r} is already running")
        bars = max(self.history_bars, 3 * warmup_bars(spec.strategy) + 10)
        history = await self.history(spec.exchange, spec.symbol, spec.timeframe, bars)
        # Warming the evaluator streams every history bar through the indicators: off the loop.
        session = await asyncio.to_thread(PaperSession.build, spec, history, state, last_bar_ts)
        if persist and self.store is not None and state is None:
            await asyncio.to_thread(self.store.create, spec.session_id, spec.to_dict(), self.clock.now_ms())
        market = self._market(spec.exchange, spec.symbol)
        for bar in await market.bars.join(spec.timeframe, session.last_bar_ts):
            session.on_bar(bar)  # bars missed before joining: warm-up only, too late to act on
        market.sessions.append(session)
        self.sessions[spec.session_id] = session
        self.audit.record("SessionStarted", session_id=spec.session_id, strategy=spec.strategy.name,
                          exchange=spec.exchange, symbol=spec.symbol, timeframe=spec.timeframe.code,
                          resumed=state is not None, history_bars=len(history))
        await self._checkpoint(session)
        gc.freeze()  # warm-up objects (history, indicator state) are long-lived: keep them out of GC scans
        if market.task is None:
            market.task = asyncio.create_task(self._run_feed(market), name=f"feed-{spec.exchange}-{spec.symbol}")
        return session

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

    async def flatten(self, session_id: str, reason: str, status: str = FLATTENED) -> list[Fill]:
        """Emergency flatten: no new orders, pending ones cancelled, the position closed at market now."""
        session = self._session(session_id)
        session.status = status
        fills = session.flatten(self.clock.now_ms(), "flatten")
        await self._publish_fills(session, fills)
        await self.bus.publish(SessionFlattened(session.id, reason, len(fills), self.clock.now_ms()))
        await self._checkpoint(session)
        return fills

    async def flatten_all(self, reason: str) -> int:
        n = 0
        for s in list(self.sessions.values()):
            if s.broker.side != 0 or s.broker.pending or s.active:
                n += len(await self.flatten(s.id, reason))
        return n

    def open_positions(self) -> int:
        return sum(1 for s in self.sessions.values() if s.broker.side != 0)

    def _session(self, session_id: str) -> PaperSession:
        s = self.sessions.get(session_id)
        if s is None:
            raise UserError(f"no running paper session {session_id!r}")
        return s

    # ----- streams
    def _market(self, exchange: str, symbol: str) -> _Market:
        m = self.markets.get((exchange, symbol))
        if m is None:
            feed = self.feeds(exchange, symbol)
            self.metrics.feeds[f"{exchange}:{symbol}"] = feed.counters
            m = self.markets[(exchange, symbol)] = _Market(feed, MarketBars(exchange, symbol, self.bar_fetch(exchange)))
        return m

    async def _run_feed(self, market: _Market) -> None:
        try:
            await market.feed.run(self.bus.publish_nowait)
        except asyncio.CancelledError:
            raise
        except Exception as err:  # the stream is gone for good: a fatal error for its sessions
            log.error("stream %s:%s died: %s", market.feed.exchange, market.feed.symbol, err)
            for session in list(market.sessions):
                await self._fail(session, f"market data stream died: {err}")

    async def _stop_feed(self, market: _Market) -> None:
        if market.task is not None:
            market.task.cancel()
            await asyncio.gather(market.task, return_exceptions=True)
            market.task = None

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            self.bus.publish_nowait(BarTimer(self.clock.now_ms() - (self.flush_grace_ms or 0)))

    async def _on_timer(self, e: BarTimer) -> None:
        for m in list(self.markets.values()):
            closed = m.bars.flush(e.now_ms)
            if closed:
                await self._bars_closed(m, closed, 0)

    # ----- market data handlers (on the loop, hot path)
    async def _on_trade(self, e: TradeTick) -> None:
        m = self.markets.get((e.exchange, e.symbol))
        if m is None:
            return
        # The trade opens a new bar: close the old one first, so that its orders fill at this price (the
        # next bar's open, as in the backtest); then the trade moves prices, fills and stops.
        closed = m.bars.add_trade(e.ts, e.price, e.volume)  # no await on the common path
        if closed is None:
            closed = await m.bars.on_trade(e.ts, e.price, e.volume)
        if closed:
            await self._bars_closed(m, closed, e.recv_ns)
        for s in m.sessions:
            if s.active and (work := self._price(s, e.ts, e.price)) is not None:
                await work
        if e.recv_ns:
            self.metrics.tick_to_signal.record(time.perf_counter_ns() - e.recv_ns)

    async def _on_kline(self, e: KlineTick) -> None:
        m = self.markets.get((e.exchange, e.symbol))
        if m is None:
            return
        c = e.candle
        for s in m.sessions:
            if s.active and (work := self._price(s, c.ts + 59_999 if e.closed else c.ts, c.close)) is not None:
                await work
        closed = await m.bars.on_kline(c, e.closed)  # a closing kline carries the bar's last price: after it
        if closed:
            await self._bars_closed(m, closed, e.recv_ns)
        if e.recv_ns:
            self.metrics.tick_to_signal.record(time.perf_counter_ns() - e.recv_ns)

    async def _on_bar_event(self, e: BarClosed) -> None:
        await self._on_kline(KlineTick(e.exchange, e.symbol, e.timeframe, e.candle, True, e.recv_ns))

    async def _on_disconnect(self, e: FeedDisconnected) -> None:
        m = self.markets.get((e.exchange, e.symbol))
        if m is not None:
            m.bars.disconnected()
        self.audit.event(e)

    def _price(self, s: PaperSession, ts: int, price: float) -> Awaitable[None] | None:
        """Move the session's prices. Only a fill, a refused order or a failure needs the bus: then the work
        to await is returned; the common case (nothing happened) returns None without making a coroutine."""
        try:
            fills = s.on_trade(ts, price)
        except Exception as err:  # one broken session must not take the others down
            log.exception("paper session %s failed on a price", s.id)
            return self._fail(s, f"{type(err).__name__}: {err}")
        if fills or s.broker.dropped_orders:
            return self._after_price(s, fills, ts)
        return None

    async def _after_price(self, s: PaperSession, fills: list[Fill], ts: int) -> None:
        if fills:
            await self._publish_fills(s, fills)
        if s.broker.dropped_orders:  # refused at the price (no cash, nothing to close): journal why
            dropped, s.broker.dropped_orders = s.broker.dropped_orders, []
            for o in dropped:
                await self.bus.publish(OrderRejected(s.id, o.id, o.note, ts))

    async def _bars_closed(self, m: _Market, closed: list[tuple[Timeframe, Candle]], recv_ns: int) -> None:
        """Evaluate closed bars in order and wait until their signals became orders. After a repair several
        bars close at once: only the newest of each timeframe may trade, the others are too late."""
        m.feed.counters.backfilled_bars = m.bars.backfilled
        newest = {tf: bar.ts for tf, bar in closed}
        for tf, bar in closed:
            await self._deliver_bar(m, tf, bar, recv_ns, act=bar.ts == newest[tf])
        await self.bus.signals.queue.join()

    async def _deliver_bar(self, m: _Market, tf: Timeframe, bar: Candle, recv_ns: int, act: bool = True) -> None:
        for s in m.sessions:
            if s.spec.timeframe is tf and s.status in (RUNNING, FLATTENED, STOPPED):
                await self._guard(s, self._evaluate(s, bar, recv_ns, act))

    async def _evaluate(self, s: PaperSession, bar: Candle, recv_ns: int, act: bool = True) -> None:
        row = s.on_bar(bar)
        if row is None:
            return
        if recv_ns:
            self.metrics.bar_to_signal.record(time.perf_counter_ns() - recv_ns)
        if log.isEnabledFor(logging.DEBUG):  # hot path: build the message only when someone reads it
            log.debug("%s bar %d close %s -> %s", s.id, bar.ts, bar.close, row)
        for obs in self.observers:
            obs(SessionBar(s.id, bar))
        if act and s.active and (row.entry_long or row.exit_long or row.entry_short or row.exit_short):
            await self.bus.publish(SignalRaised(s.id, bar.ts + s.spec.timeframe.ms, row.entry_long, row.exit_long,
                                                row.entry_short, row.exit_short, recv_ns))
        await self._checkpoint(s)

    async def _guard(self, s: PaperSession, work: Awaitable[None]) -> None:
        try:
            await work
        except Exception as err:  # one broken session must not take the others down
            log.exception("paper session %s failed", s.id)
            await self._fail(s, f"{type(err).__name__}: {err}")

    async def _fail(self, s: PaperSession, message: str) -> None:
        s.error = message
        self.audit.event(SessionError(s.id, message, True))
        if s.status != FAILED:
            await self.flatten(s.id, message, FAILED)

    # ----- signals and orders
    async def _on_signal(self, e: SignalRaised) -> None:
        s = self.sessions.get(e.session_id)
        if s is None or not s.active:
            return
        for order in s.act(SignalRow(e.entry_long, e.exit_long, e.entry_short, e.exit_short), e.bar_ts):
            if order.state.value == "rejected":
                await self.bus.publish(OrderRejected(s.id, order.id, order.note, e.bar_ts))
            else:
                await self.bus.publish(OrderRequested(s.id, order.id, order.side, order.action, order.reason,
                                                      e.bar_ts))

    async def _publish_fills(self, s: PaperSession, fills: list[Fill]) -> None:
        b = s.broker
        for f in fills:
            await self.bus.publish(OrderFilled(s.id, f.order_id, f.side, f.quantity, f.price, f.commission,
                                               f.reason, f.ts, f.realized_pnl))
        await self.bus.publish(PositionChanged(s.id, b.side, b.size, b.entry_price, b.cash, b.equity(),
                                               b.realized, fills[-1].ts if fills else self.clock.now_ms()))
        await self._checkpoint(s)

    async def _checkpoint(self, s: PaperSession) -> None:
        if self.store is not None:
            await self.bus.publish(SessionCheckpoint(s.id, s.status, s.broker.snapshot(), s.last_bar_ts,
                                                     self.clock.now_ms()))

    # ----- observers and bus health
    def _notify(self, event: Any) -> None:
        for obs in self.observers:
            obs(event)

    def _handler_failed(self, err: BaseException, event: Any) -> None:
        self.audit.record("HandlerError", error=f"{type(err).__name__}: {err}", event=type(event).__name__)

    def queue_stats(self) -> dict[str, Any]:
        return {ch.name: {"depth": ch.queue.qsize(), **vars(ch.stats)} for ch in self.bus.channels}
