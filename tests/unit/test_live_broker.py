"""The live broker's decisions against an in-memory exchange: sizing, stops, the guardian, reversal, halts."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from app.live.trading.broker import SentOrder
from app.live.trading.live_broker import LiveBroker, LiveSettings
from app.live.trading.ports import OrderIntent, OrderReport
from app.live.trading.router import OrderRouter
from domain.live.risk import RiskEngine, RiskLimits
from domain.strategy import SignalRow
from tests.unit.trading_fakes import FakeExchange, FixedClock, MemoryJournal

LONG, SHORT, EXIT_LONG = SignalRow(True, False, False, False), SignalRow(False, False, True, False), SignalRow(
    False, True, False, False)
T = TypeVar("T")


class FixedEquity:
    def __init__(self, equity: float) -> None:
        self.value = equity

    async def equity(self, price: float) -> float:
        return self.value


def broker(exchange: FakeExchange, settings: LiveSettings, limits: RiskLimits | None = None,
           equity: float = 10_000.0) -> LiveBroker:
    router = OrderRouter(exchange, MemoryJournal(), FixedClock(), "unit-BTCUSDT-1m")
    b = LiveBroker(router, FixedEquity(equity), RiskEngine(limits or RiskLimits()), settings, FixedClock())
    b.bind("BTCUSDT", 0.0)
    return b


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def test_an_entry_is_sized_from_the_accounts_equity_and_protected_by_a_reduce_only_exchange_stop() -> None:
    ex = FakeExchange(price=100.0)
    b = broker(ex, LiveSettings(position_size_pct=50, stop_loss_pct=2.0, leverage=2, lot_size=0.001))

    async def go() -> list[tuple[str, str, bool]]:
        await b.on_price(0, 100.0)
        return [o.shape for o in await b.on_signal(LONG, 0)]

    assert run(go()) == [("BUY", "MARKET", False), ("SELL", "STOP_MARKET", True)]
    assert b.position == 100.0  # 50 % of 10,000 at 2x leverage = 10,000 of notional at 100
    (stop,) = [o for o in ex.orders.values() if o.is_open]
    assert stop.reduce_only and stop.quantity == 100.0 and stop.stop_price == 98.0


def test_a_trailing_stop_follows_the_best_price_never_loosens_and_is_never_missing() -> None:
    ex = FakeExchange(price=100.0)
    b = broker(ex, LiveSettings(position_size_pct=10, trailing_stop_pct=1.0, lot_size=0.001))

    async def go() -> list[float]:
        await b.on_price(0, 100.0)
        await b.on_signal(LONG, 0)
        levels = []
        for price in (101.0, 103.0, 102.0, 100.5, 104.0):
            await b.on_price(1, price)
            levels.append(b.stop.current.stop_price if b.stop.current else 0.0)
        return levels

    assert run(go()) == [100.0, 102.0, 102.0, 102.0, 103.0]
    assert ex.min_open_stops == 1


def test_on_spot_the_guardian_holds_the_stop_locally_and_sends_the_exit_at_its_level() -> None:
    ex = FakeExchange(symbol="KRW-BTC", price=100.0, holds_stops=False)
    b = broker(ex, LiveSettings(position_size_pct=10, stop_loss_pct=5.0, trailing_stop_pct=2.0, spot=True),
               equity=100_000.0)

    async def go() -> tuple[list[SentOrder], list[SentOrder], float]:
        await b.on_price(0, 100.0)
        await b.on_signal(LONG, 0)
        await b.on_price(1, 110.0)  # the trailing level follows: 107.8
        held = await b.on_price(2, 108.0)
        level = b.guard_level
        ex.price = 107.0
        return held, await b.on_price(3, 107.0), level

    held, exit_, level = run(go())
    assert held == [] and level == 107.8
    assert [(o.shape, o.reason) for o in exit_] == [(("SELL", "MARKET", True), "stop")]
    assert b.position == 0 and not [o for o in ex.orders.values() if o.type != "MARKET"]


def test_an_opposite_entry_closes_reverses_and_moves_the_protection_to_the_new_side() -> None:
    ex = FakeExchange(price=100.0)
    b = broker(ex, LiveSettings(position_size_pct=10, stop_loss_pct=1.0, lot_size=0.001))

    async def go() -> list[tuple[str, str, bool]]:
        await b.on_price(0, 100.0)
        await b.on_signal(LONG, 0)
        return [o.shape for o in await b.on_signal(SHORT, 1)]

    assert run(go()) == [("SELL", "MARKET", True), ("SELL", "MARKET", False), ("BUY", "STOP_MARKET", True)]
    assert b.position == -10.0
    (stop,) = [o for o in ex.orders.values() if o.is_open]
    assert stop.side == "BUY" and stop.stop_price == 101.0


def test_a_refused_entry_halts_and_sends_nothing() -> None:
    ex = FakeExchange(price=100.0)
    b = broker(ex, LiveSettings(position_size_pct=10, lot_size=0.001), RiskLimits(max_position_notional=500))

    async def go() -> list[SentOrder]:
        await b.on_price(0, 100.0)
        return list(await b.on_signal(LONG, 0))

    assert run(go()) == [] and ex.placements == 0
    assert b.halted == "position notional 1,000.00 would be above the limit of 500.00"


def test_a_breached_daily_loss_cancels_open_entries_keeps_the_stop_and_allows_only_exits() -> None:
    ex = FakeExchange(price=100.0)
    b = broker(ex, LiveSettings(position_size_pct=10, stop_loss_pct=1.0, reverse=False, lot_size=0.001),
               RiskLimits(daily_loss_limit=50))
    account = b.account
    assert isinstance(account, FixedEquity)

    async def go() -> tuple[str, list[OrderReport], list[SentOrder]]:
        await b.on_price(0, 100.0)
        await b.mark()  # the day starts at 10,000
        await b.on_signal(LONG, 0)
        router = b.router
        await router.submit(OrderIntent(router.new_client_id(), "BTCUSDT", "BUY", "LIMIT", 1.0, price=90.0))
        account.value = 9_940.0
        reason = await b.mark()
        kept = [o for o in ex.orders.values() if o.is_open]
        return reason, kept, list(await b.on_signal(EXIT_LONG, 1))

    reason, kept, exit_ = run(go())
    assert reason == "the day's loss 60.00 reached the daily loss limit of 50.00" == b.halted
    assert [(o.type, o.reduce_only) for o in kept] == [("STOP_MARKET", True)]
    assert [o.shape for o in exit_] == [("SELL", "MARKET", True)]
