"""Simulated funding every 8 h near the market: GET /fapi/v1/fundingRate and the <symbol>@markPrice stream."""

from __future__ import annotations

import json
import zlib
from functools import lru_cache
from typing import Any

import numpy as np
from aiohttp import web

from domain.futures import FundingRates
from domain.market import DAY_MS
from infrastructure.simulator.faults import json_answer
from infrastructure.simulator.market import HORIZON_DAYS, LISTING_MS, SimulatedMarket, find_symbol
from infrastructure.simulator.pump import pump
from infrastructure.simulator.state import STATE

FUNDING_MS = 8 * 3_600_000
MAX_LIMIT = 1000
_FIRST = LISTING_MS // FUNDING_MS  # funding event number of the listing instant


@lru_cache(maxsize=16)
def _rates(seed: int, symbol: str) -> np.ndarray:
    """Every event's rate over the simulated horizon: 0.0001 plus slowly wandering noise, 8 decimals."""
    rng = np.random.default_rng([seed, zlib.crc32(symbol.encode()), 0xF0D1])
    n = HORIZON_DAYS * 3
    noise = rng.normal(0.0, 0.00004, n)
    wander = np.empty(n)
    acc = 0.0
    for i in range(n):  # AR(1): calm and busy stretches, as on the exchange
        acc = 0.9 * acc + noise[i]
        wander[i] = acc
    return np.round(np.clip(0.0001 + wander, -0.003, 0.003), 8)


def _marks(market: SimulatedMarket, ts: np.ndarray) -> np.ndarray:
    """The market's price path between day anchors at each time, on the tick: a mark near the traded price."""
    x, _ = market._days  # log price at each day's open
    day = ts // DAY_MS - LISTING_MS // DAY_MS
    frac = (ts % DAY_MS) / DAY_MS
    price = np.exp(x[day] + (x[day + 1] - x[day]) * frac)
    tick = market.spec.tick
    return np.round(np.round(price / tick) * tick, market.spec.price_decimals)


def funding_events(market: SimulatedMarket, start_ms: int, end_ms: int) -> FundingRates:
    """Events with start ≤ time < end (only after the listing and within the simulated horizon)."""
    first = max(-(-start_ms // FUNDING_MS), _FIRST)
    last = min(-(-end_ms // FUNDING_MS), _FIRST + HORIZON_DAYS * 3)
    if last <= first:
        return FundingRates.empty()
    k = np.arange(first, last, dtype=np.int64)
    ts = k * FUNDING_MS
    rate = _rates(market.seed, market.spec.symbol)[k - _FIRST]
    return FundingRates(ts, rate, _marks(market, ts))


def simulator_funding(symbol: str, start_ms: int, end_ms: int, seed: int = 0) -> FundingRates:
    """The simulator's own funding events of a Binance symbol in [start, end): what a collection must store."""
    spec = find_symbol("binance", symbol)
    if spec is None:
        raise ValueError(f"the simulator has no binance market {symbol!r}")
    return funding_events(SimulatedMarket(spec, seed), start_ms, end_ms)


def _error(code: int, msg: str) -> web.Response:
    return web.json_response({"code": code, "msg": msg}, status=400)


def _rows(symbol: str, events: FundingRates) -> list[dict[str, Any]]:
    return [{"symbol": symbol, "fundingTime": t, "fundingRate": f"{r:.8f}", "markPrice": f"{m:.8f}"}
            for t, r, m in zip(events.ts.tolist(), events.rate.tolist(), events.mark.tolist(), strict=True)]


async def funding_rate(request: web.Request) -> web.StreamResponse:
    """Oldest `limit` events from startTime (both ends inclusive); without startTime the newest ones."""
    state = request.app[STATE]
    q = request.query
    symbols = [q["symbol"]] if q.get("symbol") else [s.symbol for s in state.specs("binance")]
    markets = [(s, state.market("binance", s)) for s in symbols]
    try:
        limit = int(q.get("limit", "100"))
        start = int(q["startTime"]) if "startTime" in q else None
        end = int(q["endTime"]) if "endTime" in q else None
    except ValueError:
        return _error(-1100, "Illegal characters found in a parameter.")
    if any(m is None for _, m in markets):
        return _error(-1121, "Invalid symbol.")
    if not 1 <= limit <= MAX_LIMIT:
        return _error(-1130, "Data sent for parameter 'limit' is not valid.")
    hi = min(state.now_ms(), end if end is not None else 2**62) + 1
    rows: list[dict[str, Any]] = []
    for symbol, market in markets:
        assert market is not None
        if start is None:
            events = funding_events(market, max(hi - limit * FUNDING_MS, 0), hi)
        else:
            first = max(start, LISTING_MS)
            events = funding_events(market, first, min(hi, first + (limit + 1) * FUNDING_MS))
        rows += _rows(symbol, events)
    rows.sort(key=lambda r: (r["fundingTime"], r["symbol"]))
    rows = rows[-limit:] if start is None else rows[:limit]
    return await _json(request, rows)


async def _json(request: web.Request, payload: Any) -> web.StreamResponse:
    return await json_answer(request, json.dumps(payload).encode())


def _mark_message(symbol: str, market: SimulatedMarket, now: int) -> str:
    day = market.trades(now // DAY_MS).before(now + 1)
    price = float(day.price[-1]) if len(day.ts) else float(_marks(market, np.array([now]))[0])
    nxt = (now // FUNDING_MS + 1) * FUNDING_MS
    upcoming = funding_events(market, nxt, nxt + 1)
    rate = f"{upcoming.rate[0]:.8f}" if len(upcoming) else "0.00000000"
    p = f"{price:.8f}"
    return json.dumps({"e": "markPriceUpdate", "E": now, "s": symbol, "p": p, "i": p, "P": p, "r": rate, "T": nxt})


async def mark_price_socket(request: web.Request, name: str) -> web.StreamResponse:
    """`<symbol>@markPrice` (every 3 s on Binance) or `@markPrice@1s`, here paced by the stream interval."""
    state = request.app[STATE]
    symbol = name.split("@", 1)[0].upper()
    market = state.market("binance", symbol)
    if market is None:
        raise web.HTTPBadRequest(text=json.dumps({"code": -1121, "msg": f"Invalid stream {name!r}."}))
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    pause = max(state.config.stream_interval_s, 0.05) * (2.5 if name.endswith("@1s") else 7.5)

    async def tick() -> None:
        await ws.send_str(_mark_message(symbol, market, state.now_ms()))

    await pump(ws, pause, tick)
    return ws


def settlement_message(symbol: str, market: SimulatedMarket, t: int) -> str:
    """The mark update sent at funding time `t` itself: the mark the event settled at (the fundingRate row's
    markPrice), the next event's rate and time; a client settles the event it was told of at this mark."""
    p = f"{float(_marks(market, np.array([t], dtype=np.int64))[0]):.8f}"
    upcoming = funding_events(market, t + FUNDING_MS, t + FUNDING_MS + 1)
    rate = f"{upcoming.rate[0]:.8f}" if len(upcoming) else "0.00000000"
    return json.dumps({"e": "markPriceUpdate", "E": t, "s": symbol, "p": p, "i": p, "P": p, "r": rate,
                       "T": t + FUNDING_MS})


def mark_message(symbol: str, market: SimulatedMarket, now: int) -> str:
    """An ordinary mark update at `now` (the last traded price, the coming event's rate and time)."""
    return _mark_message(symbol, market, now)
