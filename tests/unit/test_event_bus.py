"""Event bus: drop-oldest market data, back-pressured signals, orders never lost, clean shutdown."""

from __future__ import annotations

import asyncio
import threading

from app.live.bus import EventBus
from app.live.events import BarClosed, OrderRequested, SignalRaised, TradeTick
from domain.market import Candle


def _tick(i: int) -> TradeTick:
    return TradeTick("demo", "KRW-BTC", i, 100.0 + i, 1.0)


def _order(i: int) -> OrderRequested:
    return OrderRequested("s1", f"o-{i}", 1, "open", "signal", i)


async def test_a_full_market_data_queue_drops_the_oldest_ticks_and_counts_them() -> None:
    bus = EventBus(data_size=10)
    seen: list[int] = []
    bus.subscribe(TradeTick, lambda e: seen.append(e.ts))
    await bus.start()
    for i in range(100):  # no await in between: the dispatcher cannot run, the queue overflows
        bus.publish_nowait(_tick(i))
    await bus.drain()
    await bus.stop()
    assert seen == list(range(90, 100))
    assert bus.data.stats.dropped == 90


async def test_orders_are_never_dropped_even_when_the_consumer_is_slow() -> None:
    bus = EventBus(order_size=2)
    seen: list[str] = []

    async def slow(e: OrderRequested) -> None:
        await asyncio.sleep(0)
        seen.append(e.order_id)

    bus.subscribe(OrderRequested, slow)
    await bus.start()
    for i in range(200):
        await bus.publish(_order(i))
    await bus.stop()
    assert seen == [f"o-{i}" for i in range(200)]
    assert bus.orders.stats.dropped == 0 and bus.orders.stats.waits > 0


async def test_stop_delivers_every_queued_order_before_returning() -> None:
    bus = EventBus()
    seen: list[str] = []
    bus.subscribe(OrderRequested, lambda e: seen.append(e.order_id))
    await bus.start()
    for i in range(50):
        await bus.publish(_order(i))
    await bus.stop()
    assert len(seen) == 50


async def test_a_slow_synchronous_handler_runs_in_a_worker_thread() -> None:
    bus = EventBus()
    threads: list[int] = []
    bus.subscribe(SignalRaised, lambda e: threads.append(threading.get_ident()), blocking=True)
    await bus.start()
    await bus.publish(SignalRaised("s1", 0, True, False, False, False))
    await bus.drain()
    await bus.stop()
    assert threads and threads[0] != threading.get_ident()


async def test_a_failing_handler_is_counted_and_the_next_event_still_arrives() -> None:
    errors: list[BaseException] = []
    bus = EventBus(on_error=lambda err, ev: errors.append(err))
    seen: list[int] = []

    def handler(e: TradeTick) -> None:
        if e.ts == 0:
            raise RuntimeError("boom")
        seen.append(e.ts)

    bus.subscribe(TradeTick, handler)
    await bus.start()
    bus.publish_nowait(_tick(0))
    bus.publish_nowait(_tick(1))
    await bus.drain()
    await bus.stop()
    assert seen == [1] and bus.data.stats.errors == 1 and isinstance(errors[0], RuntimeError)


async def test_start_and_stop_leave_no_task_behind() -> None:
    before = asyncio.all_tasks()
    bus = EventBus()
    bus.subscribe(TradeTick, lambda e: None)
    await bus.start()
    assert len(asyncio.all_tasks()) == len(before) + 3
    bus.publish_nowait(_tick(1))
    await bus.stop()
    assert asyncio.all_tasks() == before


async def test_closed_bars_in_the_market_data_queue_survive_an_overflow_of_ticks() -> None:
    bus = EventBus(data_size=5)
    bars: list[int] = []
    ticks: list[int] = []
    bus.subscribe(BarClosed, lambda e: bars.append(e.candle.ts))
    bus.subscribe(TradeTick, lambda e: ticks.append(e.ts))
    await bus.start()
    for i in range(1000):
        bus.publish_nowait(_tick(i))
        if i % 100 == 0:
            bus.publish_nowait(BarClosed("demo", "KRW-BTC", "1m", Candle(i, 1, 1, 1, 1, 1)))
    await bus.drain()
    await bus.stop()
    assert bars == list(range(0, 1000, 100))
    assert len(ticks) + bus.data.stats.dropped == 1000


def _signal(ts: int) -> SignalRaised:
    return SignalRaised("s1", ts, True, False, False, False)


async def test_a_signal_on_an_idle_channel_is_handled_before_publish_returns() -> None:
    bus = EventBus()
    seen: list[int] = []
    bus.subscribe(SignalRaised, lambda e: seen.append(e.bar_ts))
    await bus.start()
    await bus.publish(_signal(1))
    assert seen == [1]  # no trip through the event loop: the handler ran inside publish
    assert bus.signals.queue.qsize() == 0
    await bus.stop()
    assert (bus.signals.stats.published, bus.signals.stats.handled) == (1, 1)


async def test_signals_published_while_one_is_being_handled_queue_behind_it_in_order() -> None:
    bus = EventBus(signal_size=2)
    seen: list[int] = []
    release = asyncio.Event()

    async def handler(e: SignalRaised) -> None:
        if e.bar_ts == 0:
            await release.wait()  # the first signal's handler waits (say, for room in a full order queue)
        seen.append(e.bar_ts)

    bus.subscribe(SignalRaised, handler)
    await bus.start()
    first = asyncio.create_task(bus.publish(_signal(0)))
    await asyncio.sleep(0)
    more = asyncio.create_task(_publish_all(bus, range(1, 6)))  # 5 signals into a queue of 2: back-pressure
    for _ in range(5):
        await asyncio.sleep(0)
    assert seen == [] and bus.signals.stats.waits > 0
    release.set()
    await asyncio.gather(first, more)
    await bus.drain()
    await bus.stop()
    assert seen == [0, 1, 2, 3, 4, 5]


async def _publish_all(bus: EventBus, stamps: range) -> None:
    for ts in stamps:
        await bus.publish(_signal(ts))


async def test_stop_lets_a_signal_being_handled_finish_its_orders() -> None:
    bus = EventBus(order_size=1)
    orders: list[str] = []

    async def on_signal(e: SignalRaised) -> None:
        for i in range(3):  # the order queue holds one: this handler waits for room twice
            await bus.publish(_order(i))

    bus.subscribe(SignalRaised, on_signal)
    bus.subscribe(OrderRequested, lambda e: orders.append(e.order_id))
    await bus.start()
    bus.orders.queue.put_nowait(_order(-1))  # the order queue starts full
    bus.orders.stats.published += 1
    signal = asyncio.create_task(bus.publish(_signal(0)))
    await asyncio.sleep(0)
    await bus.stop()
    await signal
    assert orders == ["o--1", "o-0", "o-1", "o-2"]
