"""The Binance combined stream: klines and markPriceUpdate payloads wrapped as {"stream", "data"}."""

from __future__ import annotations

import json

import pytest

from app.live.events import KlineTick, MarkPriceTick
from infrastructure.exchanges.binance_ws import BinanceKlineFeed
from infrastructure.exchanges.ws import Rejected

MARK = {"e": "markPriceUpdate", "E": 1_709_280_000_000, "s": "BTCUSDT", "p": "61234.5", "i": "61230.0",
        "P": "61240.1", "r": "0.00010000", "T": 1_709_308_800_000}


def wrapped(stream: str, data: dict) -> str:
    return json.dumps({"stream": stream, "data": data})


def test_a_futures_feed_reads_the_combined_stream_with_mark_prices() -> None:
    feed = BinanceKlineFeed("BTCUSDT", "http://127.0.0.1:1", mark_price=True)
    assert feed.url == "ws://127.0.0.1:1/stream?streams=btcusdt@kline_1m/btcusdt@markPrice@1s"
    [tick] = feed.parse(wrapped("btcusdt@markPrice@1s", MARK), 7)
    assert tick == MarkPriceTick("binance", "BTCUSDT", 1_709_280_000_000, 61234.5, 0.0001, 1_709_308_800_000, 7)
    k = {"t": 1_709_280_000_000, "T": 1_709_280_059_999, "s": "BTCUSDT", "i": "1m", "o": "1", "c": "2", "h": "3",
         "l": "0.5", "v": "10", "x": False}
    [kline] = feed.parse(wrapped("btcusdt@kline_1m", {"e": "kline", "E": 1, "s": "BTCUSDT", "k": k}), 0)
    assert isinstance(kline, KlineTick) and kline.candle.high == 3.0


@pytest.mark.parametrize(("change", "why"), [({"s": "ETHUSDT"}, "subscribed to BTCUSDT"), ({"T": "soon"}, "E or T"),
                                             ({"r": "1.5"}, "out of range"), ({"p": "-1"}, "out of range")])
def test_a_bad_mark_update_is_rejected_with_the_reason(change: dict, why: str) -> None:
    feed = BinanceKlineFeed("BTCUSDT", "http://127.0.0.1:1", mark_price=True)
    with pytest.raises(Rejected, match=why):
        feed.parse(wrapped("btcusdt@markPrice@1s", {**MARK, **change}), 0)
