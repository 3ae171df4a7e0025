"""Binance USDⓈ-M futures REST routes: exchangeInfo, klines (oldest first, weight by limit) and fundingRate."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import numpy as np
from aiohttp import web

from domain.market import Timeframe
from infrastructure.simulator.faults import FAULT, json_answer, respond_with_fault
from infrastructure.simulator.funding import funding_rate
from infrastructure.simulator.limits import binance_weight
from infrastructure.simulator.market import Bars, newest_bars, oldest_bars
from infrastructure.simulator.state import STATE

MAX_LIMIT = 1500
MIN_NOTIONAL = {"BTCUSDT": 100.0, "ETHUSDT": 20.0, "SOLUSDT": 5.0}  # USDT, as Binance lists them
_INTERVALS = {tf.binance: tf for tf in Timeframe if tf.binance}


def binance_error(status: int, code: int, msg: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=json.dumps({"code": code, "msg": msg}).encode(), headers=headers,
                        content_type="application/json")


def num(x: float) -> str:
    """Shortest decimal that reads back as the same double, without exponent."""
    text = repr(float(x))
    return text if "e" not in text else np.format_float_positional(x, trim="-")


def kline_rows(bars: Bars, tf: Timeframe) -> list[list[Any]]:
    cols = [bars.open, bars.high, bars.low, bars.close, bars.volume, bars.quote, bars.buy_volume, bars.buy_quote]
    o, h, lo, c, v, q, bv, bq = ([num(x) for x in col.tolist()] for col in cols)
    ts, n = bars.ts.tolist(), bars.trades.tolist()
    return [[ts[i], o[i], h[i], lo[i], c[i], v[i], ts[i] + tf.ms - 1, q[i], n[i], bv[i], bq[i], "0"]
            for i in range(len(ts))]


def _weight_of(request: web.Request) -> int:
    if request.path.endswith("/klines"):
        try:
            return binance_weight(int(request.query.get("limit", "500")))
        except ValueError:
            return 1
    return 1


async def klines(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    q = request.query
    symbol = q.get("symbol", "")
    if not symbol:
        return binance_error(400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")
    market = state.market("binance", symbol)
    if market is None:
        return binance_error(400, -1121, "Invalid symbol.")
    tf = _INTERVALS.get(q.get("interval", ""))
    if tf is None:
        return binance_error(400, -1120, "Invalid interval.")
    try:
        limit = int(q.get("limit", "500"))
        start = int(q["startTime"]) if "startTime" in q else None
        end = int(q["endTime"]) + 1 if "endTime" in q else None
    except ValueError:
        return binance_error(400, -1100, "Illegal characters found in a parameter.")
    if not 1 <= limit <= MAX_LIMIT:
        return binance_error(400, -1130, "Data sent for parameter 'limit' is not valid.")
    now = state.now_ms()
    if start is None:
        bars = await asyncio.to_thread(newest_bars, market, tf, end if end is not None else now + 1, limit, now)
    else:
        bars = await asyncio.to_thread(oldest_bars, market, tf, start, end if end is not None else now + 1, limit,
                                       now)
    rows = kline_rows(bars, tf)
    if request.get(FAULT) == "bad_row" and rows:
        rows[len(rows) // 2][2] = "oops"
    return await _json(request, rows)


async def exchange_info(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    symbols = [{
        "symbol": s.symbol, "pair": s.symbol, "contractType": "PERPETUAL", "status": "TRADING",
        "baseAsset": s.symbol.removesuffix("USDT"), "quoteAsset": "USDT",
        "pricePrecision": s.price_decimals, "onboardDate": 1_577_836_800_000,
        "filters": [
            {"filterType": "PRICE_FILTER", "tickSize": num(s.tick), "minPrice": num(s.tick), "maxPrice": "1000000"},
            {"filterType": "LOT_SIZE", "stepSize": num(s.lot), "minQty": num(s.lot), "maxQty": "1000"},
            {"filterType": "MARKET_LOT_SIZE", "stepSize": num(s.lot), "minQty": num(s.lot), "maxQty": "120"},
            {"filterType": "MIN_NOTIONAL", "notional": num(MIN_NOTIONAL.get(s.symbol, 5.0))},
        ],
    } for s in state.specs("binance")]
    limits = [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
               "limit": state.config.binance_weight_per_minute}]
    return await _json(request, {"timezone": "UTC", "serverTime": state.now_ms(), "rateLimits": limits,
                                 "symbols": symbols})


async def _json(request: web.Request, payload: Any) -> web.StreamResponse:
    return await json_answer(request, json.dumps(payload).encode())


async def gate(request: web.Request, handler: Any) -> web.StreamResponse:
    """Faults first, then the weight budget; every answer reports the weight used this minute."""
    state = request.app[STATE]
    route = ("binance.klines" if request.path.endswith("/klines")
             else "binance.funding" if request.path.endswith("/fundingRate") else "binance.info")
    fault = state.faults.pick()
    if fault:
        request[FAULT] = fault
        body = json.dumps({"code": -1003, "msg": "Too many requests."}).encode()
        resp = await respond_with_fault(request, fault, body, retry_after=True, slow_s=state.config.slow_s)
        if resp is not None:
            state.log.record(route, resp.status)
            return resp
    verdict = state.binance_limits.check(request.remote or "?", _weight_of(request))
    header = {"X-MBX-USED-WEIGHT-1M": str(verdict.used_weight)}
    if verdict.status in (418, 429):
        header["Retry-After"] = str(verdict.retry_after_s)
        msg = "Way too many requests; IP banned." if verdict.status == 418 else "Too many requests."
        resp = binance_error(verdict.status, -1003, msg, header)
    else:
        resp = await handler(request)
        if not resp.prepared:
            resp.headers.update(header)
    state.log.record(route, resp.status)
    return resp


def add_routes(app: web.Application) -> None:
    app.router.add_get("/fapi/v1/exchangeInfo", exchange_info)
    app.router.add_get("/fapi/v1/klines", klines)
    app.router.add_get("/fapi/v1/fundingRate", funding_rate)
