"""BalanceLedger: what a session's own fills explain of the quote balance, and what they do not."""

from __future__ import annotations

import asyncio

import pytest

from app.live.trading.balances import FUNDING_PERIOD_MS, BalanceLedger
from app.live.trading.ports import OrderReport, Position


class FakeBalances:
    """An account whose balances the test sets."""

    def __init__(self, **balances: float) -> None:
        self.now = dict(balances)

    async def balances(self) -> dict[str, float]:
        return dict(self.now)


def fill(cid: str, side: str, qty: float, price: float) -> OrderReport:
    return OrderReport(cid, cid, "X", side, "MARKET", "FILLED", qty, qty, price)


def ledger(source: FakeBalances, currency: str, futures: bool, position: Position | None = None,
           orders: list[OrderReport] | None = None) -> BalanceLedger:
    led = BalanceLedger(source, currency, futures)
    asyncio.run(led.start(orders or [], position or Position("X", 0.0, 0.0), 0))
    return led


def test_spot_buys_and_sells_move_the_expected_quote_balance_by_their_value() -> None:
    source = FakeBalances(KRW=10_000_000.0)
    led = ledger(source, "KRW", futures=False)
    orders = [fill("a-1", "BUY", 0.02, 100_000_000.0), fill("a-2", "SELL", 0.01, 110_000_000.0)]
    expected, tolerance = led.expected(orders, 0)
    assert expected == pytest.approx(10_000_000 - 2_000_000 + 1_100_000)
    assert tolerance == pytest.approx(3_100_000 * 0.002 + 1e-9 * 10_000_000)
    source.now["KRW"] = expected - 1_550.0  # the fees the exchange took: explained
    assert asyncio.run(led.check(orders, 0)) == ""
    source.now["KRW"] = expected - 50_000.0
    said = asyncio.run(led.check(orders, 0))
    assert said.startswith("balance of KRW at the exchange is 9,050,000, the session's fills explain 9,100,000")
    assert said.endswith(": -50,000 KRW unexplained")


def test_futures_closes_realise_profit_from_the_average_entry_and_a_reversal_opens_at_its_price() -> None:
    source = FakeBalances(USDT=10_000.0)
    led = ledger(source, "USDT", futures=True)
    orders = [fill("b-1", "BUY", 0.1, 30_000.0), fill("b-2", "BUY", 0.1, 32_000.0),  # long 0.2 @ 31,000
              fill("b-3", "SELL", 0.3, 33_000.0),  # closes 0.2 (+400), opens short 0.1 @ 33,000
              fill("b-4", "BUY", 0.1, 32_500.0)]  # closes the short (+50)
    expected, _ = led.expected(orders, 0)
    assert expected == pytest.approx(10_000 + 400 + 50)


def test_fills_already_in_the_baseline_are_not_counted_again_and_partial_ones_count_the_rest() -> None:
    source = FakeBalances(USDT=10_000.0)
    before = [OrderReport("c-1", "1", "X", "BUY", "LIMIT", "PARTIALLY_FILLED", 0.2, 0.1, 30_000.0)]
    led = ledger(source, "USDT", futures=True, position=Position("X", 0.1, 30_000.0), orders=before)
    now = [OrderReport("c-1", "1", "X", "BUY", "LIMIT", "FILLED", 0.2, 0.2, 30_000.0),
           fill("c-2", "SELL", 0.2, 31_000.0)]
    expected, _ = led.expected(now, 0)
    assert expected == pytest.approx(10_000 + 0.2 * 1_000)


def test_futures_allow_for_funding_on_the_largest_position_per_started_period() -> None:
    led = ledger(FakeBalances(USDT=10_000.0), "USDT", futures=True)
    orders = [fill("d-1", "BUY", 1.0, 20_000.0), fill("d-2", "SELL", 1.0, 20_000.0)]
    _, first = led.expected(orders, 0)
    _, later = led.expected(orders, 2 * FUNDING_PERIOD_MS + 1)
    assert later - first == pytest.approx(2 * 20_000 * 0.0075)
