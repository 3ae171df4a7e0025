"""Live-trading events: immutable, slotted records that travel through the event bus."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.market import Candle


@dataclass(slots=True, frozen=True)
class TradeTick:
    """One trade from a stream. `recv_ns` is `time.perf_counter_ns()` when the message arrived."""

    exchange: str
    symbol: str
    ts: int
    price: float
    volume: float
    recv_ns: int = 0


@dataclass(slots=True, frozen=True)
class KlineTick:
    """A streamed bar snapshot (Binance kline): the bar so far, `closed` on its final push."""

    exchange: str
    symbol: str
    timeframe: str
    candle: Candle
    closed: bool
    recv_ns: int = 0


@dataclass(slots=True, frozen=True)
class MarkPriceTick:
    """A futures mark price update (Binance `markPriceUpdate`): the mark at `ts`, the funding rate announced for
    the next funding time `next_funding_ts`."""

    exchange: str
    symbol: str
    ts: int
    mark: float
    rate: float
    next_funding_ts: int
    recv_ns: int = 0


@dataclass(slots=True, frozen=True)
class BarClosed:
    """A completed bar of one market and timeframe (from live aggregation or a REST backfill)."""

    exchange: str
    symbol: str
    timeframe: str
    candle: Candle
    backfilled: bool = False
    recv_ns: int = 0


@dataclass(slots=True, frozen=True)
class SignalRaised:
    """A session's strategy signalled on the close of bar `bar_ts`."""

    session_id: str
    bar_ts: int
    entry_long: bool
    exit_long: bool
    entry_short: bool
    exit_short: bool
    recv_ns: int = 0
    scale_in: bool = False  # add to the open position (the strategy's scale-in rule held)


@dataclass(slots=True, frozen=True)
class OrderRequested:
    """A market order for a session: `side` +1 buy / -1 sell; `action` open, close or flatten."""

    session_id: str
    order_id: str
    side: int
    action: str
    reason: str
    ts: int


@dataclass(slots=True, frozen=True)
class OrderFilled:
    """A paper fill: quantity, price after slippage, commission paid and why the order was sent."""

    session_id: str
    order_id: str
    side: int
    quantity: float
    price: float
    commission: float
    reason: str
    ts: int
    realized_pnl: float = 0.0


@dataclass(slots=True, frozen=True)
class OrderRejected:
    session_id: str
    order_id: str
    reason: str
    ts: int


@dataclass(slots=True, frozen=True)
class PositionChanged:
    """A session's position after a fill: side 0 = flat."""

    session_id: str
    side: int
    size: float
    entry_price: float
    cash: float
    equity: float
    realized_pnl: float
    ts: int


@dataclass(slots=True, frozen=True)
class FeedReconnected:
    """A stream came back after `attempt` tries; bars in [gap_start, gap_end) were backfilled over REST."""

    exchange: str
    symbol: str
    attempt: int
    gap_start: int
    gap_end: int
    backfilled: int


@dataclass(slots=True, frozen=True)
class FeedDisconnected:
    exchange: str
    symbol: str
    reason: str


@dataclass(slots=True, frozen=True)
class SessionError:
    """Something went wrong in a session; `fatal` errors flatten it."""

    session_id: str
    message: str
    fatal: bool


@dataclass(slots=True, frozen=True)
class SessionFlattened:
    """Emergency flatten: new orders stopped and every position closed at market."""

    session_id: str
    reason: str
    closed: int
    ts: int


@dataclass(slots=True, frozen=True)
class SessionCheckpoint:
    """A session's state to persist (taken on the loop; written by a worker thread)."""

    session_id: str
    status: str
    state: dict[str, Any]
    last_bar_ts: int
    ts: int


@dataclass(slots=True, frozen=True)
class SessionBar:
    """A closed bar as one session saw it (for live charts); `forming` is the next bar so far, if any."""

    session_id: str
    candle: Candle


@dataclass(slots=True, frozen=True)
class BarsBackfilled:
    """Bars fetched over REST for [gap_start, gap_end) after a reconnect; live bars resume at gap_end."""

    exchange: str
    symbol: str
    gap_start: int
    gap_end: int
    bars: tuple[Candle, ...]


@dataclass(slots=True, frozen=True)
class BarTimer:
    """The clock passed `now_ms`: bars of quiet markets whose time is over may close (sent through the
    market-data queue so that it never overtakes ticks still waiting there)."""

    now_ms: int


# Market-data queue members, and the ones it may drop when full (ticks only).
DROPPABLE = (TradeTick, KlineTick)
DATA_EVENTS = (TradeTick, KlineTick, MarkPriceTick, BarClosed, BarsBackfilled, FeedDisconnected, FeedReconnected,
               BarTimer)
