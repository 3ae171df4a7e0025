"""freqtrade file names map to QuantDesk markets; files that are not prices to trade on are skipped with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.market import Timeframe
from infrastructure.freqtrade import FreqtradeFile, Skipped, classify, exchange_of


@pytest.mark.parametrize(("name", "exchange", "expected"), [
    ("BTC_USDT_USDT-1m-futures.feather", "binance", ("binance", "BTCUSDT", Timeframe.M1, "feather")),
    ("ETH_USDT_USDT-4h-futures.parquet", "binance", ("binance", "ETHUSDT", Timeframe.H4, "parquet")),
    ("BTC_USDT-1m.feather", "binance", ("binance-spot", "BTCUSDT", Timeframe.M1, "feather")),
    ("BTC_KRW-5m.json", "upbit", ("upbit", "KRW-BTC", Timeframe.M5, "json")),
    ("KRW_BTC-1d.json.gz", "upbit", ("upbit", "KRW-BTC", Timeframe.D1, "json")),
    ("SOL_USDT-1h.parquet", "kraken", ("kraken", "SOLUSDT", Timeframe.H1, "parquet")),
    ("BTC_USDT_USDT-15m-futures.feather", "bybit", ("bybit-futures", "BTCUSDT", Timeframe.M15, "feather")),
    ("1000SHIB_USDT_USDT-1w-futures.feather", "binance", ("binance", "1000SHIBUSDT", Timeframe.W1, "feather")),
])
def test_candle_files_map_to_the_quantdesk_exchange_market_and_timeframe(name: str, exchange: str,
                                                                          expected: tuple[object, ...]) -> None:
    item = classify(Path("/d") / name, exchange)
    assert isinstance(item, FreqtradeFile)
    assert (item.exchange, item.market, item.timeframe, item.fmt) == expected


@pytest.mark.parametrize(("name", "reason"), [
    ("BTC_USDT_USDT-1h-mark.feather", "mark candles"),
    ("BTC_USDT_USDT-8h-funding_rate.feather", "funding_rate candles"),
    ("BTC_USDT-2h.feather", "timeframe 2h is not one QuantDesk has"),
    ("BTC_USDT-1M.feather", "timeframe 1M is not one"),  # a month, not a minute
    ("BTC-1m.feather", "cannot tell base and quote in 'BTC'"),
    ("BTC_USDT-1m-futures.feather", "expected BASE_QUOTE_SETTLE"),
])
def test_files_that_cannot_be_imported_are_skipped_with_the_reason(name: str, reason: str) -> None:
    item = classify(Path(name), "binance")
    assert isinstance(item, Skipped) and reason in item.reason


@pytest.mark.parametrize("name", ["BTC_USDT-trades.feather", "config.json", "notes.txt", "BTC_USDT-1m.csv"])
def test_other_files_are_not_freqtrade_candles(name: str) -> None:
    assert classify(Path(name), "binance") is None


def test_the_exchange_is_the_folder_name_or_its_parent_for_the_futures_folder() -> None:
    assert exchange_of(Path("/u/user_data/data/binance")) == "binance"
    assert exchange_of(Path("/u/user_data/data/binance/futures")) == "binance"
