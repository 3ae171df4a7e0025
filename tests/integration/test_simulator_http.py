"""The simulator's REST answers in each exchange's format: exclusive `to`, limits, fields, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from app.timeparse import parse_time_arg
from domain.market import Timeframe
from infrastructure.simulator import SimulatorConfig, SimulatorServer, fixed_clock, simulator_candles

NOW = parse_time_arg("2024-06-01")
NOON = "2024-05-01T12:00:00"


@pytest.fixture
async def get() -> AsyncIterator[Any]:
    async with SimulatorServer(SimulatorConfig(clock=fixed_clock(NOW))) as sim, aiohttp.ClientSession() as s:
        async def fetch(path: str) -> tuple[int, Any]:
            async with s.get(sim.url + path) as resp:
                return resp.status, await resp.json()

        yield fetch


@pytest.mark.parametrize("to", [f"{NOON}Z", NOON, "2024-05-01 12:00:00", "2024-05-01T21:00:00%2B09:00",
                                "2024-05-01T21:00:00+09:00", "2024-05-01T12:00:00.000Z"])
async def test_upbit_to_is_exclusive_in_every_iso_form_and_candles_come_newest_first(get: Any, to: str) -> None:
    status, rows = await get(f"/v1/candles/minutes/1?market=KRW-BTC&count=5&to={to}")
    noon = parse_time_arg(f"{NOON}Z")
    truth = simulator_candles("upbit", "KRW-BTC", Timeframe.M1, noon - 3_600_000, noon)
    assert status == 200
    assert [r["candle_date_time_utc"] for r in rows] == sorted((r["candle_date_time_utc"] for r in rows), reverse=True)
    assert rows[0]["candle_date_time_utc"] < NOON
    assert [r["trade_price"] for r in rows] == list(truth.close[-5:][::-1])
    assert rows[0]["unit"] == 1 and rows[0]["timestamp"] >= noon - 60_000


async def test_upbit_day_and_week_candles_carry_their_extra_fields(get: Any) -> None:
    _, days = await get("/v1/candles/days?market=KRW-BTC&count=2&to=2024-05-03T00:00:00Z")
    _, weeks = await get("/v1/candles/weeks?market=KRW-BTC&count=1&to=2024-05-10T00:00:00Z")
    assert [d["candle_date_time_utc"] for d in days] == ["2024-05-02T00:00:00", "2024-05-01T00:00:00"]
    assert days[0]["candle_date_time_kst"] == "2024-05-02T09:00:00"
    assert days[0]["prev_closing_price"] == days[1]["trade_price"]
    assert weeks[0]["first_day_of_period"] == "2024-05-06" and weeks[0]["candle_date_time_utc"] == "2024-05-06T00:00:00"


@pytest.mark.parametrize(("path", "status", "name"), [
    ("/v1/candles/minutes/1?market=KRW-BTC&count=201", 400, "validation_error"),
    ("/v1/candles/minutes/7?market=KRW-BTC", 400, "validation_error"),
    ("/v1/candles/minutes/1?market=KRW-NOPE", 404, "404"),
    ("/v1/ticker?markets=KRW-NOPE", 404, "404"),
])
async def test_upbit_errors_come_in_upbits_json(get: Any, path: str, status: int, name: str) -> None:
    got_status, body = await get(path)
    assert got_status == status and body["error"]["name"] == name and body["error"]["message"]


async def test_upbit_lists_markets_and_tickers(get: Any) -> None:
    _, markets = await get("/v1/market/all")
    _, ticker = await get("/v1/ticker?markets=KRW-BTC,KRW-ETH")
    assert {"market": "KRW-BTC", "korean_name": "비트코인", "english_name": "Bitcoin"} in markets
    assert [t["market"] for t in ticker] == ["KRW-BTC", "KRW-ETH"]
    assert ticker[0]["low_price"] <= ticker[0]["trade_price"] <= ticker[0]["high_price"]


async def test_binance_klines_are_string_arrays_oldest_first_within_start_and_end(get: Any) -> None:
    start = parse_time_arg("2024-05-01")
    status, rows = await get(f"/fapi/v1/klines?symbol=BTCUSDT&interval=5m&startTime={start}"
                             f"&endTime={start + 3_600_000 - 1}&limit=1500")
    truth = simulator_candles("binance", "BTCUSDT", Timeframe.M5, start, start + 3_600_000)
    assert status == 200 and len(rows) == 12
    assert [r[0] for r in rows] == list(truth.ts) and [float(r[4]) for r in rows] == list(truth.close)
    assert all(isinstance(x, str) for x in rows[0][1:6]) and rows[0][6] == start + 300_000 - 1


@pytest.mark.parametrize(("query", "code"), [("symbol=NOPE&interval=1m", -1121),
                                             ("symbol=BTCUSDT&interval=2m", -1120),
                                             ("symbol=BTCUSDT&interval=1m&limit=1501", -1130)])
async def test_binance_errors_carry_its_codes(get: Any, query: str, code: int) -> None:
    status, body = await get(f"/fapi/v1/klines?{query}")
    assert status == 400 and body["code"] == code and body["msg"]
