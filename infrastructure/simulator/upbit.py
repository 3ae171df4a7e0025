"""Upbit quotation REST routes: markets, minute/day/week candles (newest first, exclusive `to`), ticker."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from aiohttp import web

from domain.market import DAY_MS, Timeframe
from infrastructure.simulator.faults import FAULT, json_answer, respond_with_fault
from infrastructure.simulator.market import Bars, newest_bars
from infrastructure.simulator.state import STATE, SimulatorState

MAX_COUNT = 200
_UNITS = {1: Timeframe.M1, 3: Timeframe.M3, 5: Timeframe.M5, 10: Timeframe.M10, 15: Timeframe.M15,
          30: Timeframe.M30, 60: Timeframe.H1, 240: Timeframe.H4}
_KST = timedelta(hours=9)


def upbit_error(status: int, name: str | int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=_error_body(name, message), headers=headers,
                        content_type="application/json")


def _error_body(name: str | int, message: str) -> bytes:
    return json.dumps({"error": {"name": name, "message": message}}).encode()


def parse_to(text: str) -> int:
    """Upbit's `to`: ISO 8601 with Z, an offset, or none (= UTC); 'T' or a space; '+' may arrive as ' '."""
    t = text.strip()
    t = re.sub(r"(\d{2}:\d{2}:\d{2}(?:\.\d+)?) (\d{2}:?\d{2})$", r"\1+\2", t)  # '+09:00' decoded as ' 09:00'
    dt = datetime.fromisoformat(t.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def _iso(ms: int, shift: timedelta = timedelta(0)) -> str:
    return (datetime.fromtimestamp(ms / 1000, UTC) + shift).strftime("%Y-%m-%dT%H:%M:%S")


def newest_before(state: SimulatorState, symbol: str, tf: Timeframe, to_ms: int, count: int) -> Bars:
    market = state.market("upbit", symbol)
    assert market is not None
    return newest_bars(market, tf, to_ms, count, state.now_ms())


def _iso_column(ts: np.ndarray, shift_ms: int = 0) -> list[str]:
    return np.datetime_as_string((ts + shift_ms).astype("datetime64[ms]"), unit="s").tolist()


def candle_rows(symbol: str, tf: Timeframe, bars: Bars, prev_close: float | None) -> list[dict[str, Any]]:
    """Upbit JSON candles, newest first."""
    utc, kst = _iso_column(bars.ts), _iso_column(bars.ts, 9 * 3_600_000)
    cols = zip(utc, kst, bars.open.tolist(), bars.high.tolist(), bars.low.tolist(), bars.close.tolist(),
               bars.last_trade_ts.tolist(), bars.quote.tolist(), bars.volume.tolist(), strict=True)
    rows = []
    prev = prev_close
    unit = tf.ms // 60_000 if tf.ms < DAY_MS else None
    daily = tf is Timeframe.D1
    for u, k, o, h, lo, c, last, quote, vol in cols:
        row: dict[str, Any] = {
            "market": symbol, "candle_date_time_utc": u, "candle_date_time_kst": k, "opening_price": o,
            "high_price": h, "low_price": lo, "trade_price": c, "timestamp": last,
            "candle_acc_trade_price": quote, "candle_acc_trade_volume": vol,
        }
        if unit is not None:
            row["unit"] = unit
        elif daily:
            if prev is not None:
                row.update(prev_closing_price=prev, change_price=c - prev, change_rate=round((c - prev) / prev, 10))
            prev = c
        else:
            row["first_day_of_period"] = u[:10]
        rows.append(row)
    rows.reverse()
    return rows


async def candles(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    tf = request.match_info.get("unit")
    if tf is None:
        timeframe = Timeframe.D1 if request.path.endswith("/days") else Timeframe.W1
    else:
        timeframe = _UNITS.get(int(tf)) if tf.isdigit() else None
        if timeframe is None:
            return upbit_error(400, "validation_error", f"unit: must be one of {sorted(_UNITS)}")
    q = request.query
    symbol = q.get("market", "")
    if not symbol:
        return upbit_error(400, "validation_error", "market: required")
    if state.market("upbit", symbol) is None:
        return upbit_error(404, "404", "Code not found")
    try:
        count = int(q.get("count", "1"))
        to_ms = parse_to(q["to"]) if q.get("to") else state.now_ms() + 1
    except ValueError:
        return upbit_error(400, "validation_error", "count or to: invalid value")
    if not 1 <= count <= MAX_COUNT:
        return upbit_error(400, "validation_error", f"count: must be between 1 and {MAX_COUNT}")
    # generating a long history takes a while: keep the loop (maybe the app's own) responsive
    bars = await asyncio.to_thread(newest_before, state, symbol, timeframe, to_ms, count + (timeframe is Timeframe.D1))
    prev = None
    if timeframe is Timeframe.D1 and len(bars) > count:
        prev, bars = float(bars.close[0]), bars.take(slice(1, len(bars)))
    rows = candle_rows(symbol, timeframe, bars, prev)
    if request.get(FAULT) == "bad_row" and rows:
        rows[len(rows) // 2]["high_price"] = "NaN?"
    return await _json(request, rows)


async def _json(request: web.Request, payload: Any) -> web.StreamResponse:
    return await json_answer(request, json.dumps(payload, ensure_ascii=False).encode())


async def market_all(request: web.Request) -> web.StreamResponse:
    specs = request.app[STATE].specs("upbit")
    return await _json(request, [{"market": s.symbol, "korean_name": s.korean_name,
                                  "english_name": s.english_name} for s in specs])


async def ticker(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    codes = [c for c in request.query.get("markets", "").split(",") if c]
    if not codes or any(state.market("upbit", c) is None for c in codes):
        return upbit_error(404, "404", "Code not found")
    return await _json(request, [ticker_payload(state, c) for c in codes])


def ticker_payload(state: SimulatorState, code: str) -> dict[str, Any]:
    """Day-so-far figures for `code` at the simulator's now."""
    now = state.now_ms()
    day = newest_before(state, code, Timeframe.D1, now + 1, 2)
    last = len(day) - 1
    prev = float(day.close[last - 1]) if last >= 1 else float(day.open[last])
    price = float(day.close[last])
    change = price - prev
    return {
        "market": code, "trade_date": _iso(int(day.last_trade_ts[last]))[:10].replace("-", ""),
        "trade_price": price, "opening_price": float(day.open[last]), "high_price": float(day.high[last]),
        "low_price": float(day.low[last]), "prev_closing_price": prev,
        "change": "RISE" if change > 0 else "FALL" if change < 0 else "EVEN", "change_price": abs(change),
        "change_rate": round(abs(change) / prev, 10), "trade_timestamp": int(day.last_trade_ts[last]),
        "acc_trade_volume": float(day.volume[last]), "acc_trade_price": float(day.quote[last]),
        "timestamp": now,
    }


async def gate(request: web.Request, handler: Any) -> web.StreamResponse:
    """Faults first, then the per-second limit of the route's group; every answer says what is left."""
    state = request.app[STATE]
    group = "candles" if "/candles/" in request.path else "ticker" if "ticker" in request.path else "market"
    route = f"upbit.{group}"
    fault = state.faults.pick()
    if fault:
        request[FAULT] = fault
        resp = await respond_with_fault(request, fault, _error_body("too_many_requests", "Too many API requests."),
                                        retry_after=False, slow_s=state.config.slow_s)
        if resp is not None:
            state.log.record(route, resp.status)
            return resp
    verdict = state.upbit_limits.check(f"{request.remote}:{group}")
    header = {"Remaining-Req": f"group={group}; min=1800; sec={verdict.remaining}"}
    if verdict.status == 429:
        resp = upbit_error(429, "too_many_requests", "Too many API requests.", header)
    elif verdict.status == 418:
        resp = upbit_error(418, "blocked", f"Too many 429s; blocked for {verdict.retry_after_s} s", header)
    else:
        resp = await handler(request)
        if not resp.prepared:
            resp.headers.update(header)
    state.log.record(route, resp.status)
    return resp


def add_routes(app: web.Application) -> None:
    app.router.add_get("/v1/market/all", market_all)
    app.router.add_get("/v1/candles/minutes/{unit}", candles)
    app.router.add_get("/v1/candles/days", candles)
    app.router.add_get("/v1/candles/weeks", candles)
    app.router.add_get("/v1/ticker", ticker)
