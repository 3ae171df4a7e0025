"""Binance USDⓈ-M kline stream `/ws/<symbol>@kline_1m` (with `@markPrice@1s` combined): KlineTicks, BarClosed, marks."""

from __future__ import annotations

import math
from typing import Any

import orjson

from app.live.events import BarClosed, KlineTick, MarkPriceTick
from domain.market import Candle
from infrastructure.exchanges.ws import Rejected, StreamPolicy, WebSocketFeed, ws_url

BINANCE_WS_URL = "wss://fstream.binance.com"


def _decimal(k: dict[str, Any], key: str) -> float:
    v = k[key]
    if type(v) is not str or len(v) > 40:
        raise Rejected(f"k.{key} is not a decimal string")
    f = float(v)
    if not math.isfinite(f) or f < 0.0 or f >= 1e15:
        raise Rejected(f"k.{key} is out of range: {v!r}")
    return f


def _mark(msg: dict[str, Any], symbol: str, exchange: str, recv_ns: int) -> MarkPriceTick:
    """A `markPriceUpdate`: E event time, p mark, r funding rate, T next funding time."""
    if msg.get("s") != symbol:
        raise Rejected(f"mark price of {msg.get('s')!r}, subscribed to {symbol}")
    e, t = msg.get("E"), msg.get("T")
    if type(e) is not int or type(t) is not int or not 0 < e < 1 << 50 or not 0 < t < 1 << 50:
        raise Rejected("E or T is not a time in ms")
    mark = _decimal(msg, "p")
    raw = msg.get("r")
    if type(raw) is not str or len(raw) > 40:
        raise Rejected("r is not a decimal string")
    rate = float(raw) if raw else 0.0  # Binance sends "" for symbols without funding
    if not (mark > 0.0 and math.isfinite(rate) and abs(rate) < 1.0):
        raise Rejected(f"mark {msg.get('p')!r} or rate {raw!r} is out of range")
    return MarkPriceTick(exchange, symbol, e, mark, rate, t, recv_ns)


class BinanceKlineFeed(WebSocketFeed):
    """1-minute klines of one symbol; higher timeframes are rolled up by the app. With `mark_price` the
    feed reads the combined stream `/stream?streams=<s>@kline_1m/<s>@markPrice@1s` and adds MarkPriceTicks."""

    exchange = "binance"

    def __init__(self, symbol: str, base_url: str = BINANCE_WS_URL, policy: StreamPolicy | None = None,
                 seed: int | None = None, exchange: str | None = None, interval: str = "1m",
                 mark_price: bool = False) -> None:
        super().__init__(symbol, base_url, policy, seed, exchange)
        self.interval, self.mark_price = interval, mark_price

    @property
    def url(self) -> str:
        kline = f"{self.symbol.lower()}@kline_{self.interval}"
        if self.mark_price:
            return ws_url(self.base_url, f"/stream?streams={kline}/{self.symbol.lower()}@markPrice@1s")
        return ws_url(self.base_url, f"/ws/{kline}")

    def parse(self, data: str | bytes, recv_ns: int) -> list[Any]:
        msg = orjson.loads(data)  # ~5x faster than json on the hot path; rejects NaN literals too
        if self.mark_price:  # combined stream: {"stream": name, "data": payload}
            if type(msg) is not dict or type(msg.get("data")) is not dict:
                raise Rejected("not a combined stream message")
            msg = msg["data"]
            if msg.get("e") == "markPriceUpdate":
                return [_mark(msg, self.symbol, self.exchange, recv_ns)]
        if type(msg) is not dict or msg.get("e") != "kline":
            raise Rejected("not a kline event")
        k = msg["k"]
        if type(k) is not dict:
            raise Rejected("k is not an object")
        if msg.get("s") != self.symbol or k.get("s") != self.symbol or k.get("i") != self.interval:
            raise Rejected(f"kline of {k.get('s')!r} {k.get('i')!r}, subscribed to {self.symbol} {self.interval}")
        t, closed = k["t"], k["x"]
        if type(t) is not int or not 0 < t < 1 << 50 or t % 60_000:
            raise Rejected("k.t is not a bar open time")
        if type(closed) is not bool:
            raise Rejected("k.x is not a boolean")
        o, h, lo, c = (_decimal(k, f) for f in ("o", "h", "l", "c"))
        if not (lo <= min(o, c) and h >= max(o, c) and lo > 0.0):
            raise Rejected("k: high/low do not bracket open/close")
        bar = Candle(t, o, h, lo, c, _decimal(k, "v"))
        if closed:
            return [BarClosed(self.exchange, self.symbol, self.interval, bar, False, recv_ns)]
        return [KlineTick(self.exchange, self.symbol, self.interval, bar, False, recv_ns)]
