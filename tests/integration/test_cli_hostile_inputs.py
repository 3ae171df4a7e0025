"""Hostile and clumsy CLI input: one `error:` line, a non-zero exit, no traceback, the database bytes unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sim_thread import threaded_simulator

from app.bootstrap.cli import main
from app.timeparse import parse_time_arg
from infrastructure.simulator import SimulatorConfig, SimulatorServer, fixed_clock

CSV = """time,open,high,low,close,volume
2024-01-01T00:00:00Z,100,101,99,100.5,1
2024-01-01T00:01:00Z,100.5,102,100,101,2
"""
NOW = parse_time_arg("2024-06-01")


@pytest.fixture
def db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "q.db"
    (tmp_path / "in.csv").write_text(CSV)
    assert main(["--db", str(path), "import-csv", str(tmp_path / "in.csv"), "--exchange", "upbit",
                 "--market", "KRW-BTC", "--quiet"]) == 0
    capsys.readouterr()
    return path


def refused(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """Runs the CLI; argparse's own refusals (usage + one error line, exit 2) count as refusals too."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 2
    out, err = capsys.readouterr()
    assert code != 0, out
    assert "Traceback" not in out + err
    errors = [line for line in err.splitlines() if "error: " in line]
    assert len(errors) == 1, err
    return errors[0]


CASES = [
    pytest.param(["collect", "--exchange", "upbit", "--market", "KRW-BTC", "--start", "2024-01-01",
                  "--base-url", "ftp://127.0.0.1:21"], "not an http(s) URL", id="collect-base-url-not-http"),
    pytest.param(["collect", "--exchange", "upbit", "--market", "KRW-BTC", "--start", "2024-01-01",
                  "--base-url", "http://alice:s3cret@127.0.0.1:99999"], "***@", id="collect-base-url-bad-port"),
    pytest.param(["markets", "--exchange", "upbit", "--base-url", "127.0.0.1:8765"], "not an http(s) URL",
                 id="markets-base-url-without-scheme"),
    pytest.param(["simulator", "--port", "70000"], "not a TCP port", id="simulator-port-out-of-range"),
    pytest.param(["paper", "--strategy", "SMA 10/20 cross", "--market", "KRW-BTC", "--speed", "0"],
                 "not a positive number", id="paper-speed-zero"),
    pytest.param(["paper", "--strategy", "SMA 10/20 cross", "--market", "KRW-BTC", "--speed", "-3"],
                 "not a positive number", id="paper-speed-negative"),
    pytest.param(["paper", "--strategy", "SMA 10/20 cross", "--market", "KRW-BTC", "--speed", "nan"],
                 "not a positive number", id="paper-speed-nan"),
    pytest.param(["db", "delete", "--exchange", "upbit", "--market", "KRW-BTC", "--timeframe", "1m"], "--all",
                 id="db-delete-without-a-range"),
    pytest.param(["db", "info", "--gaps", "-2"], "not a count", id="db-info-negative-gaps"),
    pytest.param(["strategy", "import", "/dev/zero"], "larger than 10 MB", id="strategy-import-dev-zero"),
]


@pytest.mark.parametrize(("argv", "said"), CASES)
def test_hostile_input_is_refused_with_one_error_line_and_the_database_unchanged(
        argv: list[str], said: str, db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = db.read_bytes()
    line = refused(capsys, ["--db", str(db), *argv])
    assert said in line
    assert "s3cret" not in line
    assert db.read_bytes() == before


def test_a_strategy_import_of_a_folder_names_it(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "is a folder" in refused(capsys, ["--db", str(db), "strategy", "import", str(tmp_path)])


def test_db_delete_with_all_still_deletes_the_whole_series(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", str(db), "db", "delete", "--exchange", "upbit", "--market", "KRW-BTC", "--timeframe", "1m",
                 "--all"]) == 0
    assert "deleted 2 bars" in capsys.readouterr().out


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    """A simulator on its own loop in a thread, so the CLI can run its own asyncio loop in the test."""
    with threaded_simulator(SimulatorConfig(clock=fixed_clock(NOW))) as server:
        yield server


def test_a_market_given_three_times_is_collected_once(
        sim: SimulatorServer, db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", str(db_path), "collect", "--exchange", "demo", "--market", "KRW-BTC,KRW-BTC",
                 "--market", "KRW-BTC", "--start", "2024-01-01", "--end", "2024-01-01T12:00:00",
                 "--base-url", sim.url, "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.count("demo:KRW-BTC:1m") == 1


def test_a_start_after_the_last_completed_bar_says_nothing_is_due(
        sim: SimulatorServer, db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The service clamps to the wall clock's last bar: a start far in the future is past it."""
    assert main(["--db", str(db_path), "collect", "--exchange", "demo", "--market", "KRW-BTC",
                 "--start", "2999-01-01", "--base-url", sim.url, "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "nothing is due" in out and "no request was made" in out


def test_a_stored_run_with_infinite_statistics_shows_as_json_with_nulls(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from backtesting.test import GOOG

    GOOG.to_csv(tmp_path / "goog.csv")
    db = tmp_path / "bt.db"
    assert main(["--db", str(db), "import-csv", str(tmp_path / "goog.csv"), "--exchange", "csv", "--market", "GOOG",
                 "--quiet"]) == 0
    assert main(["--db", str(db), "backtest", "--strategy", "SMA 10/20 cross", "--exchange", "csv", "--market",
                 "GOOG", "--timeframe", "1d", "--lot-size", "1", "--cash", "1e308"]) == 0
    capsys.readouterr()
    code = main(["--db", str(db), "backtest-runs", "show", "1", "--json"])
    out, err = capsys.readouterr()
    assert code == 0 and "Traceback" not in err, err
    doc = json.loads(out)
    assert None in doc["stats"].values()  # the overflowing figures, as null rather than Infinity
    assert doc["stats"]["# Trades"] == len(doc["trades"])
