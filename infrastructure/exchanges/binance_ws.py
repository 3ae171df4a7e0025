"""Binance USDⓈ-M kline stream `/ws/<symbol>@kline_1m`: forming bars as KlineTicks, final ones as BarClosed."""

from __future__ import annotations

import math
from typing import Any

import orjson

from app.live.events import BarClosed, KlineTick
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


class BinanceKlineFeed(WebSocketFeed):
    """1-minute klines of one symbol; higher timeframes are rolled up by the app."""

    exchange = "binance"

    def __init__(self, symbol: str, base_url: str = BINANCE_WS_URL, policy: StreamPolicy | None = None,
                 seed: int | None = None, exchange: str | None = None, interval: str = "1m") -> None:
        super().__init__(symbol, base_url, policy, seed, exchange)
        self.interval = interval

    @property
    def url(self) -> str:
        return ws_url(self.base_url, f"/ws/{self.symbol.lower()}@kline_{self.interval}")

    def parse(self, data: str | bytes, recv_ns: int) -> list[Any]:
        msg = orjson.loads(data)  # ~5x faster than json on the hot path; rejects NaN literals too
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
