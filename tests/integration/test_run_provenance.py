"""Stored runs carry what produced them: strategy snapshot, overridden values, data, costs and fills (issue 23)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sweep_support import KEY, sma_cross, walk

from app.backtests.service import RunBacktest
from app.bootstrap.cli import main
from app.bootstrap.container import Container
from domain.backtest import BacktestSettings
from domain.strategy import parse_strategy
from domain.sweep import set_values

FAST = "entry_long.all[0].left.params.period"


def cli(capsys: pytest.CaptureFixture[str], db: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["--db", str(db), *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def stored(tmp_path: Path, db_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A database with 1,500 hourly demo candles and the strategy "SMA cross" (10/20) saved."""
    container = Container.open(db_path)
    container.candles.upsert(KEY, walk())
    (tmp_path / "sma.json").write_text(json.dumps(sma_cross()))
    assert cli(capsys, db_path, "strategy", "import", str(tmp_path / "sma.json"))[0] == 0
    return db_path


def backtest_saved(capsys: pytest.CaptureFixture[str], db: Path) -> int:
    code, out, err = cli(capsys, db, "backtest", "--strategy", "SMA cross", "--exchange", "demo", "--market",
                         "KRW-BTC", "--timeframe", "1h", "--commission", "0.001", "--slippage", "0.0002",
                         "--trade-on-close", "--json")
    assert code == 0, err
    return int(json.loads(out)["run_id"])


def backtest_point(db: Path, fast: int) -> int:
    """What the Optimize window does when a point is opened: the saved strategy with one value changed."""
    container = Container.open(db)
    record = container.strategies.get_by_name("SMA cross")
    assert record is not None
    point = parse_strategy(set_values(sma_cross(), {FAST: fast}))
    done = container.backtests.run_here(RunBacktest(point, KEY, settings=BacktestSettings(commission=0.0005),
                                                    strategy_id=record.id))
    return done.run_id


def last_backtest(db: Path) -> tuple[float | None, int | None]:
    record = Container.open(db).strategies.get_by_name("SMA cross")
    assert record is not None
    return record.summary.last_backtest_return, record.summary.last_backtest_trades


def test_show_json_carries_the_snapshot_market_range_costs_and_fill_settings(
        capsys: pytest.CaptureFixture[str], stored: Path) -> None:
    run_id = backtest_saved(capsys, stored)
    code, out, _ = cli(capsys, stored, "backtest-runs", "show", str(run_id), "--json")
    doc = json.loads(out)
    assert code == 0 and doc["run_id"] == run_id
    assert doc["strategy"]["entry_long"]["all"][0]["left"]["params"]["period"] == 10
    assert doc["strategy_name"] == "SMA cross" and doc["as_saved"] is True and doc["overrides"] == {}
    assert (doc["exchange"], doc["market"], doc["timeframe"]) == ("demo", "KRW-BTC", "1h")
    assert doc["start"] == "2024-01-01T00:00:00Z" and doc["bars"] == 1500
    assert doc["end_ms"] - doc["start_ms"] == 1500 * 3_600_000
    assert doc["cash"] == 10_000_000 and doc["commission_pct"] == 0.1 and doc["slippage_pct"] == 0.02
    assert doc["fill"]["trade_on_close"] is True and doc["fill"]["rule"] == "on the signal bar's close"
    assert doc["settings"]["commission"] == 0.001 and "overrides" not in doc["settings"]


def test_a_run_with_a_changed_parameter_names_it_and_leaves_the_strategy_figure_alone(
        capsys: pytest.CaptureFixture[str], stored: Path) -> None:
    saved_run = backtest_saved(capsys, stored)
    figure = last_backtest(stored)
    _, shown, _ = cli(capsys, stored, "backtest-runs", "show", str(saved_run), "--json")
    assert figure == (json.loads(shown)["stats"]["Return [%]"], json.loads(shown)["stats"]["# Trades"])
    point_run = backtest_point(stored, fast=5)
    assert last_backtest(stored) == figure  # the sweep point never becomes the strategy's headline
    _, out, _ = cli(capsys, stored, "backtest-runs", "show", str(point_run), "--json")
    doc = json.loads(out)
    assert doc["as_saved"] is False
    assert doc["overrides"] == {FAST: {"saved": 10, "run": 5}}
    assert doc["strategy"]["entry_long"]["all"][0]["left"]["params"]["period"] == 5
    _, text, _ = cli(capsys, stored, "backtest-runs", "show", str(point_run))
    assert f"overridden (saved → this run): {FAST} 10 → 5" in text
    assert "fee 0.05 %, slip 0 %" in text and "Equity Final [KRW]" in text


def test_the_run_list_shows_costs_and_marks_runs_with_overridden_values(
        capsys: pytest.CaptureFixture[str], stored: Path) -> None:
    saved_run = backtest_saved(capsys, stored)
    point_run = backtest_point(stored, fast=7)
    code, out, _ = cli(capsys, stored, "backtest-runs", "list")
    rows = {int(line.split()[0]): line for line in out.splitlines()}
    assert code == 0 and set(rows) == {saved_run, point_run}
    assert rows[saved_run].endswith("fee 0.1 %, slip 0.02 %")
    assert rows[point_run].endswith("fee 0.05 %, slip 0 %  * 1 overridden")


def test_a_saved_strategy_run_again_after_a_point_becomes_the_headline_again(
        capsys: pytest.CaptureFixture[str], stored: Path) -> None:
    backtest_point(stored, fast=6)
    assert last_backtest(stored) == (None, None)
    run_id = backtest_saved(capsys, stored)
    _, out, _ = cli(capsys, stored, "backtest-runs", "show", str(run_id), "--json")
    stats = json.loads(out)["stats"]
    assert last_backtest(stored) == (stats["Return [%]"], stats["# Trades"])


def test_a_stored_run_reloads_its_exact_settings_and_reproduces_its_figures(
        capsys: pytest.CaptureFixture[str], stored: Path) -> None:
    from app.backtests.provenance import rerun_command

    point_run = backtest_point(stored, fast=8)
    container = Container.open(stored)
    first = container.backtests.get(point_run)
    cmd = rerun_command(first)
    assert cmd.settings == BacktestSettings(commission=0.0005) and cmd.strategy_id == first.summary.strategy_id
    assert (cmd.start_ms, cmd.end_ms, str(cmd.key)) == (first.summary.start_ms, first.summary.end_ms, str(KEY))
    again = container.backtests.get(container.backtests.run_here(cmd).run_id)
    assert again.stats == first.stats and again.definition == first.definition
    assert again.overrides == first.overrides == {FAST: {"saved": 10, "run": 8}}
