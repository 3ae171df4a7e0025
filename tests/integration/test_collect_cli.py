"""`quantdesk collect` / `markets` against the simulator: summaries, bad input, and surviving SIGKILL."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sim_thread import threaded_simulator

from app.bootstrap.cli import main
from app.market_data.collect import LANES
from app.timeparse import parse_time_arg
from domain.market import SeriesKey, Timeframe
from domain.market.planning import UPBIT_GEOMETRY, missing, request_estimate, split_lanes
from infrastructure.db.candles import SqlCandleRepository
from infrastructure.db.engine import create_sqlite_engine
from infrastructure.db.migrate import upgrade_to_head
from infrastructure.simulator import SimulatorConfig, SimulatorServer, fixed_clock, simulator_candles

NOW = parse_time_arg("2024-06-01")
M1 = Timeframe.M1


@pytest.fixture
def sim(request: pytest.FixtureRequest) -> Iterator[SimulatorServer]:
    """A simulator on its own loop in a thread, so the CLI can run its own asyncio loop in the test."""
    with threaded_simulator(SimulatorConfig(clock=fixed_clock(NOW), **getattr(request, "param", {}))) as server:
        yield server


def run(db: Path, *args: str) -> int:
    return main(["--db", str(db), *args])


def collect_args(sim: SimulatorServer, market: str = "KRW-BTC", start: str = "2024-01-01",
                 end: str = "2024-01-02", exchange: str = "demo", tf: str = "1m") -> list[str]:
    return ["collect", "--exchange", exchange, "--market", market, "--timeframe", tf, "--start", start,
            "--end", end, "--base-url", sim.url, "--quiet"]


def test_collect_prints_what_it_stored_and_a_rerun_skips_it_all(
        sim: SimulatorServer, db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    truth = simulator_candles("demo", "KRW-BTC", M1, parse_time_arg("2024-01-01"), parse_time_arg("2024-01-02"))
    assert run(db_path, *collect_args(sim)) == 0
    out = capsys.readouterr().out
    empty = 1440 - len(truth)
    assert f"stored {len(truth):,} new candles; skipped 0 already stored; {empty} 1m bars known empty" in out
    assert run(db_path, *collect_args(sim)) == 0
    out = capsys.readouterr().out
    assert f"stored 0 new candles; skipped {len(truth):,} already stored" in out and "  0 requests" in out


def test_markets_lists_the_exchanges_symbols(sim: SimulatorServer, db_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert run(db_path, "markets", "--exchange", "binance", "--base-url", sim.url) == 0
    out = capsys.readouterr().out
    assert "BTCUSDT  lot 0.001  tick 0.1" in out and "3 markets on binance" in out


@pytest.mark.parametrize(("args", "message"), [
    ({"market": "KRW-NOPE"}, "demo: 1m candles of KRW-NOPE: Code not found"),
    ({"exchange": "binance", "market": "NOPEUSDT"}, "binance: 1m klines of NOPEUSDT: Invalid symbol."),
    ({"start": "2024-01-02", "end": "2024-01-01"}, "--start (2024-01-02) must be before --end (2024-01-01)"),
    ({"start": "January"}, "--start: cannot read 'January'"),
    ({"tf": "7m"}, "--timeframe: unknown timeframe '7m'; valid timeframes: 1m, 3m"),
    ({"exchange": "binance", "market": "BTCUSDT", "tf": "10m"}, "binance has no 10m candles; it offers 1m"),
])
def test_bad_input_is_one_clear_line_and_a_nonzero_exit(
        sim: SimulatorServer, db_path: Path, capsys: pytest.CaptureFixture[str], args: dict[str, str],
        message: str) -> None:
    assert run(db_path, *collect_args(sim, **args)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_an_unreachable_exchange_is_reported_plainly(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["collect", "--exchange", "upbit", "--market", "KRW-BTC", "--start", "2024-01-01", "--end",
            "2024-01-02", "--base-url", "http://127.0.0.1:9", "--quiet"]
    assert run(db_path, *args) == 2
    assert "upbit: cannot connect to http://127.0.0.1:9" in capsys.readouterr().err


@pytest.mark.parametrize("sim", [{"seed": 3, "fault_rate": 0.5, "faults": ("bad_row",)}], indirect=True)
def test_malformed_exchange_rows_are_named_in_the_summary(
        sim: SimulatorServer, db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(db_path, *collect_args(sim)) == 0
    out = capsys.readouterr().out
    assert "rejected (not stored) ×" in out and "high_price is not a number ('NaN?')" in out


@pytest.fixture
async def live_sim() -> AsyncIterator[SimulatorServer]:
    async with SimulatorServer(SimulatorConfig(clock=fixed_clock(NOW))) as server:
        yield server


async def test_a_collection_killed_mid_run_resumes_fetching_only_the_missing_chunks(
        live_sim: SimulatorServer, db_path: Path) -> None:
    start, end = "2024-01-01", "2024-01-11"  # ~70 pages at 10 a second
    cmd = [sys.executable, "-m", "app", "--db", str(db_path), *collect_args(live_sim, start=start, end=end)]
    log = live_sim.state.log
    proc = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.PIPE)
    while log.count("upbit.candles") < 25 and proc.returncode is None:
        await asyncio.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    await proc.wait()
    assert proc.returncode == -signal.SIGKILL
    first_run = log.count("upbit.candles")

    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    engine = create_sqlite_engine(db_path)
    upgrade_to_head(engine)
    repo = SqlCandleRepository(engine)
    key = SeriesKey("demo", "KRW-BTC", M1)
    s, e = parse_time_arg(start), parse_time_arg(end)
    todo = missing(M1, s, e, repo.coverage(key))
    assert todo, "the kill came too late to leave anything missing"
    needed = request_estimate(todo, M1, UPBIT_GEOMETRY)

    again = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.DEVNULL,
                                                 stderr=asyncio.subprocess.PIPE)
    _, err = await again.communicate()
    assert again.returncode == 0, err.decode()
    second_run = log.count("upbit.candles") - first_run
    # each missing range (a kill mid-run leaves one per lane in flight) may cost one page more at its boundary,
    # and the resumed run splits what is missing into its lanes again: each split may cost one page more too
    lane_splits = len(split_lanes(todo, LANES, M1)) - 1
    assert 0 < second_run <= needed + max(2, len(todo)) + lane_splits
    assert first_run + second_run < 80
    assert repo.read(key, s, e) == simulator_candles("demo", "KRW-BTC", M1, s, e)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
