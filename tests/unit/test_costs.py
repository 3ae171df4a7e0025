"""The costs model: defaults per exchange, percent at the edges, quote currencies and default cash."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.costs import (
    Costs,
    InvalidCosts,
    MarketKind,
    default_cash,
    default_costs,
    fraction_to_pct,
    market_kind,
    pct_to_fraction,
    quote_currency,
)


def test_upbit_charges_five_hundredths_of_a_percent_on_every_fill() -> None:
    costs = default_costs("upbit")
    assert costs is not None
    assert costs.fee(market_order=True) == 0.0005 and costs.fee(market_order=False) == 0.0005
    assert costs.slippage == 0.0


def test_binance_futures_market_orders_pay_taker_and_limit_orders_maker() -> None:
    costs = default_costs("binance")
    assert costs is not None
    assert costs.fee(market_order=True) == 0.0005
    assert costs.fee(market_order=False) == 0.0002


def test_the_demo_exchange_costs_what_upbit_costs() -> None:
    assert default_costs("demo") == default_costs("upbit")


def test_csv_data_has_no_default_costs_because_the_user_gives_them() -> None:
    assert default_costs("csv") is None
    assert market_kind("csv") is None


def test_an_unknown_exchange_is_named_in_the_error() -> None:
    with pytest.raises(ValueError, match="unknown exchange 'kraken'"):
        market_kind("kraken")


def test_candles_stored_under_another_exchange_name_have_no_default_costs_or_quote_like_csv_data() -> None:
    assert default_costs("mydata") is None
    assert quote_currency("mydata", "KRW-BTC") is None and quote_currency("mydata", "BTCUSDT") is None


def test_market_kinds_follow_the_exchange() -> None:
    assert market_kind("upbit") is MarketKind.SPOT
    assert market_kind("demo") is MarketKind.SPOT
    assert market_kind("binance") is MarketKind.USDT_FUTURES


def test_percent_and_fractions_convert_without_float_noise() -> None:
    assert pct_to_fraction(0.05) == 0.0005
    assert pct_to_fraction(0.02) == 0.0002
    assert fraction_to_pct(0.0005) == 0.05
    assert fraction_to_pct(0.0002) == 0.02
    binance = default_costs("binance")
    assert binance is not None
    assert binance.to_percent() == {"taker_fee_pct": 0.05, "maker_fee_pct": 0.02, "slippage_pct": 0.0}


@given(st.floats(min_value=0.0, max_value=9.99, allow_nan=False))
def test_a_percent_survives_a_round_trip_through_a_fraction(pct: float) -> None:
    assert math.isclose(fraction_to_pct(pct_to_fraction(pct)), pct, rel_tol=1e-12, abs_tol=1e-15)


def test_costs_typed_in_percent_default_the_maker_fee_to_the_taker_fee() -> None:
    assert Costs.from_percent(0.1) == Costs(taker_fee=0.001, maker_fee=0.001, slippage=0.0)
    assert Costs.from_percent(0.05, 0.02, 0.01) == Costs(0.0005, 0.0002, 0.0001)


def test_out_of_range_costs_are_refused_naming_the_field_in_percent() -> None:
    with pytest.raises(InvalidCosts, match=r"taker_fee: must be in \[0 %, 10 %\), got 20.0 %"):
        Costs.from_percent(20)
    with pytest.raises(InvalidCosts, match="slippage: .*got -1.0 %"):
        Costs.from_percent(0.05, slippage_pct=-1)
    assert Costs(maker_fee=math.nan).problems() == ["maker_fee: must be in [0 %, 10 %), got nan %"]


@pytest.mark.parametrize(("exchange", "symbol", "quote"), [
    ("upbit", "KRW-BTC", "KRW"), ("demo", "KRW-ETH", "KRW"), ("upbit", "BTC-XRP", "BTC"),
    ("binance", "BTCUSDT", "USDT"), ("binance", "ethusdc", "USDC"), ("binance", "USDT", None),
    ("upbit", "KRWBTC", None), ("csv", "AAPL", None),
])
def test_the_quote_currency_comes_from_the_symbol(exchange: str, symbol: str, quote: str | None) -> None:
    assert quote_currency(exchange, symbol) == quote


def test_default_cash_is_ten_million_won_or_ten_thousand_tether() -> None:
    assert default_cash("KRW") == 10_000_000
    assert default_cash("USDT") == 10_000
    assert default_cash(quote_currency("binance", "BTCUSDT")) == 10_000
    assert default_cash(None) is None and default_cash("BTC") is None


def test_candles_stored_under_a_label_of_the_users_own_are_priced_as_file_data() -> None:
    from domain.costs import priced_as

    assert [priced_as(x) for x in ("upbit", "binance", "demo", "csv")] == ["upbit", "binance", "demo", "csv"]
    assert priced_as("mybroker") == "csv" and default_costs(priced_as("mybroker")) is None
