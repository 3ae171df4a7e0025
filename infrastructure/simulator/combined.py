"""Binance combined streams `/stream?streams=<s>@kline_<i>/<s>@markPrice[@1s]`: each payload as {"stream", "data"}."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from domain.market import Timeframe
from infrastructure.simulator.binance import kline_rows
from infrastructure.simulator.funding import FUNDING_MS, mark_message, settlement_message
from infrastructure.simulator.market import SimulatedMarket
from infrastructure.simulator.pump import pump
from infrastructure.simulator.state import STATE, SimulatorState

_INTERVALS = {tf.binance: tf for tf in Timeframe if tf.binance}
Message = tuple[int, int, str, str]  # (time, order at equal times: marks first, stream name, payload)


@dataclass
class _Kline:
    name: str
    symbol: str
    market: SimulatedMarket
    tf: Timeframe
    open_ms: int

    def messages(self, now: int) -> list[Message]:
        """Bars closed since the last call (final, x true), then the forming one."""
        out: list[Message] = []
        while self.open_ms + self.tf.ms <= now:
            for row in kline_rows(self.market.bars(self.tf, self.open_ms, self.open_ms + self.tf.ms, now), self.tf):
                out.append((self.open_ms + self.tf.ms - 1, 1, self.name, _kline(self.symbol, self.tf, row, True, now)))
            self.open_ms += self.tf.ms
        for row in kline_rows(self.market.bars(self.tf, self.open_ms, self.open_ms + self.tf.ms, now), self.tf):
            out.append((now, 1, self.name, _kline(self.symbol, self.tf, row, False, now)))
        return out


@dataclass
class _Mark:
    name: str
    symbol: str
    market: SimulatedMarket
    next_funding: int

    def messages(self, now: int) -> list[Message]:
        """A settlement update at each funding time passed since the last call, then one at `now`."""
        out: list[Message] = []
        while self.next_funding <= now:
            t = self.next_funding
            out.append((t, 0, self.name, settlement_message(self.symbol, self.market, t)))
            self.next_funding += FUNDING_MS
        out.append((now, 0, self.name, mark_message(self.symbol, self.market, now)))
        return out


def _kline(symbol: str, tf: Timeframe, row: list[Any], closed: bool, now: int) -> str:
    k = {"t": row[0], "T": row[6], "s": symbol, "i": tf.binance, "f": 0, "L": max(0, row[8] - 1),
         "o": row[1], "c": row[4], "h": row[2], "l": row[3], "v": row[5], "n": row[8], "x": closed,
         "q": row[7], "V": row[9], "Q": row[10], "B": "0"}
    return json.dumps({"e": "kline", "E": now, "s": symbol, "k": k})


def _streams(state: SimulatorState, names: list[str]) -> list[_Kline | _Mark]:
    now, out = state.now_ms(), []
    for name in names:
        sym, _, kind = name.partition("@")
        market = state.market("binance", sym.upper())
        tf = _INTERVALS.get(kind.removeprefix("kline_")) if kind.startswith("kline_") else None
        if market is None or not (tf is not None or kind in ("markPrice", "markPrice@1s")):
            raise web.HTTPBadRequest(text=json.dumps({"code": -1121, "msg": f"Invalid stream {name!r}."}))
        if tf is not None:
            out.append(_Kline(name, sym.upper(), market, tf, tf.floor(now)))
        else:
            out.append(_Mark(name, sym.upper(), market, (now // FUNDING_MS + 1) * FUNDING_MS))
    return out


async def combined_socket(request: web.Request) -> web.StreamResponse:
    """Every stream's messages since the last tick in time order (a settlement before the bar it opens)."""
    state = request.app[STATE]
    names = [n for n in request.query.get("streams", "").split("/") if n]
    if not names:
        raise web.HTTPBadRequest(text=json.dumps({"code": -1121, "msg": "No streams given."}))
    streams = _streams(state, names)
    ws = web.WebSocketResponse()
    await ws.prepare(request)

    async def tick() -> None:
        now = state.now_ms()
        batch = sorted((m for s in streams for m in s.messages(now)), key=lambda m: (m[0], m[1]))
        for _, _, name, payload in batch:
            await ws.send_str(f'{{"stream":"{name}","data":{payload}}}')

    await pump(ws, max(state.config.stream_interval_s, 0.05) * 2.5, tick)
    return ws


def add_routes(app: web.Application) -> None:
    app.router.add_get("/stream", combined_socket)
