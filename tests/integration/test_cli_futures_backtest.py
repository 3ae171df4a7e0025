"""`quantdesk backtest --leverage N --margin M` on Binance futures candles with funding collected from the simulator."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from app.bootstrap.cli import main
from app.market_data.funding import FundingService
from app.timeparse import parse_time_arg
from domain.market import SeriesKey, Timeframe
from infrastructure.db.candles import SqlCandleRepository
from infrastructure.db.engine import create_sqlite_engine
from infrastructure.db.funding import SqlFundingRepository
from infrastructure.db.migrate import upgrade_to_head
from infrastructure.exchanges import ExchangeGateways
from infrastructure.exchanges.http import RetryPolicy
from infrastructure.funding_csv import CsvFundingFiles
from infrastructure.simulator import SimulatorConfig, SimulatorServer, fixed_clock, simulator_candles

NOW = parse_time_arg("2024-06-01T00:00:00Z")
START, END = parse_time_arg("2024-03-01"), parse_time_arg("2024-05-01")
KEY = SeriesKey("binance", "BTCUSDT", Timeframe.H1)


class SimulatorTime:
    def now_ms(self) -> int:
        return NOW


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    async with SimulatorServer(SimulatorConfig(clock=fixed_clock(NOW))) as server:
        yield server


def sma_strategy(path: Path) -> Path:
    def leg(op: str) -> dict:
        return {"all": [{"left": {"var": "sma", "params": {"period": 10}}, "op": op,
                         "right": {"var": "sma", "params": {"period": 30}}}]}

    doc = {"schema": 1, "name": "SMA cross", "direction": "long_short", "entry_long": leg("crosses_above"),
           "entry_short": leg("crosses_below"), "exit_long": None, "exit_short": None,
           "risk": {"position_size_pct": 50, "stop_loss_pct": None, "take_profit_pct": None,
                    "trailing_stop_pct": None}}
    path.write_text(json.dumps(doc))
    return path


async def stored_market(sim: SimulatorServer, db_path: Path, funding_end: int) -> SqlFundingRepository:
    """Candles of KEY over [START, END) and funding collected from the simulator over [START, funding_end)."""
    engine = create_sqlite_engine(db_path)
    upgrade_to_head(engine)
    SqlCandleRepository(engine).upsert(KEY, simulator_candles("binance", "BTCUSDT", Timeframe.H1, START, END))
    repo = SqlFundingRepository(engine)
    gateways = ExchangeGateways({"binance": sim.url}, RetryPolicy(base_s=0.05, cap_s=0.5, timeout_s=5.0))
    try:
        await FundingService(repo, gateways.funding_source, CsvFundingFiles(), SimulatorTime()).collect(
            "binance", "BTCUSDT", START, funding_end)
    finally:
        await gateways.aclose()
    return repo


def backtest(capsys: pytest.CaptureFixture[str], db_path: Path, strategy: Path, *extra: str) -> tuple[int, str, str]:
    code = main(["--db", str(db_path), "backtest", "--strategy", str(strategy), "--exchange", "binance",
                 "--market", "BTCUSDT", "--timeframe", "1h", "--finalize-trades", *extra])
    out, err = capsys.readouterr()
    return code, out, err


async def test_a_10x_isolated_backtest_charges_the_collected_funding_to_each_trade(
        sim: SimulatorServer, db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = await stored_market(sim, db_path, END)
    strategy = sma_strategy(tmp_path / "sma.json")
    code, out, err = backtest(capsys, db_path, strategy, "--leverage", "10", "--margin", "isolated", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["funding"].startswith("funding: 183 events, stored data covers")
    trades, stats = doc["trades"], doc["stats"]
    assert len(trades) > 10
    reasons = [t["exit_reason"] for t in trades]
    assert set(reasons) <= {"signal", "end", "liquidation"}
    assert stats["Liquidations"] == reasons.count("liquidation")
    # every trade pays Σ q × mark × rate over the funding times it held (entry < t ≤ exit), independently summed
    events = repo.read("binance", "BTCUSDT", START, END)
    bars = simulator_candles("binance", "BTCUSDT", Timeframe.H1, START, END)
    opens = dict(zip(bars.ts.tolist(), bars.open.tolist(), strict=True))
    total = 0.0
    for t in trades:
        entry, exit_ = parse_time_arg(t["entry_time"]), parse_time_arg(t["exit_time"])
        held = (events.ts > entry) & (events.ts <= exit_)
        marks = np.where(np.isnan(events.mark), [opens[int(x)] for x in events.ts], events.mark)
        q = t["size"] * (1 if t["side"] == "long" else -1)
        expected = -float(np.sum(q * marks[held] * events.rate[held]))
        assert t["funding"] == pytest.approx(expected, rel=1e-9, abs=1e-9)
        total += t["funding"]
    assert total != 0.0
    assert stats["Funding [$]"] == pytest.approx(total, rel=1e-9, abs=1e-9)


async def test_no_funding_and_a_partly_covered_range_are_said_plainly(
        sim: SimulatorServer, db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    await stored_market(sim, db_path, parse_time_arg("2024-04-01"))
    strategy = sma_strategy(tmp_path / "sma.json")
    code, out, err = backtest(capsys, db_path, strategy, "--leverage", "3", "--margin", "cross")
    assert code == 0, err
    assert "funding: " in out and "NOT covered: 2024-04-01" in out and "collect-funding" in out
    code, out, err = backtest(capsys, db_path, strategy, "--leverage", "3", "--no-funding", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["funding"] == "funding: off (--no-funding)" and doc["stats"]["Funding [$]"] == 0.0


@pytest.mark.parametrize(("argv", "says"), [
    (("--exchange", "upbit", "--market", "KRW-BTC", "--timeframe", "1h"), "upbit trades spot only"),
    (("--exchange", "demo", "--market", "KRW-BTC", "--timeframe", "1h"), "demo trades spot only"),
    (("--exchange", "binance", "--market", "BTCUSDT", "--timeframe", "1h", "--leverage", "200"),
     "allows 1..125, got 200"),
])
def test_leverage_a_market_cannot_take_is_refused_naming_the_option(
        argv: tuple[str, ...], says: str, db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    extra = () if "--leverage" in argv else ("--leverage", "5")
    code = main(["--db", str(db_path), "backtest", "--strategy", str(sma_strategy(tmp_path / "s.json")), *argv,
                 *extra])
    err = capsys.readouterr().err
    assert code != 0 and "--leverage" in err and says in err


def test_a_csv_backtest_refuses_leverage(db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "bars.csv"
    csv.write_text("time,open,high,low,close,volume\n2024-01-01,1,1,1,1,1\n2024-01-02,1,1,1,1,1\n")
    code = main(["backtest", "--strategy", str(sma_strategy(tmp_path / "s.json")), "--csv", str(csv),
                 "--leverage", "2"])
    err = capsys.readouterr().err
    assert code != 0 and "--leverage: CSV data is traded as spot, so leverage must be 1 (got 2)" in err
