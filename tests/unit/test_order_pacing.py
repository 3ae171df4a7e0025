"""Binance's order-rate pacing: a full window waits, and the exchange's own count corrects ours."""

from __future__ import annotations

import time

from infrastructure.exchanges.pacing import OrderCountPacer


async def test_an_order_beyond_the_window_limit_waits_until_the_oldest_leaves_the_window() -> None:
    pacer = OrderCountPacer(limits=((0.3, 3, "10S"),), headroom=1.0)
    started = time.monotonic()
    for _ in range(3):
        await pacer.acquire()
    assert time.monotonic() - started < 0.1
    await pacer.acquire()
    assert time.monotonic() - started >= 0.29


async def test_orders_counted_by_the_exchange_but_not_sent_by_us_use_up_the_budget() -> None:
    pacer = OrderCountPacer(limits=((0.3, 3, "10S"),), headroom=1.0)
    await pacer.acquire()
    pacer.release(200, {"X-MBX-ORDER-COUNT-10S": "3"})
    started = time.monotonic()
    await pacer.acquire()
    assert time.monotonic() - started >= 0.25


def test_headroom_keeps_the_client_below_the_published_limits() -> None:
    pacer = OrderCountPacer()
    assert [(w, n) for w, n, _ in pacer.limits] == [(10.0, 270), (60.0, 1080)]
