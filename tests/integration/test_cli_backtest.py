"""`quantdesk backtest` through the real CLI entry point: CSV files, stored candles, JSON, bad input."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from backtesting.test import EURUSD, GOOG

from app.bootstrap.cli import main
from domain.backtest import STAT_KEYS


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def strategy(direction: str = "long_short", period: int = 10) -> dict:
    def leg(op: str) -> dict:
        return {"all": [{"left": {"var": "sma", "params": {"period": period}}, "op": op,
                         "right": {"var": "sma", "params": {"period": 30}}}]}

    return {"schema": 1, "name": "SMA cross", "direction": direction, "entry_long": leg("crosses_above"),
            "entry_short": leg("crosses_below"), "exit_long": None, "exit_short": None,
            "risk": {"position_size_pct": 100, "stop_loss_pct": None, "take_profit_pct": None,
                     "trailing_stop_pct": None}}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    GOOG.to_csv(tmp_path / "goog.csv")
    EURUSD.to_csv(tmp_path / "eurusd.csv")
    (tmp_path / "sma.json").write_text(json.dumps(strategy()))
    return {"goog": tmp_path / "goog.csv", "eurusd": tmp_path / "eurusd.csv", "sma": tmp_path / "sma.json"}


def test_a_csv_backtest_prints_a_stats_table_and_the_trade_count(capsys: pytest.CaptureFixture[str],
                                                                 files: dict[str, Path]) -> None:
    code, out, _ = run(capsys, "backtest", "--strategy", str(files["sma"]), "--csv", str(files["goog"]))
    assert code == 0
    assert "(1d)" in out.splitlines()[0]
    for key in ("Return [%]", "Sharpe Ratio", "Max. Drawdown Duration", "Kelly Criterion"):
        assert key in out
    assert "days" in out and out.strip().splitlines()[-1].endswith("closed trades")
    lines = {line[:23].strip(): line[23:].strip() for line in out.splitlines()[1:-1]}
    assert lines["Start"] == "2004-08-19 00:00 UTC" and lines["Duration"] == "3,116.00 days"  # as the GUI shows them
    assert lines["Equity Final [$]"].replace(",", "").replace(".", "").isdigit()  # money: 2 decimals, thousands


def test_json_output_has_every_stat_key_durations_in_days_and_trades(capsys: pytest.CaptureFixture[str],
                                                                      files: dict[str, Path]) -> None:
    code, out, _ = run(capsys, "backtest", "--strategy", str(files["sma"]), "--csv", str(files["eurusd"]),
                       "--json", "--commission", "0.0002", "--finalize-trades")
    assert code == 0
    doc = json.loads(out)
    assert tuple(doc["stats"]) == STAT_KEYS
    assert doc["data"].endswith("(1h)")  # hourly bars with weekend gaps are inferred as 1h
    assert isinstance(doc["stats"]["Duration"], float) and doc["stats"]["Start"] == "2017-04-19T09:00:00Z"
    assert len(doc["trades"]) == doc["stats"]["# Trades"] > 10
    assert doc["trades"][-1]["exit_reason"] == "end"
    assert doc["trades"][0]["entry_time"].endswith("Z") and doc["run_id"] is None


def test_stored_candles_are_backtested_and_the_run_is_stored(capsys: pytest.CaptureFixture[str],
                                                             files: dict[str, Path], db_path: Path) -> None:
    assert run(capsys, "--db", str(db_path), "import-csv", str(files["goog"]), "--exchange", "csv",
               "--market", "GOOG", "--quiet")[0] == 0
    code, out, _ = run(capsys, "--db", str(db_path), "backtest", "--strategy", str(files["sma"]),
                       "--exchange", "csv", "--market", "GOOG", "--timeframe", "1d", "--start", "2008-01-01",
                       "--lot-size", "1")
    assert code == 0 and "stored as run 1" in out
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("select count(*), min(start_ms) from backtest_runs").fetchone() == (1, 1199232000000)
    code, out, _ = run(capsys, "--db", str(db_path), "backtest-runs", "list")
    assert code == 0 and "SMA cross" in out and "csv:GOOG:1d" in out
    code, out, _ = run(capsys, "--db", str(db_path), "backtest-runs", "show", "1")
    assert code == 0 and "Max. Drawdown Duration" in out and "days" in out
    code, out, _ = run(capsys, "--db", str(db_path), "backtest-runs", "show", "1", "--json")
    assert json.loads(out)["stats"]["# Trades"] == len(json.loads(out)["trades"])
    assert run(capsys, "--db", str(db_path), "backtest-runs", "delete", "1")[0] == 0
    code, _, err = run(capsys, "--db", str(db_path), "backtest-runs", "delete", "1")
    assert code == 2 and "no backtest run with id 1" in err



def test_candles_stored_under_a_name_of_the_users_own_are_priced_like_csv_data(
        capsys: pytest.CaptureFixture[str], files: dict[str, Path], db_path: Path) -> None:
    assert run(capsys, "--db", str(db_path), "import-csv", str(files["goog"]), "--exchange", "mydata",
               "--market", "GOOG", "--quiet")[0] == 0
    stored = ["--db", str(db_path), "backtest", "--strategy", str(files["sma"]), "--exchange", "mydata",
              "--market", "GOOG", "--timeframe", "1d", "--lot-size", "1"]
    code, out, err = run(capsys, *stored, "--json")
    assert code == 0, err
    from_file = run(capsys, "backtest", "--strategy", str(files["sma"]), "--csv", str(files["goog"]), "--json")
    assert json.loads(out)["stats"] == json.loads(from_file[1])["stats"]  # CSV's default cash and commission
    assert json.loads(out)["trades"] == json.loads(from_file[1])["trades"]
    code, out, err = run(capsys, "--db", str(db_path), "backtest-runs", "show", "1")
    assert code == 0 and "Equity Final [$]" in out and "fee 0.2 %" in out, err
    code, out, err = run(capsys, *stored, "--leverage", "3")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("error: --leverage: 'mydata' is not an exchange QuantDesk trades")
    code, out, err = run(capsys, *stored, "--margin", "cross")
    assert code == 2 and err == "error: --margin: mydata trades spot, there is no margin mode to choose\n"


BAD = [
    (["--cash", "-5"], "cash: must be a positive amount"),
    (["--commission", "0.1"], "commission: must be a fraction in [0, 0.1)"),
    (["--commission", "-0.001"], "commission"),
    (["--start", "2030-01-01"], "no bars in the requested range"),
    (["--start", "2013-02-01"], "too few for this strategy"),
    (["--start", "yesterday"], "--start: cannot read"),
]


@pytest.mark.parametrize(("extra", "message"), BAD)
def test_bad_settings_and_ranges_fail_with_one_clear_line(capsys: pytest.CaptureFixture[str],
                                                          files: dict[str, Path], extra: list[str],
                                                          message: str) -> None:
    code, out, err = run(capsys, "backtest", "--strategy", str(files["sma"]), "--csv", str(files["goog"]), *extra)
    assert code == 2 and message in err and "Traceback" not in err and out == ""


def test_an_invalid_strategy_lists_every_problem_with_its_path(capsys: pytest.CaptureFixture[str],
                                                              files: dict[str, Path], tmp_path: Path) -> None:
    bad = strategy(period=0)
    bad["entry_short"]["all"][0]["right"]["var"] = "closee"
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    code, _, err = run(capsys, "backtest", "--strategy", str(tmp_path / "bad.json"), "--csv", str(files["goog"]))
    assert code == 2
    assert "entry_long.all[0].left.params.period" in err and "entry_short.all[0].right.var" in err


def test_nan_prices_and_missing_sources_are_refused(capsys: pytest.CaptureFixture[str], files: dict[str, Path],
                                                   tmp_path: Path, db_path: Path) -> None:
    nan = tmp_path / "nan.csv"
    nan.write_text("time,open,high,low,close,volume\n2024-01-01,1,2,0.5,1,1\n2024-01-02,1,2,0.5,nan,1\n")
    code, _, err = run(capsys, "backtest", "--strategy", str(files["sma"]), "--csv", str(nan))
    assert code == 2 and "nan.csv:3" in err
    code, _, err = run(capsys, "backtest", "--strategy", str(files["sma"]))
    assert code == 2 and "--csv" in err
    code, _, err = run(capsys, "--db", str(db_path), "backtest", "--strategy", str(files["sma"]), "--exchange",
                       "csv", "--market", "NOPE", "--timeframe", "1h")
    assert code == 2 and "no candles stored for csv:NOPE:1h" in err
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("select count(*) from backtest_runs").fetchone() == (0,)


def test_candles_imported_under_a_label_of_the_users_own_backtest_with_file_data_costs(
        capsys: pytest.CaptureFixture[str], files: dict[str, Path], db_path: Path) -> None:
    assert run(capsys, "--db", str(db_path), "import-csv", str(files["goog"]), "--exchange", "mybroker",
               "--market", "GOOG", "--quiet")[0] == 0
    code, out, err = run(capsys, "--db", str(db_path), "backtest", "--strategy", str(files["sma"]), "--exchange",
                         "mybroker", "--market", "GOOG", "--timeframe", "1d", "--lot-size", "1")
    assert code == 0 and "stored as run 1" in out, err
    code, out, _ = run(capsys, "--db", str(db_path), "backtest-runs", "show", "1", "--json")
    settings = json.loads(out)["settings"]
    assert settings["commission"] == 0.002 and settings["cash"] == 10_000.0  # CSV data's defaults
