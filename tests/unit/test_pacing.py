"""Client pacing: Upbit's per-second window counted from answers and corrected by Remaining-Req; Binance weight."""

from __future__ import annotations

import asyncio

import pytest

from infrastructure.exchanges.pacing import UpbitPacer, WeightPacer


class FrozenClock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


async def blocks(coro: object) -> bool:
    try:
        await asyncio.wait_for(coro, timeout=0.05)  # type: ignore[arg-type]
    except TimeoutError:
        return True
    return False


def header(sec: int) -> dict[str, str]:
    return {"Remaining-Req": f"group=candles; min=1800; sec={sec}"}


async def test_a_full_second_makes_the_next_request_wait_until_the_oldest_answer_is_a_second_old() -> None:
    clock = FrozenClock()
    pacer = UpbitPacer(per_second=3, clock=clock)
    for left in (2, 1, 0):
        await pacer.acquire()
        pacer.release(200, header(left))
    assert await blocks(pacer.acquire())
    clock.t += 1.0
    assert not await blocks(pacer.acquire())


async def test_requests_in_flight_hold_their_slot_until_answered() -> None:
    pacer = UpbitPacer(per_second=2, clock=FrozenClock())
    await pacer.acquire()
    await pacer.acquire()
    assert await blocks(pacer.acquire())


async def test_remaining_req_lower_than_expected_means_someone_else_spends_the_budget() -> None:
    pacer = UpbitPacer(per_second=10, clock=FrozenClock())
    await pacer.acquire()
    pacer.release(200, header(0))  # we sent one, the server says none left this second
    assert await blocks(pacer.acquire())


async def test_a_429_empties_the_window_for_a_second() -> None:
    clock = FrozenClock()
    pacer = UpbitPacer(per_second=10, clock=clock)
    await pacer.acquire()
    pacer.release(429, {})
    assert await blocks(pacer.acquire())
    clock.t += 1.0
    assert not await blocks(pacer.acquire())


@pytest.mark.parametrize("used", ["2280", "2400"])
async def test_binance_waits_for_the_next_minute_when_the_reported_weight_nears_the_budget(used: str) -> None:
    clock = FrozenClock(60 * 1000 + 10)
    pacer = WeightPacer(budget=2400, clock=clock)
    await pacer.acquire(10)
    pacer.release(200, {"X-MBX-USED-WEIGHT-1M": used}, 10)
    assert await blocks(pacer.acquire(10))
    clock.t += 50
    assert not await blocks(pacer.acquire(10))


async def test_binance_goes_ahead_while_the_weight_stays_under_95_percent_of_the_budget() -> None:
    pacer = WeightPacer(budget=2400, clock=FrozenClock(60 * 1000 + 10))
    await pacer.acquire(10)
    pacer.release(200, {"X-MBX-USED-WEIGHT-1M": "2270"}, 10)
    assert not await blocks(pacer.acquire(10))
