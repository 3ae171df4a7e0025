"""The live engine's data path: streams → bars → evaluation → signals → orders → fills, on the event loop.

Market data handlers run on the loop and only do arithmetic. A fatal error in one session (or its stream
dying) flattens that session and leaves the others running.
"""

from __future__ import annotations

import asyncio
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
    KlineTick,
    MarkPriceTick,
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
from app.live.futures_feed import KlinePath, path_prices
from app.live.metrics import LiveMetrics
from app.live.paper_risk import PaperRisk
from app.live.ports import FeedFactory, MarketFeed, PaperStore
from app.live.session import FAILED, FLATTENED, RUNNING, STOPPED, PaperSession
from domain.live.funding_watch import FundingWatch
from domain.live.paper import Fill
from domain.live.paper_futures import FuturesPaperBroker
from domain.market import Candle, Timeframe
from domain.strategy import SignalRow

log = logging.getLogger("app.live.engine")
Observer = Callable[[Any], None]


@dataclass
class Market:
    """One market's stream, its bars and the sessions trading it."""

    feed: MarketFeed
    bars: MarketBars
    task: asyncio.Task[None] | None = None
    sessions: list[PaperSession] = field(default_factory=list)
    funding: FundingWatch = field(default_factory=FundingWatch)
    path: KlinePath = field(default_factory=KlinePath)


class SessionFlow:
    """The handlers of the engine's bus; `LiveEngine` owns the state declared here and the session life cycle."""

    feeds: FeedFactory
    bar_fetch: Callable[[str], BarFetch]
    clock: Clock
    store: PaperStore | None
    audit: AuditLog
    metrics: LiveMetrics
    bus: EventBus
    sessions: dict[str, PaperSession]
    markets: dict[tuple[str, str], Market]
    observers: list[Observer]
    flush_grace_ms: int | None
    paper_risk: PaperRisk

    def _session(self, session_id: str) -> PaperSession:
        s = self.sessions.get(session_id)
        if s is None:
            raise UserError(f"no running paper session {session_id!r}")
        return s

    async def flatten(self, session_id: str, reason: str, status: str = FLATTENED) -> list[Fill]:
        """Emergency flatten: no new orders, pending ones cancelled, the position closed at market now."""
        session = self._session(session_id)
        session.status = status
        fills = session.flatten(self.clock.now_ms(), "flatten")
        for f in fills:  # the flatten order's request, so every order's whole life is in the audit and the store
            await self.bus.publish(OrderRequested(session.id, f.order_id, f.side, f.action, f.reason, f.ts))
        await self._publish_fills(session, fills)
        await self.bus.publish(SessionFlattened(session.id, reason, len(fills), self.clock.now_ms()))
        await self._checkpoint(session)
        return fills


    # ----- streams
    def _market(self, exchange: str, symbol: str) -> Market:
        m = self.markets.get((exchange, symbol))
        if m is None:
            feed = self.feeds(exchange, symbol)
            self.metrics.feeds[f"{exchange}:{symbol}"] = feed.counters
            m = self.markets[(exchange, symbol)] = Market(feed, MarketBars(exchange, symbol, self.bar_fetch(exchange)))
        return m

    async def _run_feed(self, market: Market) -> None:
        try:
            await market.feed.run(self.bus.publish_nowait)
        except asyncio.CancelledError:
            raise
        except Exception as err:  # the stream is gone for good: a fatal error for its sessions
            log.error("stream %s:%s died: %s", market.feed.exchange, market.feed.symbol, err)
            for session in list(market.sessions):
                await self._fail(session, f"market data stream died: {err}")

    async def _stop_feed(self, market: Market) -> None:
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
        opened, low, high = m.path.step(c)
        for s in m.sessions:
            if s.active and isinstance(s.broker, FuturesPaperBroker):
                await self._futures_path(s, c.ts, opened, low, high)
            if s.active and (work := self._price(s, c.ts + 59_999 if e.closed else c.ts, c.close)) is not None:
                await work
        closed = await m.bars.on_kline(c, e.closed)  # a closing kline carries the bar's last price: after it
        if closed:
            await self._bars_closed(m, closed, e.recv_ns)
        if e.recv_ns:
            self.metrics.tick_to_signal.record(time.perf_counter_ns() - e.recv_ns)

    async def _futures_path(self, s: PaperSession, ts: int, opened: float | None, low: float | None,
                            high: float | None) -> None:
        """A futures session sees the kline's open, then its new extremes (adverse first), as the backtest does."""
        if opened is not None and (work := self._price(s, ts, opened)) is not None:
            await work
        for price in path_prices(s.broker.side, low, high):
            if s.active and (work := self._price(s, ts, price)) is not None:
                await work

    async def _on_mark(self, e: MarkPriceTick) -> None:
        """Settle funding on the market's futures sessions when a mark update shows a funding time passed."""
        m = self.markets.get((e.exchange, e.symbol))
        if m is None:
            return
        event = m.funding.on_mark(e.ts, e.mark, e.rate, e.next_funding_ts)
        if event is None:
            return
        for s in m.sessions:
            if s.active and s.broker.side != 0:
                amount = s.on_funding(event.ts, event.rate, event.mark)
                self.audit.record("FundingSettled", session_id=s.id, ts=event.ts, rate=event.rate, mark=event.mark,
                                  amount=amount)
                await self._checkpoint(s)

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

    async def _bars_closed(self, m: Market, closed: list[tuple[Timeframe, Candle]], recv_ns: int) -> None:
        """Evaluate closed bars in order and wait until their signals became orders. After a repair several
        bars close at once: only the newest of each timeframe may trade, the others are too late."""
        m.feed.counters.backfilled_bars = m.bars.backfilled
        newest = {tf: bar.ts for tf, bar in closed}
        for tf, bar in closed:
            await self._deliver_bar(m, tf, bar, recv_ns, act=bar.ts == newest[tf])
        await self.bus.signals.queue.join()

    async def _deliver_bar(self, m: Market, tf: Timeframe, bar: Candle, recv_ns: int, act: bool = True) -> None:
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
        await self._refused(s, self.paper_risk.mark(s, bar.ts), bar.ts)
        if act and s.active and (row.entry_long or row.exit_long or row.entry_short or row.exit_short or row.scale_in):
            await self.bus.publish(SignalRaised(s.id, bar.ts + s.spec.timeframe.ms, row.entry_long, row.exit_long,
                                                row.entry_short, row.exit_short, recv_ns, row.scale_in))
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
        orders = s.act(SignalRow(e.entry_long, e.exit_long, e.entry_short, e.exit_short, e.scale_in), e.bar_ts)
        refused = self.paper_risk.check(s, orders, e.bar_ts)
        for order in orders:
            if order.state.value == "rejected":
                await self.bus.publish(OrderRejected(s.id, order.id, order.note, e.bar_ts))
            elif order not in refused:
                await self.bus.publish(OrderRequested(s.id, order.id, order.side, order.action, order.reason,
                                                      e.bar_ts))
        await self._refused(s, refused, e.bar_ts)

    async def _refused(self, s: PaperSession, cancelled: list[Any], ts: int) -> None:
        """Entries a breached risk limit cancelled are rejected; each new halt goes to the audit log."""
        for order in cancelled:
            await self.bus.publish(OrderRejected(s.id, order.id, order.note, ts))
        for session_id, reason in self.paper_risk.take_halts():
            self.audit.record("SessionHalted", session_id=session_id, reason=reason,
                              cancelled=[o.id for o in cancelled])

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
            await self.bus.publish(SessionCheckpoint(s.id, s.status, s.snapshot(), s.last_bar_ts,
                                                     self.clock.now_ms()))
