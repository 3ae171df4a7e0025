"""`quantdesk collect-funding` against the simulator and `quantdesk import-funding` of CSV files, into real files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sim_thread import threaded_simulator

from app.bootstrap.cli import main
from app.timeparse import parse_time_arg
from domain.futures import FundingRates
from infrastructure.db.engine import create_sqlite_engine
from infrastructure.db.funding import SqlFundingRepository
from infrastructure.simulator import SimulatorConfig, SimulatorServer, fixed_clock
from infrastructure.simulator.funding import simulator_funding

NOW = parse_time_arg("2024-06-01")


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    """A simulator on its own loop in a thread, so the CLI can run its own asyncio loop in the test."""
    with threaded_simulator(SimulatorConfig(clock=fixed_clock(NOW))) as server:
        yield server


def run(db: Path, *args: str) -> int:
    return main(["--db", str(db), *args])


def stored(db: Path, symbol: str = "BTCUSDT") -> FundingRates:
    engine = create_sqlite_engine(db)
    try:
        return SqlFundingRepository(engine).read("binance", symbol)
    finally:
        engine.dispose()


def test_collect_funding_stores_the_range_and_a_rerun_fetches_nothing(
        sim: SimulatorServer, db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["collect-funding", "--exchange", "binance", "--market", "BTCUSDT", "--start", "2024-01-01",
            "--end", "2024-03-01", "--base-url", sim.url, "--quiet"]
    assert run(db_path, *args) == 0
    out = capsys.readouterr().out
    assert "stored 180 funding events in 1 request (0 retries" in out
    assert "180 funding events stored in the range; complete" in out
    truth = simulator_funding("BTCUSDT", parse_time_arg("2024-01-01"), parse_time_arg("2024-03-01"))
    assert stored(db_path) == truth
    assert run(db_path, *args) == 0
    out = capsys.readouterr().out
    assert "stored 0 funding events in 0 requests" in out and "60.0 days were already complete" in out


def test_collect_funding_names_an_unknown_symbol(sim: SimulatorServer, db_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code = run(db_path, "collect-funding", "--exchange", "binance", "--market", "NOPEUSDT", "--start", "2024-01-01",
               "--end", "2024-01-02", "--base-url", sim.url, "--quiet")
    assert code == 2
    assert "error: binance: funding rates of NOPEUSDT: Invalid symbol." in capsys.readouterr().err


def test_import_funding_reads_ms_and_iso_times_with_or_without_mark_prices(
        db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "funding.csv"
    csv.write_text("time,rate,mark_price\n"
                   "1704067200000,0.0001,42000.5\n"
                   "2024-01-01T08:00:00Z,-0.00005,\n"
                   "2024-01-01T16:00:00+00:00,0.00012,42100\n", encoding="utf-8")
    assert run(db_path, "import-funding", str(csv), "--exchange", "binance", "--market", "BTCUSDT") == 0
    assert "imported 3 funding events into binance:BTCUSDT (2024-01-01T00:00:00Z .. 2024-01-01T16:00:00Z)" in (
        capsys.readouterr().out)
    got = stored(db_path)
    t0 = parse_time_arg("2024-01-01")
    assert got.ts.tolist() == [t0, t0 + 8 * 3_600_000, t0 + 16 * 3_600_000]
    assert got.rate.tolist() == [0.0001, -0.00005, 0.00012]
    assert got.mark[0] == 42000.5 and np.isnan(got.mark[1]) and got.mark[2] == 42100


def test_a_headerless_two_column_file_is_time_and_rate(db_path: Path, tmp_path: Path) -> None:
    csv = tmp_path / "bare.csv"
    csv.write_text("1704067200000,0.0001\n1704096000000,0.0002\n", encoding="utf-8")
    assert run(db_path, "import-funding", str(csv), "--exchange", "binance", "--market", "ETHUSDT") == 0
    assert stored(db_path, "ETHUSDT").rate.tolist() == [0.0001, 0.0002]


@pytest.mark.parametrize(("text", "message"), [
    ("time,rate\n1704067200000,0.0001\n1704096000000,abc\n", "bad.csv:3: rate 'abc' is not a number"),
    ("time,rate\n1704067200,0.0001\n", "bad.csv:2: time 1704067200 looks like seconds"),
    ("time,rate\nyesterday,0.0001\n", "bad.csv:2: time 'yesterday' is neither epoch milliseconds nor an ISO time"),
    ("time,rate,mark_price\n1704067200000,0.0001,-5\n", "bad.csv:2: mark_price must be > 0, got -5"),
    ("when,how_much\n1704067200000,0.0001\n", "bad.csv:1: cannot find column(s) time, rate"),
    ("time,rate\n1704067200000,0.0001\n2024-01-01T00:00:00Z,0.0002\n",
     "bad.csv:3: time 2024-01-01T00:00:00Z repeats line 2"),
    ("time,rate\n1704067200000\n", "bad.csv:2: expected at least 2 columns, found 1"),
    ("", "bad.csv: the file is empty"),
])
def test_a_bad_funding_file_names_its_line_and_stores_nothing(
        db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text(text, encoding="utf-8")
    assert run(db_path, "import-funding", str(csv), "--exchange", "binance", "--market", "BTCUSDT") == 2
    assert message in capsys.readouterr().err
    assert len(stored(db_path)) == 0
