"""`quantdesk optimize --leverage N --margin M` on Binance futures: every point runs the futures loop with funding."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli_futures_backtest import END, KEY, START, sim, sma_strategy, stored_market  # noqa: F401

from app.bootstrap.cli import main
from domain.backtest import BacktestSettings
from domain.backtest.run import run_backtest
from domain.strategy import parse_strategy
from infrastructure.db.candles import SqlCandleRepository
from infrastructure.db.engine import create_sqlite_engine
from infrastructure.futures_brackets import load_default_brackets
from infrastructure.simulator import SimulatorServer

FAST = "entry_long.all[0].left.params.period,entry_short.all[0].left.params.period"


def optimize(capsys: pytest.CaptureFixture[str], db_path: Path, strategy: Path, *extra: str) -> tuple[int, str, str]:
    code = main(["--db", str(db_path), "optimize", "--strategy", str(strategy), "--exchange", "binance",
                 "--market", "BTCUSDT", "--timeframe", "1h", "--start", "2024-03-01", "--end", "2024-05-01",
                 "--param", f"{FAST}=5:15:5", "--objective", "Return [%]", "--min-trades", "1", "--workers", "1",
                 "--json", *extra])
    out, err = capsys.readouterr()
    return code, out, err


async def test_a_leveraged_sweep_ranks_points_by_the_futures_backtest_with_funding(
        sim: SimulatorServer, db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    repo = await stored_market(sim, db_path, END)
    strategy = sma_strategy(tmp_path / "sma.json")
    code, out, err = optimize(capsys, db_path, strategy, "--leverage", "20", "--margin", "isolated")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["counts"]["ok"] == 3 and doc["funding"].startswith("funding: ") and "covers" in doc["funding"]
    best = doc["best"]
    definition = json.loads(strategy.read_text())
    for leg in ("entry_long", "entry_short"):
        definition[leg]["all"][0]["left"]["params"]["period"] = next(iter(best["params"].values()))
    series = SqlCandleRepository(create_sqlite_engine(db_path)).read(KEY, START, END)
    expected = run_backtest(parse_strategy(definition), series, BacktestSettings(
        leverage=20, margin="isolated", brackets=load_default_brackets()["BTCUSDT"],
        commission=0.0005, funding=repo.read("binance", "BTCUSDT", START, END)))
    assert best["stats"]["Funding [$]"] == pytest.approx(expected.stats["Funding [$]"], rel=1e-9)
    assert best["stats"]["Funding [$]"] != 0.0
    assert best["stats"]["Liquidations"] == expected.stats["Liquidations"]
    assert best["stats"]["Return [%]"] == pytest.approx(expected.stats["Return [%]"], rel=1e-9)


def test_optimize_refuses_leverage_on_a_csv_file(capsys: pytest.CaptureFixture[str], db_path: Path,
                                                 tmp_path: Path) -> None:
    csv = tmp_path / "bars.csv"
    csv.write_text("time,open,high,low,close,volume\n" + "".join(
        f"2024-01-01T{h:02d}:00:00Z,1,2,0.5,1.5,10\n" for h in range(24)))
    code = main(["--db", str(db_path), "optimize", "--strategy", str(sma_strategy(tmp_path / "s.json")),
                 "--csv", str(csv), "--param", f"{FAST}=5:10:5", "--leverage", "5"])
    _, err = capsys.readouterr()
    assert code != 0 and "leverage" in err
