"""One market's live bars: aggregation of its stream, and repair over REST after every (re)connect.

A stream that (re)connects starts mid-minute, so the first minute it shows is incomplete, and the
minutes while it was away are missing. The market therefore starts *suspended*: trades still move
prices (fills, stops) but build no bars. The first trade sets the boundary M = the next minute after
it; when a trade at or after M arrives, the minute before M is complete on the exchange, so the bars
[resume_from, M) are fetched over REST, handed out in order, and aggregation resumes at M. A kline
stream needs no boundary guess: its bars are whole, so bars before the first streamed bar are fetched.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from app.market_data.exchange import ExchangeGateway
from domain.live.aggregator import BarAggregator, TradeAggregator
from domain.market import Candle, CandleSeries, Timeframe
from domain.market.planning import plan, wanted

M1 = Timeframe.M1
BarFetch = Callable[[str, Timeframe, int, int], Awaitable[CandleSeries]]
"""(symbol, timeframe, start, end) -> closed bars opening in [start, end), over REST."""


async def fetch_bars(gateway: ExchangeGateway, symbol: str, timeframe: Timeframe, start: int,
                     end: int) -> CandleSeries:
    """Every bar in [start, end) from a gateway, paged as collection pages (the exchange's geometry)."""
    out = CandleSeries.empty(timeframe)
    lo, hi = wanted(timeframe, start, end)
    if hi <= lo:
        return out
    for req in sorted(plan([(lo, hi)], timeframe, gateway.geometry), key=lambda r: r.start):
        result = await gateway.fetch_candles(symbol, timeframe, (req.start, req.end))
        out = out.concat(result.series.slice_time(req.start, req.end))
    return out


@dataclass
class MarketBars:
    """Bars of one market: 1m from trades (or klines), higher timeframes rolled up from closed 1m bars."""

    exchange: str
    symbol: str
    fetch: BarFetch
    base: TradeAggregator = field(default_factory=lambda: TradeAggregator(M1))
    higher: dict[Timeframe, BarAggregator] = field(default_factory=dict)
    suspended: bool = True
    resume_from: int = -1  # first 1m bar not yet handed out (-1: none wanted before the stream)
    boundary: int = -1  # M: the first minute the stream shows whole
    backfilled: int = 0
    repairs: int = 0

    async def join(self, timeframe: Timeframe, after_ts: int) -> list[Candle]:
        """A session needs every bar of `timeframe` after `after_ts` (its last history bar). Returns the
        bars it missed while the stream was already running (fetched as 1m bars and rolled up). No await
        separates the last check from the return, so the caller can attach the session without a gap."""
        first_1m = after_ts + timeframe.ms if after_ts >= 0 else -1
        missed: list[Candle] = []
        cursor = first_1m
        while not self.suspended and cursor >= 0 and cursor < self.base.last_closed + M1.ms:
            end = self.base.last_closed + M1.ms
            chunk = await self.fetch(self.symbol, M1, cursor, end)
            missed.extend(chunk.candle(i) for i in range(len(chunk)))
            cursor = end
        agg = self.higher.get(timeframe)
        created = timeframe is not M1 and agg is None
        if created:
            agg = self.higher[timeframe] = BarAggregator(M1, timeframe)
            agg.last_closed = after_ts
        if self.suspended:  # the repair will fetch from the earliest bar anyone needs
            if first_1m >= 0 and (self.resume_from < 0 or first_1m < self.resume_from):
                self.resume_from = first_1m
            return []
        self.backfilled += len(missed)
        if timeframe is M1:
            return missed
        roll = agg if created and agg is not None else BarAggregator(M1, timeframe)
        if not created:
            roll.last_closed = after_ts
        out: list[Candle] = []
        for bar in missed:
            out.extend(roll.add(bar))
        return out

    def disconnected(self) -> None:
        """The stream dropped: the forming bar is incomplete; bars resume after a repair."""
        if not self.suspended:
            self.resume_from = self.base.last_closed + M1.ms if self.base.last_closed >= 0 else self.resume_from
            self.base = TradeAggregator(M1)
            self.base.last_closed = self.resume_from - M1.ms
        self.suspended = True
        self.boundary = -1

    def add_trade(self, ts: int, price: float, volume: float) -> list[tuple[Timeframe, Candle]] | None:
        """The hot path: fold a trade in without awaiting. Returns the bars it closed, or None when the
        market is suspended and the trade must go through `on_trade` (which may repair over REST)."""
        if self.suspended:
            return None
        closed = self.base.add(ts, price, volume)
        return [] if closed is None else self._roll(closed)

    async def on_trade(self, ts: int, price: float, volume: float) -> list[tuple[Timeframe, Candle]]:
        """Fold a trade in; returns the bars it closed (after a repair: the backfilled ones first)."""
        closed = self.add_trade(ts, price, volume)
        if closed is not None:
            return closed
        if self.boundary < 0:
            self.boundary = M1.floor(ts) + M1.ms
            return []
        if ts < self.boundary:
            return []
        out = await self._repair(self.boundary)
        self.base.add(ts, price, volume)
        return out

    async def on_kline(self, bar: Candle, closed: bool) -> list[tuple[Timeframe, Candle]]:
        """A 1m kline push: closed ones are bars; the first push after a (re)connect triggers a repair."""
        out: list[tuple[Timeframe, Candle]] = []
        if self.suspended:
            out = await self._repair(bar.ts)
        if closed and bar.ts > self.base.last_closed:
            self.base.last_closed = bar.ts
            out.extend(self._roll(bar))
        return out

    async def _repair(self, boundary: int) -> list[tuple[Timeframe, Candle]]:
        bars: list[Candle] = []
        fetched_from = boundary
        while True:  # a session may join while we wait for REST and want earlier bars: loop until none do
            want = self.resume_from if self.resume_from >= 0 else boundary
            if want >= fetched_from:
                break
            chunk = await self.fetch(self.symbol, M1, want, fetched_from)
            bars[:0] = [chunk.candle(i) for i in range(len(chunk))]
            fetched_from = want
        self.backfilled += len(bars)
        out: list[tuple[Timeframe, Candle]] = []
        for bar in bars:
            out.extend(self._roll(bar))
        self.base = TradeAggregator(M1)
        self.base.last_closed = boundary - M1.ms
        self.suspended = False
        self.repairs += 1
        self.boundary = -1
        self.resume_from = boundary
        return out

    def flush(self, now_ms: int) -> list[tuple[Timeframe, Candle]]:
        """Close bars whose time is over (quiet markets): call from a timer with the exchange's clock."""
        if self.suspended:
            return []
        closed = self.base.flush(now_ms)
        out = self._roll(closed) if closed is not None else []
        for agg in self.higher.values():
            bar = agg.flush(now_ms)
            if bar is not None:
                out.append((agg.timeframe, bar))
        return out

    def _roll(self, bar: Candle) -> list[tuple[Timeframe, Candle]]:
        self.resume_from = max(self.resume_from, bar.ts + M1.ms)
        out = [(M1, bar)]
        for agg in self.higher.values():
            out.extend((agg.timeframe, done) for done in agg.add(bar))
        return out

    def forming(self, timeframe: Timeframe) -> Candle | None:
        """The bar still forming (for live charts)."""
        return self.base.current() if timeframe is M1 else self.higher[timeframe].current()
