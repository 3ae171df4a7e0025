"""Underflowed figures read as "—", ratios go through one guard, money is labelled in the quote currency."""

from __future__ import annotations

import pytest

from app.backtests.display import market_money_label, money_label, ratio_text, stat_text, underflowed

LOSING = {"Return [%]": -95.2, "Volatility (Ann.) [%]": 0.0}
FLAT = {"Return [%]": 0.0, "Volatility (Ann.) [%]": 0.0}


def test_a_zero_volatility_on_a_run_that_lost_95_percent_is_an_underflow_shown_as_a_dash() -> None:
    assert underflowed("Volatility (Ann.) [%]", 0.0, LOSING)
    assert stat_text("Volatility (Ann.) [%]", 0.0, LOSING) == "—"
    assert stat_text("Volatility (Ann.) [%]", 3e-9, LOSING) == "—"


def test_a_run_that_never_moved_keeps_its_zero_volatility() -> None:
    assert not underflowed("Volatility (Ann.) [%]", 0.0, FLAT)
    assert stat_text("Volatility (Ann.) [%]", 0.0, FLAT) == "0"


def test_without_the_other_statistics_a_zero_volatility_is_treated_as_underflowed() -> None:
    assert underflowed("Volatility (Ann.) [%]", 0.0) and stat_text("Volatility (Ann.) [%]", 0.0) == "—"
    assert stat_text("Volatility (Ann.) [%]", 41.5) == "41.5"


@pytest.mark.parametrize(("value", "text"), [
    (1.23456, "1.2346"), (-0.5, "-0.5"), (float("nan"), "—"), (float("inf"), "—"), (None, "—"),
    (-995_767.75, "—"), (True, "—"),
])
def test_every_printed_ratio_goes_through_one_guard(value: object, text: str) -> None:
    assert ratio_text(value) == text
    assert stat_text("Sharpe (bars)", value) == text


def test_money_keys_are_labelled_in_the_markets_quote_currency() -> None:
    assert money_label("Equity Final [$]", "KRW") == "Equity Final [KRW]"
    assert market_money_label("Commissions [$]", "binance", "BTCUSDT") == "Commissions [USDT]"
    assert market_money_label("Equity Peak [$]", "upbit", "KRW-ETH") == "Equity Peak [KRW]"
    assert market_money_label("Equity Peak [$]", "csv", "GOOG") == "Equity Peak [$]"
    assert market_money_label("Return [%]", "upbit", "KRW-ETH") == "Return [%]"


def test_the_per_bar_objectives_are_guarded_as_ratios() -> None:
    from app.backtests.display import EXTRA_RATIO_KEYS
    from domain.sweep.metrics import BAR_KEYS

    assert set(BAR_KEYS) <= set(EXTRA_RATIO_KEYS)
