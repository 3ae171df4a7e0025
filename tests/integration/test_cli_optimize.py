"""`quantdesk optimize` through the real CLI entry point: grids, random samples, walk-forward, JSON, bad input."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from backtesting.test import GOOG
from sweep_support import KEY, sma_cross, walk

from app.bootstrap.cli import main
from app.bootstrap.container import Container

FAST = "entry_long.all[0].left.params.period,entry_short.all[0].left.params.period"
SLOW = "entry_long.all[0].right.params.period,entry_short.all[0].right.params.period"


def run(capsys: pytest.CaptureFixture[str], db: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["--db", str(db), *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    GOOG.to_csv(tmp_path / "goog.csv")
    (tmp_path / "sma.json").write_text(json.dumps(sma_cross()))
    return {"goog": tmp_path / "goog.csv", "sma": tmp_path / "sma.json"}


def stored_sweeps(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        tables = {r[0] for r in conn.execute("select name from sqlite_master where type='table'")}
        return conn.execute("select count(*) from sweeps").fetchone()[0] if "sweeps" in tables else 0


def test_a_grid_on_a_csv_file_prints_the_top_results_and_stores_the_sweep(
        capsys: pytest.CaptureFixture[str], files: dict[str, Path], db_path: Path) -> None:
    code, out, _ = run(capsys, db_path, "optimize", "--strategy", str(files["sma"]), "--csv", str(files["goog"]),
                       "--param", f"{FAST}=5:15:5", "--param", f"{SLOW}=20:40:10", "--objective", "Return [%]",
                       "--workers", "2", "--top", "5")
    assert code == 0
    lines = out.splitlines()
    assert "9 points" in lines[0] and "local process pool, 2 workers" in lines[0]
    assert lines[1].startswith("ok 9, invalid 0, failed 0; maximize Return [%]")
    assert "sma(10).period" in lines[2] and "sma(20).period" in lines[2]
    returns = [float(line.split()[3]) for line in lines[3:8]]
    assert returns == sorted(returns, reverse=True)
    assert lines[-1].startswith("robustness:")
    assert stored_sweeps(db_path) == 1


def test_random_sampling_json_is_reproducible_with_a_seed(capsys: pytest.CaptureFixture[str],
                                                          files: dict[str, Path], db_path: Path) -> None:
    argv = ["optimize", "--strategy", str(files["sma"]), "--csv", str(files["goog"]), "--param", f"{FAST}=3:20",
            "--param", f"{SLOW}=21:60", "--method", "random", "--samples", "6", "--seed", "11", "--workers", "1",
            "--constraint", "# Trades>=1", "--json"]
    _, first, _ = run(capsys, db_path, *argv)
    _, second, _ = run(capsys, db_path, *argv)
    a, b = json.loads(first), json.loads(second)
    assert a["points"] == 6 and a["top"] == b["top"] and a["best"]["stats"] == b["best"]["stats"]
    assert a["constraints"] == ["# Trades >= 1"] and a["sweep_id"] != b["sweep_id"]


def test_walk_forward_on_stored_candles_prints_each_window_and_the_stitched_result(
        capsys: pytest.CaptureFixture[str], files: dict[str, Path], db_path: Path) -> None:
    Container.open(db_path).candles.upsert(KEY, walk())
    code, out, _ = run(capsys, db_path, "optimize", "--strategy", str(files["sma"]), "--exchange", "demo",
                       "--market", "KRW-BTC", "--timeframe", "1h", "--param", f"{FAST}=5,10",
                       "--param", f"{SLOW}=20,30", "--walk-forward", "3", "--oos-fraction", "0.3", "--workers", "1")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[2].split()[:2] == ["window", "out-of-sample"]
    assert [line.split()[0] for line in lines[3:6]] == ["0", "1", "2"]
    assert any(line.startswith("stitched out-of-sample: return") for line in lines)
    assert "walk-forward efficiency" in lines[-1]


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("extra, words", [
    (["--param", "entry_long.all[0].left.params.perod=5:10"], "sma has no parameter 'perod'"),
    (["--param", "entry_long.all[0].op=5:10"], "not a numeric parameter"),
    (["--param", "entry_long.all[7].left.params.period=5:10"], "has only 1 item"),
    (["--param", f"{FAST}=10:5"], "is empty"),
    (["--param", f"{FAST}"], "expected PATH=RANGE"),
    (["--param", f"{FAST}=1:300", "--param", f"{SLOW}=301:400", "--max-combos", "5000"],
     "the grid has 30,000 combinations, over the cap of 5,000"),
    (["--param", f"{FAST}=5:10", "--objective", "Sharpie"], "unknown objective 'Sharpie'"),
    (["--param", f"{FAST}=5:10", "--constraint", "# Trades=>3"], "expected STAT OP NUMBER"),
    (["--param", f"{FAST}=5:10", "--commission", "0.5"], "commission"),
    (["--param", f"{FAST}=5:10", "--cluster", "tcp://127.0.0.1:PORT"], "cannot reach the Dask cluster"),
])
def test_bad_input_is_one_clear_line_a_non_zero_exit_and_nothing_stored(
        capsys: pytest.CaptureFixture[str], files: dict[str, Path], db_path: Path, extra: list[str],
        words: str) -> None:
    extra = [e.replace("PORT", str(unused_port())) for e in extra]
    code, out, err = run(capsys, db_path, "optimize", "--strategy", str(files["sma"]), "--csv", str(files["goog"]),
                         *extra)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and words in err and "Traceback" not in err
    assert stored_sweeps(db_path) == 0


def test_ctrl_c_cancels_the_sweep_keeps_finished_results_and_exits_130(tmp_path: Path, db_path: Path) -> None:
    bars = walk(100_000)
    frame = pd.DataFrame({"Open": bars.open, "High": bars.high, "Low": bars.low, "Close": bars.close,
                          "Volume": bars.volume}, index=pd.DatetimeIndex(bars.ts.astype("datetime64[ms]")))
    frame.to_csv(tmp_path / "long.csv")
    (tmp_path / "sma.json").write_text(json.dumps(sma_cross()))
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "--db", str(db_path), "optimize", "--strategy", str(tmp_path / "sma.json"),
         "--csv", str(tmp_path / "long.csv"), "--param", f"{FAST}=2:60", "--param", f"{SLOW}=61:160",
         "--method", "random", "--samples", "3000", "--workers", "2", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if _stored_points(db_path) > 0:
                break
            time.sleep(0.1)
        assert proc.poll() is None, "the sweep ended before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    doc = json.loads(out)
    assert doc["status"] == "cancelled" and 0 < doc["counts"]["ok"] < 3000
    assert _stored_points(db_path) == doc["counts"]["ok"]


def _stored_points(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return int(conn.execute("select count(*) from sweep_results").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def test_stored_sweeps_can_be_listed_shown_and_deleted(capsys: pytest.CaptureFixture[str], files: dict[str, Path],
                                                       db_path: Path) -> None:
    code, out, _ = run(capsys, db_path, "optimize", "--strategy", str(files["sma"]), "--csv", str(files["goog"]),
                       "--param", f"{FAST}=5:15:5", "--objective", "Return [%]", "--workers", "1", "--json")
    sweep_id = json.loads(out)["sweep_id"]
    _, listed, _ = run(capsys, db_path, "sweeps", "list")
    assert listed.split()[0] == str(sweep_id) and "3/3" in listed and "goog.csv" in listed
    _, shown, _ = run(capsys, db_path, "sweeps", "show", str(sweep_id), "--top", "2")
    lines = shown.splitlines()
    assert lines[0].startswith(f"sweep {sweep_id}: SMA cross") and "sma(10).period in 3 values" in lines[1]
    assert len(lines) == 4 and lines[2].strip().startswith("sma(10).period=")
    _, as_json, _ = run(capsys, db_path, "sweeps", "show", str(sweep_id), "--json")
    assert len(json.loads(as_json)["points"]) == 3
    assert run(capsys, db_path, "sweeps", "delete", str(sweep_id))[0] == 0
    code, _, err = run(capsys, db_path, "sweeps", "show", str(sweep_id))
    assert code == 2 and f"no sweep with id {sweep_id}" in err


def test_a_stored_strategy_is_found_by_name_even_with_a_slash(capsys: pytest.CaptureFixture[str],
                                                              files: dict[str, Path], db_path: Path) -> None:
    code, out, err = run(capsys, db_path, "optimize", "--strategy", "SMA 10/20 cross", "--csv", str(files["goog"]),
                         "--param", f"{FAST}=5,10", "--workers", "1", "--json")
    assert code == 0, err
    assert json.loads(out)["points"] == 2
    code, _, err = run(capsys, db_path, "optimize", "--strategy", "No such", "--csv", str(files["goog"]),
                       "--param", f"{FAST}=5,10")
    assert code == 2 and "no strategy file or stored strategy named 'No such'" in err
