"""One session's data path over its port: stream events → bars → the evaluator → the broker (paper or live)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from app.live.bars import MarketBars
from app.live.events import BarClosed, FeedDisconnected, KlineTick, TradeTick
from app.live.trading.broker import SentOrder, SessionBroker
from domain.market import Candle, Timeframe
from domain.strategy import IncrementalEvaluator

BarHook = Callable[[Candle], Awaitable[None]]


@dataclass
class SessionDriver:
    """Feeds a market's stream to one strategy and its broker. The same driver runs a paper and a live session,
    so one strategy on one stream sends the same orders through either broker."""

    evaluator: IncrementalEvaluator
    bars: MarketBars
    broker: SessionBroker
    timeframe: Timeframe
    after_bar: BarHook | None = None  # live: follow the account's equity once per closed bar
    sent: list[SentOrder] = field(default_factory=list)
    last_bar_ts: int = -1

    async def join(self, after_ts: int) -> None:
        """Start after the last history bar: bars missed since are fetched (warm-up only, too late to act on)."""
        self.last_bar_ts = after_ts
        for bar in await self.bars.join(self.timeframe, after_ts):
            await self._bar(bar, act=False)

    async def on_event(self, event: Any) -> None:
        """A parsed stream event (TradeTick, KlineTick, BarClosed, FeedDisconnected; others are ignored)."""
        if isinstance(event, TradeTick):
            closed = self.bars.add_trade(event.ts, event.price, event.volume)
            if closed is None:
                closed = await self.bars.on_trade(event.ts, event.price, event.volume)
            await self._closed(closed)  # the bar's orders first, then the trade moves prices and stops
            self.sent += await self.broker.on_price(event.ts, event.price)
        elif isinstance(event, (KlineTick, BarClosed)):
            c = event.candle
            closed_flag = event.closed if isinstance(event, KlineTick) else True
            self.sent += await self.broker.on_price(c.ts + 59_999 if closed_flag else c.ts, c.close)
            await self._closed(await self.bars.on_kline(c, closed_flag))
        elif isinstance(event, FeedDisconnected):
            self.bars.disconnected()

    async def _closed(self, closed: list[tuple[Timeframe, Candle]]) -> None:
        mine = [bar for tf, bar in closed if tf is self.timeframe]
        for bar in mine:  # after a repair several close at once: only the newest may trade
            await self._bar(bar, act=bar is mine[-1])

    async def _bar(self, bar: Candle, act: bool) -> None:
        if bar.ts <= self.last_bar_ts:
            return
        self.last_bar_ts = bar.ts
        row = self.evaluator.update(bar)
        if self.after_bar is not None:
            await self.after_bar(bar)
        if act and (row.entry_long or row.exit_long or row.entry_short or row.exit_short):
            self.sent += await self.broker.on_signal(row, bar.ts + self.timeframe.ms)
