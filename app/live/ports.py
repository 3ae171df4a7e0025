"""Ports of live trading: market streams and the store that lets paper sessions survive a restart."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from app.live.metrics import FeedCounters

FeedSink = Callable[[Any], Any]
"""Where a stream delivers parsed events (TradeTick, KlineTick, BarClosed, BarsBackfilled, Feed*)."""


class MarketFeed(Protocol):
    """One websocket stream of one market. `run` connects, reconnects with backoff, backfills the bars
    missed while disconnected and delivers events to `sink` until cancelled; bad messages are counted in
    `counters.rejected` and never raise."""

    exchange: str
    symbol: str
    counters: FeedCounters

    async def run(self, sink: FeedSink) -> None: ...


FeedFactory = Callable[[str, str], MarketFeed]
"""(exchange, symbol) -> a stream of that market."""


@dataclass(frozen=True, slots=True)
class StoredSession:
    """A paper session as persisted: its definition (JSON-safe dict), status and broker snapshot."""

    session_id: str
    spec: dict[str, Any]
    status: str
    state: dict[str, Any] | None
    last_bar_ts: int
    created_ms: int
    updated_ms: int


class PaperStore(Protocol):
    """Persistence of paper sessions, their orders and fills. Each call is one transaction."""

    def create(self, session_id: str, spec: dict[str, Any], created_ms: int, replace: bool = False) -> None:
        """Start a session's record. A stored session of that name is refused: a kept (running) one always, a
        finished one unless `replace` (which deletes its orders and fills)."""

    def save_state(self, session_id: str, status: str, state: dict[str, Any], last_bar_ts: int,
                   updated_ms: int) -> None: ...

    def add_fill(self, session_id: str, fill: dict[str, Any]) -> None: ...

    def add_order(self, session_id: str, order: dict[str, Any]) -> None: ...

    def get(self, session_id: str) -> StoredSession | None: ...

    def active(self) -> list[StoredSession]:
        """Sessions that were running when the app stopped (to resume)."""
        ...

    def all(self) -> list[StoredSession]: ...

    def fills(self, session_id: str) -> list[dict[str, Any]]: ...

    def orders(self, session_id: str) -> list[dict[str, Any]]: ...

    def delete(self, session_id: str) -> bool: ...
