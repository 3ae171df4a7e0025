"""Funding history: the simulator's fundingRate route and markPrice stream, collected into a real SQLite file."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import numpy as np
import pytest

from app.errors import UserError
from app.market_data.funding import FundingService
from app.timeparse import parse_time_arg
from domain.futures import FundingRates
from domain.market import Timeframe
from infrastructure.db.engine import create_sqlite_engine
from infrastructure.db.funding import SqlFundingRepository
from infrastructure.db.migrate import upgrade_to_head
from infrastructure.exchanges import ExchangeGateways
from infrastructure.exchanges.http import RetryPolicy
from infrastructure.funding_csv import CsvFundingFiles
from infrastructure.simulator import SimulatorConfig, SimulatorServer, fixed_clock, simulator_candles
from infrastructure.simulator.funding import FUNDING_MS, simulator_funding

NOW = parse_time_arg("2024-06-01T05:30:00Z")
FAST_RETRIES = RetryPolicy(base_s=0.05, cap_s=0.5, timeout_s=5.0)


@pytest.fixture
def repo(db_path: Path) -> SqlFundingRepository:
    engine = create_sqlite_engine(db_path)
    upgrade_to_head(engine)
    return SqlFundingRepository(engine)


@pytest.fixture
async def sim(request: pytest.FixtureRequest) -> AsyncIterator[SimulatorServer]:
    config = SimulatorConfig(clock=fixed_clock(NOW), slow_s=0.2, **getattr(request, "param", {}))
    async with SimulatorServer(config) as server:
        yield server


class SimulatorTime:
    """The simulator's stopped clock, as the Clock the service reads (on a real exchange both are now)."""

    def now_ms(self) -> int:
        return NOW


async def collect(sim: SimulatorServer, repo: SqlFundingRepository, start: str, end: str,
                  symbol: str = "BTCUSDT") -> tuple[FundingService, int]:
    gateways = ExchangeGateways({"binance": sim.url}, FAST_RETRIES)
    service = FundingService(repo, gateways.funding_source, CsvFundingFiles(), SimulatorTime())
    try:
        summary = await service.collect("binance", symbol, parse_time_arg(start), parse_time_arg(end))
    finally:
        await gateways.aclose()
    return service, summary.requests


async def get(sim: SimulatorServer, **params: str) -> tuple[int, object]:
    async with aiohttp.ClientSession() as session, session.get(f"{sim.url}/fapi/v1/fundingRate",
                                                               params=params) as resp:
        return resp.status, await resp.json()


async def test_the_simulator_funds_every_8_hours_near_its_market_price(sim: SimulatorServer) -> None:
    start = parse_time_arg("2024-03-01")
    status, rows = await get(sim, symbol="BTCUSDT", startTime=str(start), limit="9")
    assert status == 200 and isinstance(rows, list) and len(rows) == 9
    times = [r["fundingTime"] for r in rows]
    assert times == [start + k * FUNDING_MS for k in range(9)]
    rates = np.array([float(r["fundingRate"]) for r in rows])
    assert all(len(r["fundingRate"].split(".")[1]) == 8 for r in rows)
    assert abs(rates.mean() - 0.0001) < 0.0003 and len(set(rates.tolist())) > 1
    bars = simulator_candles("binance", "BTCUSDT", Timeframe.M1, start, start + 3 * 86_400_000)
    opens = dict(zip(bars.ts.tolist(), bars.open.tolist(), strict=True))
    for r in rows:
        assert abs(float(r["markPrice"]) / opens[r["fundingTime"]] - 1) < 0.05


async def test_without_a_start_the_simulator_answers_the_newest_events_up_to_now(sim: SimulatorServer) -> None:
    status, rows = await get(sim, symbol="ETHUSDT", limit="3")
    assert status == 200 and isinstance(rows, list)
    assert [r["fundingTime"] for r in rows] == [parse_time_arg(t) for t in
                                                ("2024-05-31T08:00Z", "2024-05-31T16:00Z", "2024-06-01T00:00Z")]


@pytest.mark.parametrize(("params", "code"), [({"symbol": "NOPEUSDT"}, -1121), ({"limit": "1001"}, -1130),
                                              ({"startTime": "soon"}, -1100)])
async def test_bad_funding_requests_get_binances_error_codes(sim: SimulatorServer, params: dict[str, str],
                                                             code: int) -> None:
    status, body = await get(sim, **{"symbol": "BTCUSDT", **params})
    assert status == 400 and isinstance(body, dict) and body["code"] == code


@pytest.mark.parametrize("sim", [{"seed": 3}, {"seed": 3, "fault_rate": 0.5}], ids=["healthy", "faults"],
                         indirect=True)
async def test_a_collected_year_equals_the_simulators_own_funding(sim: SimulatorServer,
                                                                  repo: SqlFundingRepository) -> None:
    service, requests = await collect(sim, repo, "2023-01-01", "2024-01-01")
    s, e = parse_time_arg("2023-01-01"), parse_time_arg("2024-01-01")
    truth = simulator_funding("BTCUSDT", s, e, seed=3)
    assert len(truth) == 365 * 3 and requests == 2  # 1,000 events a request
    assert repo.read("binance", "BTCUSDT", s, e) == truth
    assert service.coverage("binance", "BTCUSDT", s, e).covered
    if sim.config.fault_rate:
        assert sum(sim.state.faults.injected.values()) > 0


async def test_collecting_again_fetches_only_what_is_missing(sim: SimulatorServer,
                                                             repo: SqlFundingRepository) -> None:
    await collect(sim, repo, "2024-01-01", "2024-03-01")
    first = sim.state.log.count("binance.funding")
    service, requests = await collect(sim, repo, "2024-01-01", "2024-03-01")
    assert requests == 0 and sim.state.log.count("binance.funding") == first
    _, requests = await collect(sim, repo, "2023-11-01", "2024-04-01")
    assert requests == 2  # the two months before and the month after, one request each
    s, e = parse_time_arg("2023-11-01"), parse_time_arg("2024-04-01")
    assert repo.read("binance", "BTCUSDT", s, e) == simulator_funding("BTCUSDT", s, e)
    assert repo.proven("binance", "BTCUSDT") == [(s, e)]


async def test_the_end_is_clamped_to_now_so_future_funding_is_not_claimed(sim: SimulatorServer,
                                                                           repo: SqlFundingRepository) -> None:
    service, _ = await collect(sim, repo, "2024-05-31", "2024-06-03")
    stored = repo.read("binance", "BTCUSDT")
    assert int(stored.ts[-1]) == parse_time_arg("2024-06-01T00:00Z")
    coverage = service.coverage("binance", "BTCUSDT", parse_time_arg("2024-05-31"), parse_time_arg("2024-06-02"))
    assert not coverage.covered and coverage.missing == ((NOW + 1, parse_time_arg("2024-06-02")),)


async def test_spot_exchanges_have_no_funding_to_collect() -> None:
    with pytest.raises(UserError, match="upbit trades spot: it has no funding rates"):
        ExchangeGateways().funding_source("upbit")


async def test_the_mark_price_stream_carries_mark_rate_and_next_funding_time(sim: SimulatorServer) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(f"{sim.url}/ws/btcusdt@markPrice@1s") as ws:
        msg = json.loads((await ws.receive()).data)
    nxt = parse_time_arg("2024-06-01T08:00Z")
    upcoming = simulator_funding("BTCUSDT", nxt, nxt + 1)
    assert msg["e"] == "markPriceUpdate" and msg["s"] == "BTCUSDT" and msg["E"] == NOW
    assert msg["T"] == nxt and float(msg["r"]) == pytest.approx(float(upcoming.rate[0]))
    bar = simulator_candles("binance", "BTCUSDT", Timeframe.M1, NOW - 60_000, NOW)
    assert abs(float(msg["p"]) / float(bar.close[-1]) - 1) < 0.01


def test_the_repository_replaces_events_and_keeps_unknown_marks_unknown(repo: SqlFundingRepository) -> None:
    repo.upsert("binance", "BTCUSDT", FundingRates.from_columns([0, 10, 20], [1e-4, 2e-4, 3e-4], [5.0, np.nan, 7.0]),
                (0, 30))
    repo.upsert("binance", "BTCUSDT", FundingRates.from_columns([20, 30], [-1e-4, 4e-4]), (30, 40))
    got = repo.read("binance", "BTCUSDT")
    assert got == FundingRates.from_columns([0, 10, 20, 30], [1e-4, 2e-4, -1e-4, 4e-4], [5.0, np.nan, np.nan, np.nan])
    assert repo.read("binance", "BTCUSDT", 10, 30).ts.tolist() == [10, 20]
    assert repo.proven("binance", "BTCUSDT") == [(0, 40)]
    assert repo.count("binance", "BTCUSDT") == 4 and repo.count("binance", "ETHUSDT") == 0
