"""Stored backtest runs on a real file: the equity curve kept compactly and exactly, older raw rows still read, and
the command line's stored-candles path running on plain sqlite3 (no SQLAlchemy to load)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from backtest_oracle import series_from_frame
from backtesting.test import GOOG

from app.backtests.ports import StoredRun
from app.backtests.provenance import rerun_command
from app.bootstrap.cli import main
from app.bootstrap.container import Container
from domain.market import CandleSeries, SeriesKey, Timeframe

ROOT = Path(__file__).resolve().parents[2]


def sma_cross() -> dict:
    def leg(op: str) -> dict:
        return {"all": [{"left": {"var": "sma", "params": {"period": 10}}, "op": op,
                         "right": {"var": "sma", "params": {"period": 30}}}]}

    return {"schema": 1, "name": "SMA 10/30", "direction": "long_short", "entry_long": leg("crosses_above"),
            "entry_short": leg("crosses_below"), "exit_long": None, "exit_short": None,
            "risk": {"position_size_pct": 100, "stop_loss_pct": 5}}


@pytest.fixture
def stored(tmp_path: Path, db_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    """A database holding GOOG's daily candles, and a strategy file."""
    GOOG.to_csv(tmp_path / "goog.csv")
    (tmp_path / "sma.json").write_text(json.dumps(sma_cross()))
    assert main(["--db", str(db_path), "import-csv", str(tmp_path / "goog.csv"), "--exchange", "csv", "--market",
                 "GOOG", "--quiet"]) == 0
    capsys.readouterr()  # the import's line
    return db_path, tmp_path / "sma.json"


def backtest_argv(db_path: Path, strategy: Path) -> list[str]:
    return ["--db", str(db_path), "backtest", "--strategy", str(strategy), "--exchange", "csv", "--market", "GOOG",
            "--timeframe", "1d", "--json"]


def stored_run(capsys: pytest.CaptureFixture[str], db_path: Path, strategy: Path) -> int:
    code = main(backtest_argv(db_path, strategy))
    out, err = capsys.readouterr()
    assert code == 0 and out, (out, err)
    return int(json.loads(out)["run_id"])


def reopen_and_rerun(db_path: Path, run_id: int) -> tuple[StoredRun, np.ndarray]:
    """The stored run, and the equity curve of the same run made again now."""
    c = Container.open(db_path)
    try:
        run = c.backtests.get(run_id)
        return run, c.backtests.run_here(rerun_command(run)).result.equity
    finally:
        c.close()


def test_a_stored_run_keeps_its_equity_curve_bit_for_bit_in_fewer_bytes(capsys: pytest.CaptureFixture[str],
                                                                       stored: tuple[Path, Path]) -> None:
    db_path, strategy = stored
    run_id = stored_run(capsys, db_path, strategy)
    conn = sqlite3.connect(db_path)
    bars, equity_blob, ts_blob = conn.execute("SELECT bars, equity, equity_ts FROM backtest_runs WHERE id = ?",
                                              (run_id,)).fetchone()
    conn.close()
    assert bars == len(GOOG) and len(equity_blob) < 8 * bars and len(ts_blob) < 8 * bars
    run, fresh = reopen_and_rerun(db_path, run_id)
    assert run.equity.dtype == np.float64 and np.array_equal(run.equity.view(np.uint64), fresh.view(np.uint64))
    assert np.array_equal(run.equity_ts, series_from_frame(GOOG, Timeframe.D1).ts)


def test_a_run_stored_raw_by_an_earlier_version_reads_back_the_same(capsys: pytest.CaptureFixture[str],
                                                                   stored: tuple[Path, Path]) -> None:
    db_path, strategy = stored
    run_id = stored_run(capsys, db_path, strategy)
    packed, fresh = reopen_and_rerun(db_path, run_id)
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("UPDATE backtest_runs SET equity = ?, equity_ts = ? WHERE id = ?",
                     (packed.equity.astype("<f8").tobytes(), packed.equity_ts.astype("<i8").tobytes(), run_id))
    conn.close()
    raw, _ = reopen_and_rerun(db_path, run_id)
    assert np.array_equal(raw.equity.view(np.uint64), fresh.view(np.uint64))
    assert np.array_equal(raw.equity_ts, packed.equity_ts)


def test_a_backtest_on_stored_candles_loads_no_sqlalchemy_and_stores_its_run(stored: tuple[Path, Path]) -> None:
    db_path, strategy = stored
    code = ("import sys, contextlib, io, json\nfrom app.bootstrap.cli import main\n"
            "out = io.StringIO()\n"
            f"with contextlib.redirect_stdout(out):\n    code = main({backtest_argv(db_path, strategy)!r})\n"
            "print(json.dumps([code, json.loads(out.getvalue())['run_id'], 'sqlalchemy' in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                          timeout=120)
    exit_code, run_id, loaded = json.loads(done.stdout)
    assert exit_code == 0 and loaded is False
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT strategy_name, bars FROM backtest_runs WHERE id = ?", (run_id,)).fetchone() == (
        "SMA 10/30", len(GOOG))
    conn.close()
    assert sorted(p.name for p in db_path.parent.glob(f"{db_path.name}*")) == [db_path.name]  # log checkpointed


def test_a_database_with_a_damaged_page_is_refused_in_one_line_and_left_untouched(
        capsys: pytest.CaptureFixture[str], stored: tuple[Path, Path], tmp_path: Path) -> None:
    """The integrity check on opening (read through a memory map) still walks every page."""
    db_path, strategy = stored
    data = bytearray(db_path.read_bytes())
    pages = len(data) // 4096
    data[(pages - 4) * 4096:(pages - 3) * 4096] = b"\xff" * 4096  # a page of the candle blocks' chains
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(bytes(data))
    for argv in (["db", "info"], ["backtest", "--strategy", str(strategy), "--exchange", "csv", "--market", "GOOG",
                                  "--timeframe", "1d"]):
        code = main(["--db", str(damaged), *argv])
        err = capsys.readouterr().err
        assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
        assert "failed its integrity check" in err
    assert damaged.read_bytes() == bytes(data)
    assert sorted(p.name for p in tmp_path.glob("damaged.db*")) == ["damaged.db"]


def test_a_database_at_the_previous_schema_is_upgraded_and_a_downgrade_writes_the_curves_back_raw(
        capsys: pytest.CaptureFixture[str], stored: tuple[Path, Path]) -> None:
    """Revision 0009 marks packed curves and block times, so an older QuantDesk refuses the file rather than
    misreading them."""
    from alembic import command

    from infrastructure.db.engine import create_sqlite_engine
    from infrastructure.db.migrate import _config, newest_migration

    db_path, strategy = stored
    run_id = stored_run(capsys, db_path, strategy)
    packed, fresh = reopen_and_rerun(db_path, run_id)
    even = series_from_frame(GOOG, Timeframe.D1)
    even = CandleSeries.from_columns(Timeframe.M1, 1_704_067_200_000 + 60_000 * np.arange(len(even)), even.open,
                                     even.high, even.low, even.close, even.volume)  # evenly spaced: times packed
    c = Container.open(db_path)
    c.candles.upsert(SeriesKey("csv", "EVEN", Timeframe.M1), even)
    c.close()
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM candle_blocks WHERE length(ts) = 20").fetchone() == (2,)
    engine = create_sqlite_engine(db_path)
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0008")
    engine.dispose()
    conn = sqlite3.connect(db_path)
    version, bars, equity, equity_ts = conn.execute(
        "SELECT version_num, bars, equity, equity_ts FROM alembic_version, backtest_runs WHERE id = ?",
        (run_id,)).fetchone()
    conn.close()
    assert version == "0008" and len(equity) == len(equity_ts) == 8 * bars  # what 0008's readers expect
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM candle_blocks WHERE length(ts) != 8 * n").fetchone() == (0,)
        ts = np.concatenate([np.frombuffer(b, "<i8") for b, in conn.execute(
            "SELECT ts FROM candle_blocks WHERE symbol = 'EVEN' ORDER BY block")])
    assert np.array_equal(ts, even.ts)
    assert np.array_equal(np.frombuffer(equity, "<f8").view(np.uint64), fresh.view(np.uint64))
    assert np.array_equal(np.frombuffer(equity_ts, "<i8"), packed.equity_ts)
    again, _ = reopen_and_rerun(db_path, run_id)  # opening upgrades it again; the raw curve reads the same
    assert np.array_equal(again.equity.view(np.uint64), fresh.view(np.uint64))
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(newest_migration(),)]
    conn.close()
