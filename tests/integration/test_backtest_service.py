"""BacktestService on a real SQLite file: worker-process runs, progress, cancel, stored runs reopened and deleted."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from backtest_oracle import series_from_frame
from backtesting.test import GOOG

from app.backtests.service import BacktestCancelled, BacktestProgressed, BacktestService, RunBacktest
from app.backtests.worker import serve
from app.errors import DataError, UserError
from domain.backtest import BacktestSettings
from domain.backtest.run import run_backtest
from domain.market import CandleSeries, SeriesKey, Timeframe
from domain.strategy import parse_strategy
from infrastructure.compute.worker_pool import WorkerPool
from infrastructure.db.backtests import SqlBacktestRepository
from infrastructure.db.candles import SqlCandleRepository
from infrastructure.db.engine import create_sqlite_engine
from infrastructure.db.migrate import upgrade_to_head

KEY = SeriesKey("csv", "GOOG", Timeframe.D1)


class FakeClock:
    def __init__(self) -> None:
        self.t = 1_700_000_000_000

    def now_ms(self) -> int:
        self.t += 1000
        return self.t


def sma_cross(direction: str = "long_short") -> dict:
    def leg(op: str) -> dict:
        return {"all": [{"left": {"var": "sma", "params": {"period": 10}}, "op": op,
                         "right": {"var": "sma", "params": {"period": 30}}}]}

    return {"schema": 1, "name": "SMA 10/30", "direction": direction, "entry_long": leg("crosses_above"),
            "entry_short": leg("crosses_below"), "exit_long": None, "exit_short": None,
            "risk": {"position_size_pct": 100, "stop_loss_pct": 5, "take_profit_pct": None, "trailing_stop_pct": None}}


@pytest.fixture
def service(db_path: Path) -> Iterator[BacktestService]:
    engine = create_sqlite_engine(db_path)
    upgrade_to_head(engine)
    candles = SqlCandleRepository(engine)
    candles.upsert(KEY, series_from_frame(GOOG, Timeframe.D1))
    service = BacktestService(candles, SqlBacktestRepository(engine), FakeClock(), WorkerPool(serve, "test-backtest"))
    yield service
    service.close()


def command(**kw: object) -> RunBacktest:
    defaults: dict = dict(strategy=parse_strategy(sma_cross()), key=KEY,
                          settings=BacktestSettings(commission=0.002, lot_size=1))
    defaults.update(kw)
    return RunBacktest(**defaults)


@pytest.mark.slow
def test_a_run_in_the_worker_process_is_stored_and_reopens_identically(service: BacktestService) -> None:
    events: list[BacktestProgressed] = []
    done = service.run(command(), events.append)
    stages = [e.stage for e in events]
    assert stages[0] == "loading" and stages[-1] == "done" and "simulating" in stages
    expected = run_backtest(parse_strategy(sma_cross()), series_from_frame(GOOG, Timeframe.D1),
                            BacktestSettings(commission=0.002, lot_size=1))
    np.testing.assert_array_equal(done.result.equity, expected.equity)
    stored = service.get(done.run_id)
    assert stored.summary.trades == len(expected.trades) > 10
    np.testing.assert_array_equal(stored.trades.pnl, expected.trades.pnl)
    np.testing.assert_array_equal(stored.trades.exit_reason, expected.trades.exit_reason)
    np.testing.assert_array_equal(stored.equity, expected.equity)
    assert stored.stats["Return [%]"] == pytest.approx(expected.stats["Return [%]"], rel=1e-12)
    assert stored.stats["Max. Drawdown Duration"] == expected.stats["Max. Drawdown Duration"].days
    assert stored.definition["name"] == "SMA 10/30" and stored.settings["commission"] == 0.002
    assert [r.id for r in service.list()] == [done.run_id]


@pytest.mark.slow
def test_the_worker_stays_warm_between_runs_and_a_cancelled_one_is_replaced(service: BacktestService) -> None:
    first = service.start(command())
    first.wait(60)
    second = service.start(command(settings=BacktestSettings(lot_size=1)))
    second.wait(60)
    assert second.process.pid == first.process.pid and second.process.is_alive()
    holder: list = []
    ready = threading.Event()

    def on_event(e: BacktestProgressed) -> None:
        if e.stage == "signals":
            ready.wait(5)
            holder[0].cancel()

    third = service.start(command(), on_event)
    holder.append(third)
    ready.set()
    with pytest.raises(BacktestCancelled):
        third.wait(60)
    fourth = service.start(command())
    fourth.wait(60)
    assert fourth.process.pid != first.process.pid
    assert service.runs.count() == 3


@pytest.mark.slow
def test_cancelling_a_running_worker_stops_it_and_stores_nothing(service: BacktestService) -> None:
    holder: list = []
    ready = threading.Event()

    def on_event(e: BacktestProgressed) -> None:
        if e.stage == "signals":  # sent by the worker once it runs
            ready.wait(5)
            holder[0].cancel()

    job = service.start(command(), on_event)
    holder.append(job)
    ready.set()
    with pytest.raises(BacktestCancelled):
        job.wait(60)
    assert job.process is not None and not job.process.is_alive()
    assert service.runs.count() == 0


def test_runs_are_listed_newest_first_and_deleted(service: BacktestService) -> None:
    first = service.run_here(command())
    second = service.run_here(command(settings=BacktestSettings(lot_size=1)))
    assert [r.id for r in service.list()] == [second.run_id, first.run_id]
    assert service.delete(first.run_id) and not service.delete(first.run_id)
    assert [r.id for r in service.list()] == [second.run_id]
    with pytest.raises(UserError, match="no backtest run"):
        service.get(first.run_id)


@pytest.mark.parametrize(("kw", "message"), [
    (dict(start_ms=2_000_000_000_000), "no candles stored"),
    (dict(key=SeriesKey("csv", "NOPE", Timeframe.D1)), "no candles stored"),
    (dict(start_ms=1_360_000_000_000), "too few"),
    (dict(settings=BacktestSettings(commission=0.5)), "commission"),
    (dict(settings=BacktestSettings(cash=-1)), "cash"),
])
def test_unusable_requests_are_refused_with_a_reason_and_store_nothing(service: BacktestService, kw: dict,
                                                                       message: str) -> None:
    with pytest.raises(UserError, match=message):
        service.run_here(command(**kw))
    assert service.runs.count() == 0


def test_nan_prices_are_named_by_bar_and_time(service: BacktestService) -> None:
    from app.backtests.worker import check_series

    g = series_from_frame(GOOG, Timeframe.D1)
    close = g.close.copy()
    close[5] = np.nan
    s = CandleSeries.from_columns(Timeframe.D1, g.ts, g.open, g.high, g.low, close, g.volume)
    assert "bar 5 (2004-08-26T00:00:00Z) has close = nan" in (check_series(s) or "")
    assert issubclass(DataError, UserError)


def test_a_run_of_a_stored_strategy_and_its_headline_are_written_in_one_transaction(
        service: BacktestService) -> None:
    from app.strategies.ports import NewStrategy
    from infrastructure.db.strategies import SqlStrategyRepository

    strategies = SqlStrategyRepository(service.runs.engine)  # type: ignore[attr-defined]
    record = strategies.add(NewStrategy(parse_strategy(sma_cross())), 1)
    done = service.run_here(command(strategy_id=record.id))
    summary = strategies.get(record.id).summary  # type: ignore[union-attr]
    assert summary.last_backtest_return == pytest.approx(done.result.stats["Return [%]"])
    assert summary.last_backtest_trades == len(done.result.trades)
    sweep_point = service.run_here(command())  # a run of an unsaved variant (no strategy id) leaves it alone
    assert sweep_point.run_id != done.run_id
    assert strategies.get(record.id).summary.last_backtest_trades == len(done.result.trades)  # type: ignore[union-attr]


@pytest.mark.slow
def test_a_worker_run_reports_each_stage_once_in_order_at_the_fractions_the_progress_bar_expects(
        service: BacktestService) -> None:
    from presentation.backtests.tab import STAGE_STARTS

    events: list[BacktestProgressed] = []
    service.run(command(), events.append)
    in_process: list[BacktestProgressed] = []
    service.run_here(command(), in_process.append)
    stages = [e.stage for e in events]
    assert stages == ["loading", "starting", "signals", "simulating", "statistics", "saving", "done"]
    bar = dict(STAGE_STARTS)
    assert [e.fraction for e in events[:-1]] == [bar[s] for s in stages[:-1]]  # the bar jumps where it expects
    assert [e.stage for e in in_process] == ["loading", "simulating", "statistics", "saving", "done"]
