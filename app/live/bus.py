"""Event bus: three bounded asyncio queues with explicit overflow policies, async and off-loop handlers.

- market data: drop-oldest when full (a fresh tick beats a stale one); every drop is counted. Only ticks
  are droppable: closed bars, backfills and feed status share the queue (to keep their order with the
  ticks) but are never dropped.
- signals: bounded; a full queue makes the producer wait (back-pressure), the wait is counted. A signal
  published while the channel is idle (nothing queued, nothing being handled) is handed straight to its
  handlers in the publisher's task: the same order and the same handlers, without a round trip through the
  event loop, where every other ready task (other streams' messages) would run first.
- orders: never dropped; the producer awaits room, and `stop()` drains every queued order first.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from app.live.events import (
    DATA_EVENTS,
    DROPPABLE,
    OrderFilled,
    OrderRejected,
    OrderRequested,
    PositionChanged,
    SessionCheckpoint,
    SessionFlattened,
)

log = logging.getLogger(__name__)

Handler = Callable[[Any], Awaitable[None] | None]
ORDER_EVENTS = (OrderRequested, OrderFilled, OrderRejected, PositionChanged, SessionFlattened, SessionCheckpoint)


@dataclass
class ChannelStats:
    """Counters of one queue; read by the metrics panel."""

    published: int = 0
    handled: int = 0
    dropped: int = 0
    waits: int = 0
    errors: int = 0
    high_water: int = 0


@dataclass
class _Subscription:
    handler: Handler
    mode: str  # "async" | "sync" | "thread"


class DropOldestQueue:
    """A bounded FIFO for the loop's own producers: when full, the oldest droppable item makes room.

    Offers the subset of asyncio.Queue the bus uses (put_nowait, get, task_done, join, qsize)."""

    def __init__(self, maxsize: int, droppable: tuple[type, ...]) -> None:
        self.maxsize = maxsize
        self._items: deque[Any] = deque()
        self._droppable = droppable
        self._ready = asyncio.Event()
        self._unfinished = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def qsize(self) -> int:
        return len(self._items)

    def empty(self) -> bool:
        return not self._items

    def full(self) -> bool:
        return len(self._items) >= self.maxsize

    def put_nowait(self, item: Any) -> int:
        """Append `item`; returns how many items were dropped to make room (0 or 1)."""
        dropped = 0
        if len(self._items) >= self.maxsize and self._drop_one():
            dropped = 1
        self._items.append(item)
        self._unfinished += 1
        self._idle.clear()
        self._ready.set()
        return dropped

    def _drop_one(self) -> bool:
        items = self._items
        if isinstance(items[0], self._droppable):
            items.popleft()
        else:  # rare: a bar or status event is oldest; drop the oldest tick behind it
            i = next((k for k, x in enumerate(items) if isinstance(x, self._droppable)), -1)
            if i < 0:
                return False  # nothing droppable: the bound yields rather than lose a bar
            del items[i]
        self.task_done()
        return True

    def get_nowait(self) -> Any:
        return self._items.popleft()

    async def get(self) -> Any:
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        return self._items.popleft()

    def task_done(self) -> None:
        self._unfinished -= 1
        if self._unfinished <= 0:
            self._unfinished = 0
            self._idle.set()

    async def join(self) -> None:
        await self._idle.wait()


@dataclass
class _Channel:
    name: str
    queue: Any  # asyncio.Queue or DropOldestQueue
    stats: ChannelStats = field(default_factory=ChannelStats)
    direct: bool = False  # hand an event straight to its handlers while the channel is idle
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)  # one delivery at a time on a direct channel


class EventBus:
    """Publish events into the channel their type belongs to; one dispatcher task per channel."""

    def __init__(self, data_size: int = 10_000, signal_size: int = 1_000, order_size: int = 1_000,
                 on_error: Callable[[BaseException, Any], None] | None = None) -> None:
        self.data = _Channel("data", DropOldestQueue(data_size, DROPPABLE))
        self.signals = _Channel("signals", asyncio.Queue(signal_size), direct=True)
        self.orders = _Channel("orders", asyncio.Queue(order_size))
        self._subs: dict[type, list[_Subscription]] = defaultdict(list)
        self._threaded: set[type] = set()  # event types with a handler in a worker thread: never direct
        self._tasks: list[asyncio.Task[None]] = []
        self._on_error = on_error
        self._accepting = False

    @property
    def channels(self) -> tuple[_Channel, _Channel, _Channel]:
        return (self.data, self.signals, self.orders)

    @property
    def running(self) -> bool:
        return bool(self._tasks)

    def subscribe(self, event_type: type, handler: Handler, blocking: bool = False) -> None:
        """Call `handler(event)` for every event of `event_type`. Coroutine functions are awaited;
        plain functions are called on the loop, or in a worker thread when `blocking` (slow I/O)."""
        mode = "async" if inspect.iscoroutinefunction(handler) else "thread" if blocking else "sync"
        self._subs[event_type].append(_Subscription(handler, mode))
        if mode == "thread":
            self._threaded.add(event_type)

    def channel_for(self, event: Any) -> _Channel:
        if isinstance(event, DATA_EVENTS):
            return self.data
        if isinstance(event, ORDER_EVENTS):
            return self.orders
        return self.signals

    def publish_nowait(self, event: Any) -> bool:
        """Publish a market-data event without waiting (drop-oldest). Returns False if it was refused."""
        ch = self.channel_for(event)
        if ch is not self.data:
            raise TypeError(f"{type(event).__name__} goes to the {ch.name} queue; use `await publish()`")
        if not self._accepting:
            ch.stats.dropped += 1
            return False
        q = ch.queue
        ch.stats.dropped += q.put_nowait(event)
        ch.stats.published += 1
        size = q.qsize()
        if size > ch.stats.high_water:
            ch.stats.high_water = size
        return True

    async def publish(self, event: Any) -> None:
        """Publish any event; signals and orders wait for room rather than being lost."""
        ch = self.channel_for(event)
        if ch is self.data:
            self.publish_nowait(event)
            return
        if ch.direct and not ch.turn.locked() and ch.queue.empty() and self._accepting \
                and type(event) not in self._threaded:
            ch.stats.published += 1
            async with ch.turn:  # free, so taken without yielding
                await self._deliver(ch, event)
            return
        if ch.queue.full():
            ch.stats.waits += 1
        await ch.queue.put(event)
        ch.stats.published += 1
        size = ch.queue.qsize()
        if size > ch.stats.high_water:
            ch.stats.high_water = size

    async def start(self) -> None:
        if self._tasks:
            return
        self._accepting = True
        self._tasks = [asyncio.create_task(self._dispatch(ch), name=f"bus-{ch.name}") for ch in self.channels]

    async def stop(self) -> None:
        """Stop taking market data, deliver every queued signal and order, then end the dispatchers."""
        if not self._tasks:
            return
        self._accepting = False  # from here on signals queue rather than go direct
        async with self.signals.turn:  # a direct delivery (in the data dispatcher's task) finishes first
            pass
        data_task, *rest = self._tasks
        data_task.cancel()  # market data is disposable; signals and orders are not
        await asyncio.gather(data_task, return_exceptions=True)
        await self.signals.queue.join()
        await self.orders.queue.join()
        for task in rest:
            task.cancel()
        await asyncio.gather(*rest, return_exceptions=True)
        self._tasks = []
        q = self.data.queue
        while not q.empty():  # unprocessed market data is stale by now; count it as dropped
            q.get_nowait()
            q.task_done()
            self.data.stats.dropped += 1

    async def drain(self) -> None:
        """Wait until every queue is empty and every handler has returned."""
        for ch in self.channels:
            await ch.queue.join()

    async def _dispatch(self, ch: _Channel) -> None:
        q = ch.queue
        while True:
            event = await q.get()
            try:
                if ch.direct:  # a direct delivery still in progress (its handler waiting) finishes first
                    async with ch.turn:
                        await self._deliver(ch, event)
                else:
                    await self._deliver(ch, event)
            finally:
                q.task_done()

    async def _deliver(self, ch: _Channel, event: Any) -> None:
        for sub in self._subs.get(type(event), ()):
            try:
                if sub.mode == "sync":
                    sub.handler(event)
                elif sub.mode == "async":
                    await sub.handler(event)  # type: ignore[misc]
                else:
                    await asyncio.to_thread(sub.handler, event)
            except asyncio.CancelledError:
                raise
            except Exception as err:  # a faulty handler must not stop the dispatcher
                ch.stats.errors += 1
                log.exception("handler %r failed on %s", sub.handler, type(event).__name__)
                if self._on_error is not None:
                    self._on_error(err, event)
        ch.stats.handled += 1
