"""The pre-trade risk engine halts a session on a breached limit and never blocks a reduction."""

from __future__ import annotations

import pytest

from domain.live.risk import DAY_MS, OrderCheck, RiskEngine, RiskLimits

NOW = 1_700_000_000_000


def order(notional: float = 100.0, position_after: float = 100.0, reduces: bool = False, open_orders: int = 0,
          leverage: int = 1) -> OrderCheck:
    return OrderCheck(notional, position_after, reduces, open_orders, leverage)


@pytest.mark.parametrize(("limits", "check", "words"), [
    (RiskLimits(max_order_notional=50), order(), "order notional 100.00 is above the limit of 50.00"),
    (RiskLimits(max_position_notional=150), order(position_after=200), "position notional 200.00"),
    (RiskLimits(max_open_orders=2), order(open_orders=2), "2 orders are open; the limit is 2"),
    (RiskLimits(max_leverage=5), order(leverage=10), "leverage 10x is above the limit of 5x"),
])
def test_each_limit_refuses_the_order_halts_the_session_and_says_why(limits: RiskLimits, check: OrderCheck,
                                                                     words: str) -> None:
    risk = RiskEngine(limits)
    assert words in risk.check(check, NOW)
    assert risk.halted and "session halted" in risk.check(order(notional=1, position_after=1), NOW)
    assert risk.check(order(reduces=True, notional=1e9), NOW) == ""  # closing is always allowed
    risk.reset()
    assert risk.check(order(notional=1, position_after=1), NOW) == ""


def test_orders_per_minute_count_only_the_last_minute() -> None:
    risk = RiskEngine(RiskLimits(max_orders_per_minute=2))
    risk.sent(NOW)
    risk.sent(NOW + 1000)
    assert "2 orders were sent in the last minute" in risk.check(order(), NOW + 2000)
    risk.reset()
    risk.sent(NOW)
    assert risk.check(order(), NOW + 60_001) == ""


def test_the_daily_loss_limit_halts_once_the_days_loss_reaches_it_and_a_new_day_starts_afresh() -> None:
    risk = RiskEngine(RiskLimits(daily_loss_limit=500))
    day = NOW - NOW % DAY_MS
    assert risk.mark(10_000, day + 1) == ""
    assert risk.mark(9_600, day + 2) == ""
    assert "reached the daily loss limit of 500.00" in risk.mark(9_500, day + 3)
    assert risk.check(order(), day + 4).startswith("session halted")
    risk.reset()
    assert risk.mark(9_500, day + DAY_MS + 1) == ""


def test_limits_that_make_no_sense_are_named() -> None:
    assert RiskLimits(max_order_notional=0, max_open_orders=0).problems() == [
        "max_order_notional: must be a positive amount, got 0",
        "max_open_orders: must be a whole number of at least 1, got 0"]
