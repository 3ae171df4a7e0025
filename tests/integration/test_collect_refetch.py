"""`collect --refetch` forgets the known-empty ranges of the asked range (never a candle) and asks for them again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sim_thread import threaded_simulator

from app.bootstrap.cli import main
from app.timeparse import parse_time_arg
from domain.market import CandleSeries, SeriesKey, Timeframe
from infrastructure.db.candles import SqlCandleRepository
from infrastructure.db.engine import create_sqlite_engine
from infrastructure.db.migrate import upgrade_to_head
from infrastructure.simulator import SimulatorConfig, SimulatorServer, fixed_clock, simulator_candles

NOW = parse_time_arg("2024-06-01")
M1 = Timeframe.M1
KEY = SeriesKey("demo", "KRW-BTC", M1)
DAY1, DAY2, DAY3 = parse_time_arg("2024-01-01"), parse_time_arg("2024-01-02"), parse_time_arg("2024-01-03")


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    """A simulator on its own loop in a thread, so the CLI can run its own asyncio loop in the test."""
    with threaded_simulator(SimulatorConfig(clock=fixed_clock(NOW))) as server:
        yield server


def collect(db: Path, sim: SimulatorServer, *extra: str) -> int:
    return main(["--db", str(db), "collect", "--exchange", "demo", "--market", "KRW-BTC", "--start", "2024-01-01",
                 "--end", "2024-01-03", "--base-url", sim.url, "--quiet", *extra])


def test_refetch_asks_again_for_a_range_wrongly_recorded_known_empty_and_keeps_the_stored_candles(
        sim: SimulatorServer, db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    truth = simulator_candles("demo", "KRW-BTC", M1, DAY1, DAY3)
    engine = create_sqlite_engine(db_path)
    upgrade_to_head(engine)
    repo = SqlCandleRepository(engine)
    first_day = truth.slice_time(DAY1, DAY2)
    repo.upsert(KEY, first_day, (DAY1, DAY2))
    repo.upsert(KEY, CandleSeries.empty(M1), (DAY2, DAY3))  # as a lying `200 []` once left it
    engine.dispose()

    assert collect(db_path, sim) == 0
    assert "0 requests" in capsys.readouterr().out  # trusted: nothing asked
    assert main(["--db", str(db_path), "db", "info"]) == 0
    assert "known empty 2024-01-02T00:00:00Z .. 2024-01-03T00:00:00Z (1d)" in capsys.readouterr().out

    assert collect(db_path, sim, "--refetch") == 0
    out = capsys.readouterr().out
    quiet_minutes_of_day1 = 1440 - len(first_day)
    assert f"forgot {quiet_minutes_of_day1 + 1440:,} known-empty 1m bars of demo:KRW-BTC:1m" in out
    assert f"stored {len(truth) - len(first_day):,} new candles" in out  # the second day's; the first day's kept
    engine = create_sqlite_engine(db_path)
    repo = SqlCandleRepository(engine)
    assert repo.read(KEY, DAY1, DAY3) == truth  # the first day's candles kept, the second day's fetched
    engine.dispose()


def test_a_series_known_only_to_be_empty_is_listed_by_db_info_and_refetch_forgets_it(
        sim: SimulatorServer, db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    engine = create_sqlite_engine(db_path)
    upgrade_to_head(engine)
    SqlCandleRepository(engine).upsert(KEY, CandleSeries.empty(M1), (DAY1, DAY3))  # e.g. a range before a listing
    engine.dispose()
    assert main(["--db", str(db_path), "db", "info"]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if "KRW-BTC" in ln)
    assert line.split() == ["demo", "KRW-BTC", "1m", "-", "-", "0", "0"]
    assert "known empty 2024-01-01T00:00:00Z .. 2024-01-03T00:00:00Z (2d)" in out
    assert collect(db_path, sim, "--refetch") == 0
    assert "forgot 2,880 known-empty 1m bars" in capsys.readouterr().out
