"""Bars outside 2000-01-01 .. now + 1 day never reach the candle store, and `db info` survives what already did."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest

from app.bootstrap.cli import main
from app.errors import DataError
from domain.market import CandleSeries, SeriesKey, Timeframe
from infrastructure.db.candles import SqlCandleRepository
from infrastructure.db.engine import create_sqlite_engine
from infrastructure.db.migrate import upgrade_to_head

GOOD = """time,open,high,low,close,volume
2024-01-01T00:00:00Z,100,101,99,100.5,1
2024-01-01T00:01:00Z,100.5,102,100,101,2
"""
DAY_MS = 86_400_000


@pytest.fixture
def db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "q.db"
    (tmp_path / "good.csv").write_text(GOOD)
    assert main(["--db", str(path), "import-csv", str(tmp_path / "good.csv"), "--exchange", "upbit",
                 "--market", "KRW-BTC", "--quiet"]) == 0
    capsys.readouterr()
    return path


def epoch_csv(path: Path, times: list[int]) -> Path:
    path.write_text("time,open,high,low,close,volume\n" + "".join(f"{t},1,1,1,1,1\n" for t in times))
    return path


def import_refused(db: Path, csv: Path, capsys: pytest.CaptureFixture[str]) -> str:
    before = db.read_bytes()
    code = main(["--db", str(db), "import-csv", str(csv), "--exchange", "upbit", "--market", "BAD",
                 "--timeframe", "1m", "--quiet"])
    out, err = capsys.readouterr()
    assert code != 0 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert db.read_bytes() == before
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM candle_blocks WHERE symbol = 'BAD'").fetchone() == (0,)
    return lines[0]


def test_microsecond_epochs_read_as_milliseconds_are_refused_naming_the_time(
        db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    start_us = 1_704_067_200_000_000  # 2024-01-01 in microseconds: year 55969 when read as milliseconds
    message = import_refused(db, epoch_csv(tmp_path / "us.csv", [start_us, start_us + 60_000]), capsys)
    assert str(start_us) in message and "2000-01-01" in message


def test_times_before_2000_are_refused(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    message = import_refused(db, epoch_csv(tmp_path / "old.csv", [946_684_680_000, 946_684_740_000]), capsys)
    assert "1999-12-31T23:58:00Z" in message


def test_times_more_than_a_day_ahead_are_refused(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    now = (int(time.time() * 1000) // 60_000) * 60_000
    message = import_refused(db, epoch_csv(tmp_path / "future.csv", [now - 60_000, now + 2 * DAY_MS]), capsys)
    assert "bar 2" in message and "microseconds" not in message


def test_the_repository_refuses_an_out_of_range_chunk_before_writing_any_of_it(tmp_path: Path) -> None:
    """Collection and live history write through the same upsert as file imports."""
    engine = create_sqlite_engine(tmp_path / "r.db")
    upgrade_to_head(engine)
    repo = SqlCandleRepository(engine)
    key = SeriesKey("upbit", "KRW-BTC", Timeframe.M1)
    ts = np.array([1_704_067_200_000, 1_704_067_260_000, -60_000], dtype=np.int64)
    ts.sort()
    ones = np.ones(3)
    with pytest.raises(DataError, match="outside"):
        repo.upsert(key, CandleSeries(Timeframe.M1, ts, ones, ones, ones, ones, ones), (-60_000, 1_704_067_320_000))
    assert repo.count(key) == 0 and repo.coverage(key).fetched == []
    engine.dispose()


def raw_block(db: Path, symbol: str, ts: list[int]) -> None:
    """A block written around the application, as an older version or another tool could have left it."""
    stamps = np.array(ts, dtype=np.int64)
    ones = np.ones(len(ts)).tobytes()
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO candle_blocks (exchange, symbol, timeframe, block, first_ts, last_ts, n, ts, open, "
                     "high, low, close, volume) VALUES ('upbit', ?, '1m', 0, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (symbol, ts[0], ts[-1], len(ts), stamps.tobytes(), ones, ones, ones, ones, ones))


def test_db_info_lists_every_series_when_stored_times_are_out_of_range(
        db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw_block(db, "MICRO", [1_704_067_200_000_000, 1_704_067_200_060_000])
    raw_block(db, "NEGATIVE", [-62_200_000_000_000, -60_000])
    raw_block(db, "HUGE", [2**62, 2**62 + 60_000])
    code = main(["--db", str(db), "db", "info"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Traceback" not in out + err
    rows = {line.split()[1]: line for line in out.splitlines() if line.startswith("upbit ")}
    assert set(rows) == {"KRW-BTC", "MICRO", "NEGATIVE", "HUGE"}
    assert "2024-01-01T00:00:00Z" in rows["KRW-BTC"]
    assert str(1_704_067_200_000_000) in rows["MICRO"] and str(2**62) in rows["HUGE"]
    assert "-62200000000000" in rows["NEGATIVE"]


def test_db_info_refuses_a_negative_gap_count(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--db", str(db), "db", "info", "--gaps", "-2"])
    assert exc.value.code == 2
    assert "'-2' is not a count" in capsys.readouterr().err


def test_negative_epochs_are_refused_naming_the_bar_and_its_time(
        db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    message = import_refused(db, epoch_csv(tmp_path / "negative.csv", [-1_704_067_200_000, -1_704_067_140_000]),
                             capsys)
    assert "bar 1" in message and "-1704067200000" in message and "1916-01-02" in message
