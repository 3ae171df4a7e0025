"""Websocket streams: Upbit /websocket/v1 trades and tickers, Binance /ws/<symbol>@kline_<interval> and @markPrice."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import numpy as np
from aiohttp import WSMsgType, web

from domain.market import DAY_MS, Timeframe
from infrastructure.simulator.binance import kline_rows
from infrastructure.simulator.funding import mark_price_socket
from infrastructure.simulator.market import SimulatedMarket, Trades, newest_bars
from infrastructure.simulator.pump import pump
from infrastructure.simulator.state import STATE, SimulatorState

_INTERVALS = {tf.binance: tf for tf in Timeframe if tf.binance}


def _ws_error(name: str, message: str) -> bytes:
    return json.dumps({"error": {"name": name, "message": message}}).encode()


def parse_subscription(state: SimulatorState, raw: str | bytes) -> tuple[dict[str, list[str]], bytes | None]:
    """Upbit's request array → {type: codes}, or an error message in Upbit's format."""
    try:
        req = json.loads(raw)
    except ValueError:
        return {}, _ws_error("WRONG_FORMAT", "request is not JSON")
    if not isinstance(req, list) or not all(isinstance(x, dict) for x in req):
        return {}, _ws_error("WRONG_FORMAT", "request must be a JSON array of objects")
    if not any("ticket" in x for x in req):
        return {}, _ws_error("NO_TICKET", "a ticket field is required")
    subs = {x["type"]: x.get("codes") for x in req if "type" in x}
    if not subs:
        return {}, _ws_error("NO_TYPE", "a type field is required")
    out: dict[str, list[str]] = {}
    for kind, codes in subs.items():
        if kind not in ("trade", "ticker"):
            return {}, _ws_error("INVALID_PARAM", f"type {kind!r} is not offered by the simulator")
        if not codes or not isinstance(codes, list):
            return {}, _ws_error("NO_CODES", "codes are required")
        bad = [c for c in codes if state.market("upbit", str(c).upper()) is None]
        if bad:
            return {}, _ws_error("INVALID_PARAM", f"unknown codes {bad}")
        out[kind] = [str(c).upper() for c in codes]
    return out, None


class _Day:
    """Running day figures for ticker messages, updated trade by trade."""

    def __init__(self, market: SimulatedMarket, day: int, upto_ms: int) -> None:
        prev = newest_bars(market, Timeframe.D1, day * DAY_MS, 1, upto_ms)
        done = market.trades(day).before(upto_ms)
        self.day = day
        self.prev_close = float(prev.close[-1]) if len(prev) else float("nan")
        self.open = float(done.price[0]) if len(done.ts) else float("nan")
        self.high = float(done.price.max()) if len(done.ts) else float("-inf")
        self.low = float(done.price.min()) if len(done.ts) else float("inf")
        self.volume = float(done.volume.sum())
        self.quote = float((done.price * done.volume).sum())

    def add(self, price: float, volume: float) -> None:
        if self.open != self.open:
            self.open = price
        self.high, self.low = max(self.high, price), min(self.low, price)
        self.volume += volume
        self.quote += price * volume


def _trades_between(market: SimulatedMarket, start_ms: int, end_ms: int) -> Trades:
    parts = []
    for day in range(start_ms // DAY_MS, (end_ms - 1) // DAY_MS + 1):
        t = market.trades(day)
        lo, hi = t.ts.searchsorted([start_ms, end_ms])
        parts.append(Trades(t.ts[lo:hi], t.price[lo:hi], t.volume[lo:hi], t.buy[lo:hi]))
    return Trades(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("ts", "price", "volume", "buy")))


def _trade_messages(code: str, t: Trades, i: int, day: _Day, kinds: list[str], seq: int) -> list[dict[str, Any]]:
    ts, price, vol = int(t.ts[i]), float(t.price[i]), float(t.volume[i])
    day.add(price, vol)
    change = price - day.prev_close
    word = "RISE" if change > 0 else "FALL" if change < 0 else "EVEN"
    when = datetime.fromtimestamp(ts / 1000, UTC)
    out = []
    if "trade" in kinds:
        out.append({"type": "trade", "code": code, "timestamp": ts + 3, "trade_date": when.strftime("%Y-%m-%d"),
                    "trade_time": when.strftime("%H:%M:%S"), "trade_timestamp": ts, "trade_price": price,
                    "trade_volume": vol, "ask_bid": "BID" if t.buy[i] else "ASK",
                    "prev_closing_price": day.prev_close, "change": word, "change_price": abs(change),
                    "sequential_id": ts * 10_000 + seq % 10_000, "stream_type": "REALTIME"})
    if "ticker" in kinds:
        out.append({"type": "ticker", "code": code, "trade_price": price, "opening_price": day.open,
                    "high_price": day.high, "low_price": day.low, "prev_closing_price": day.prev_close,
                    "change": word, "change_price": abs(change), "acc_trade_volume": day.volume,
                    "acc_trade_price": day.quote, "trade_timestamp": ts, "timestamp": ts + 3,
                    "stream_type": "REALTIME"})
    return out


async def upbit_socket(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    first = await ws.receive()
    if first.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
        await ws.close()
        return ws
    subs, error = parse_subscription(state, first.data)
    if error is not None:
        await ws.send_bytes(error)
        await ws.close()
        return ws
    codes = sorted({c for cs in subs.values() for c in cs})
    kinds_of = {c: [k for k, cs in subs.items() if c in cs] for c in codes}
    cursor = state.now_ms()
    days = {c: _Day(_market(state, c), cursor // DAY_MS, cursor) for c in codes}
    seq = 0

    async def tick() -> None:
        nonlocal cursor, seq
        now = state.now_ms()
        for code in codes:
            market = _market(state, code)
            t = _trades_between(market, cursor, now)
            for i in range(len(t.ts)):
                if int(t.ts[i]) // DAY_MS != days[code].day:
                    days[code] = _Day(market, int(t.ts[i]) // DAY_MS, int(t.ts[i]))
                seq += 1
                for msg in _trade_messages(code, t, i, days[code], kinds_of[code], seq):
                    await ws.send_bytes(json.dumps(msg).encode())  # Upbit sends binary frames
        cursor = max(cursor, now)

    await pump(ws, state.config.stream_interval_s, tick)
    return ws


def _market(state: SimulatorState, code: str) -> SimulatedMarket:
    m = state.market("upbit", code)
    assert m is not None
    return m


def _kline_message(symbol: str, tf: Timeframe, row: list[Any], closed: bool, now: int) -> str:
    k = {"t": row[0], "T": row[6], "s": symbol, "i": tf.binance, "f": 0, "L": max(0, row[8] - 1),
         "o": row[1], "c": row[4], "h": row[2], "l": row[3], "v": row[5], "n": row[8], "x": closed,
         "q": row[7], "V": row[9], "Q": row[10], "B": "0"}
    return json.dumps({"e": "kline", "E": now, "s": symbol, "k": k})


async def binance_socket(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    name = request.match_info["stream"]
    if name.endswith(("@markPrice", "@markPrice@1s")):
        return await mark_price_socket(request, name)
    sym, _, interval = name.partition("@kline_")
    market = state.market("binance", sym.upper())
    tf = _INTERVALS.get(interval)
    if market is None or tf is None:
        raise web.HTTPBadRequest(text=json.dumps({"code": -1121, "msg": f"Invalid stream {name!r}."}))
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    symbol = sym.upper()
    open_ms = tf.floor(state.now_ms())

    async def tick() -> None:
        nonlocal open_ms
        now = state.now_ms()
        while open_ms + tf.ms <= now:  # bars that closed since the last tick: final message, x true
            for row in kline_rows(market.bars(tf, open_ms, open_ms + tf.ms, now), tf):
                await ws.send_str(_kline_message(symbol, tf, row, True, now))
            open_ms += tf.ms
        for row in kline_rows(market.bars(tf, open_ms, open_ms + tf.ms, now), tf):
            await ws.send_str(_kline_message(symbol, tf, row, False, now))

    await pump(ws, max(state.config.stream_interval_s, 0.05) * 2.5, tick)
    return ws


def add_routes(app: web.Application) -> None:
    app.router.add_get("/websocket/v1", upbit_socket)
    app.router.add_get("/ws/{stream}", binance_socket)
