"""The CLI's cash and commission defaults come from the one costs model."""

from __future__ import annotations

from app.commands.common import CSV_CASH, CSV_COMMISSION, cost_defaults


def test_exchange_candles_default_to_the_exchanges_taker_fee_and_cash_in_their_quote_currency() -> None:
    assert cost_defaults("upbit", "KRW-BTC", None, None) == (10_000_000.0, 0.0005)
    assert cost_defaults("binance", "BTCUSDT", None, None) == (10_000.0, 0.0005)
    assert cost_defaults("demo", "KRW-ETH", None, None) == (10_000_000.0, 0.0005)


def test_candles_from_a_file_keep_the_documented_defaults_and_given_values_always_win() -> None:
    assert cost_defaults(None, None, None, None) == (CSV_CASH, CSV_COMMISSION)
    assert cost_defaults("csv", "GOOG", None, None) == (CSV_CASH, CSV_COMMISSION)
    assert cost_defaults("upbit", "KRW-BTC", 5.0, 0.001) == (5.0, 0.001)
