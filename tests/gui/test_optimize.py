"""The Optimize view offscreen: strategy parameters, run with progress, cancel, table, heatmap, walk-forward."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PyQt6 import QtCore
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from app.errors import UserError
from app.sweeps.service import SweepService
from domain.backtest.run import run_backtest
from domain.market import CandleSeries, SeriesKey, Timeframe
from domain.sweep import OK, PointResult, Scored, SweepJob, SweepTask, run_task
from infrastructure.db.candles import SqlCandleRepository
from infrastructure.db.engine import create_sqlite_engine
from infrastructure.db.migrate import upgrade_to_head
from infrastructure.db.sweeps import SqlSweepRepository
from presentation.optimize import OptimizeView, StrategyChoice
from presentation.optimize.results_model import SORT_ROLE, SweepResultsModel
from presentation.services import Services

KEY = SeriesKey("demo", "KRW-BTC", Timeframe.H1)
SMA = "Long entry › condition 1 › SMA period"  # how the Builder names the SMA cross's periods


def walk(n: int = 1200) -> CandleSeries:
    rng = np.random.default_rng(5)
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.r_[close[0], close[:-1]]
    high, low = np.maximum(open_, close) * 1.003, np.minimum(open_, close) * 0.997
    ts = 1_704_067_200_000 + np.arange(n, dtype=np.int64) * 3_600_000
    return CandleSeries.from_columns(Timeframe.H1, ts, open_, high, low, close, np.ones(n))


def sma_cross() -> dict[str, Any]:
    def leg(op: str) -> dict[str, Any]:
        return {"all": [{"left": {"var": "sma", "params": {"period": 10}}, "op": op,
                         "right": {"var": "sma", "params": {"period": 20}}}]}

    return {"schema": 1, "name": "SMA cross", "direction": "long_short", "entry_long": leg("crosses_above"),
            "entry_short": leg("crosses_below"), "exit_long": None, "exit_short": None,
            "risk": {"position_size_pct": 100, "stop_loss_pct": None}}


class GatedExecutor:
    """Runs batches in the sweep's thread; with `gate`, waits for it before every batch after the first."""

    name, workers = "inline", 1

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.gate = gate
        self.series: CandleSeries | None = None

    def describe(self) -> str:
        return "inline"

    def start(self, series: CandleSeries, job: SweepJob) -> None:
        self.series = series

    def results(self, tasks: Sequence[SweepTask], cancel: threading.Event) -> Iterator[list[PointResult]]:
        assert self.series is not None
        for i, task in enumerate(tasks):
            if i and self.gate is not None:
                self.gate.wait(10)
            if cancel.is_set():
                return
            yield run_task(task, self.series, cancel.is_set)

    def close(self) -> None:
        pass


class FakeBacktests:
    """Backtests in-process and hands back what BacktestService.run returns (a run id and the result)."""

    def __init__(self, series: CandleSeries) -> None:
        self.series, self.runs = series, []

    def run(self, cmd: Any) -> Any:
        self.runs.append(cmd)
        result = run_backtest(cmd.strategy, self.series, cmd.settings)
        return type("Finished", (), {"run_id": len(self.runs), "result": result})()


@pytest.fixture
def series() -> CandleSeries:
    return walk()


def make_view(qtbot: QtBot, db_path: Path, series: CandleSeries, executor: Any) -> OptimizeView:
    engine = create_sqlite_engine(db_path)
    upgrade_to_head(engine)
    candles = SqlCandleRepository(engine)
    candles.upsert(KEY, series)
    service = SweepService(candles, SqlSweepRepository(engine), _Clock(), lambda c, w: executor)
    view = OptimizeView(service, lambda: [StrategyChoice("SMA cross", sma_cross(), None)],
                        lambda: list(candles.series()), FakeBacktests(series))
    qtbot.addWidget(view)
    view.params.set_checked(0)
    view.params.set_range(0, 4, 12, 4)
    view.params.set_checked(1)
    view.params.set_range(1, 20, 40, 10)
    return view


class _Clock:
    def now_ms(self) -> int:
        return 1_700_000_000_000


def test_parameters_come_from_the_strategys_own_numeric_fields(qtbot: QtBot, db_path: Path,
                                                                series: CandleSeries) -> None:
    view = make_view(qtbot, db_path, series, GatedExecutor())
    names = [view.params.item(r, 1).text() for r in range(view.params.rowCount())]
    assert names[:2] == [f"{SMA} (left)  (×2)", f"{SMA} (right)  (×2)"]
    assert "Stop-loss %" in names and "Position size %" in names


def test_a_run_streams_into_a_sortable_table_and_a_heatmap(qtbot: QtBot, db_path: Path, series: CandleSeries) -> None:
    view = make_view(qtbot, db_path, series, GatedExecutor())
    with qtbot.waitSignal(view.sweepFinished, timeout=30_000) as done:
        view.run_button.click()
    outcome = done.args[0]
    assert outcome.status == "done" and view.model.rowCount() == 9 and view.progress.value() == 9
    assert view.heatmap.grid.shape == (3, 3) and np.isfinite(view.heatmap.grid).all()
    best = outcome.best
    assert view.heatmap.grid[best.result.coords] == best.score
    column = 2  # the objective, after the two parameter columns
    top = view.proxy.index(0, column).data(SORT_ROLE)
    assert top == max(view.proxy.index(r, column).data(SORT_ROLE) for r in range(9)) == best.score
    assert "best Sharpe (bars)" in view.status.text() and view.run_button.isEnabled()


def test_a_streaming_sweep_redraws_the_heatmap_at_a_bounded_rate_and_shows_every_point_at_the_end(
        qtbot: QtBot, db_path: Path, series: CandleSeries) -> None:
    view = make_view(qtbot, db_path, series, GatedExecutor())
    view.params.set_range(0, 2, 12, 1)  # 11 x 3 = 33 points in 9 batches, streamed within milliseconds
    drawn: list[int] = []
    view.heatmap.set_grid = lambda grid, *a, **k: drawn.append(int(np.isfinite(grid).sum()))  # type: ignore
    batches: list[int] = []
    view.runner.progressed.connect(lambda e: batches.append(len(e.new)) if e.new else None)
    with qtbot.waitSignal(view.sweepFinished, timeout=30_000) as done:
        view.run_button.click()
    assert done.args[0].status == "done" and view.model.rowCount() == 33
    assert len(batches) > 3 and len(drawn) < len(batches)  # not one full redraw per batch
    assert drawn[-1] == 33  # the last redraw holds every point


def test_double_clicking_a_heatmap_cell_backtests_those_parameters(qtbot: QtBot, db_path: Path,
                                                                    series: CandleSeries) -> None:
    view = make_view(qtbot, db_path, series, GatedExecutor())
    with qtbot.waitSignal(view.sweepFinished, timeout=30_000):
        view.run()
    cell = view.cells[(2, 1)]
    with qtbot.waitSignal(view.backtestOpened, timeout=30_000) as opened:
        view.heatmap.activate(2, 1)
    finished = opened.args[0]
    assert finished.result.stats["Sharpe Ratio"] == cell.result.stats["Sharpe Ratio"]
    sent = view.backtests.runs[0].strategy
    assert dict(sent.entry_long.items[0].left.params)["period"] == 12 == cell.result.params[0]
    assert "Backtest run 1" in view.detail.text()


def test_cancel_stops_the_sweep_and_keeps_what_finished(qtbot: QtBot, db_path: Path, series: CandleSeries) -> None:
    gate = threading.Event()
    view = make_view(qtbot, db_path, series, GatedExecutor(gate))
    with qtbot.waitSignal(view.runner.progressed, timeout=30_000, check_params_cb=lambda e: e.done > 0):
        view.run()
    assert view.cancel_button.isEnabled()
    with qtbot.waitSignal(view.sweepFinished, timeout=30_000) as done:
        view.cancel_button.click()
        gate.set()
    outcome = done.args[0]
    assert outcome.status == "cancelled" and 0 < view.model.rowCount() < 9
    assert view.model.rowCount() == len(outcome.ranked)


def test_walk_forward_shows_the_stitched_curve_and_one_row_per_window(qtbot: QtBot, db_path: Path,
                                                                      series: CandleSeries) -> None:
    view = make_view(qtbot, db_path, series, GatedExecutor())
    view.form.walk_forward.setValue(3)
    with qtbot.waitSignal(view.sweepFinished, timeout=30_000):
        view.run()
    assert view.walk.table.rowCount() == 3
    xs, ys = view.walk.curve.getData()
    assert xs is not None and len(ys) == sum(w.oos_bars for w in view.plan.windows)
    assert "Stitched out-of-sample" in view.walk.summary.text()
    assert "walk-forward over 3 windows" in view.status.text()
    assert view.model.headers()[:3] == ["Window", f"{SMA} (left)", f"{SMA} (right)"]
    assert {view.model.index(r, 0).data() for r in range(view.model.rowCount())} == {"0", "1", "2"}
    view.heat_window.setCurrentIndex(2)  # the heatmap shows one window's in-sample sweep at a time
    best = view.outcome.walk_forward.windows[2]
    assert np.nanmax(view.heatmap.grid) == best.is_score


def test_bad_input_is_explained_and_nothing_runs(qtbot: QtBot, db_path: Path, series: CandleSeries) -> None:
    view = make_view(qtbot, db_path, series, GatedExecutor())
    view.params.set_range(0, 12, 4, 4)
    with qtbot.waitSignal(view.sweepFailed) as failed:
        view.run()
    assert "empty" in failed.args[0] and "Not run" in view.status.text() and not view.runner.running


def test_the_results_model_is_a_valid_qt_model(qtmodeltester: ModelTester) -> None:
    model = SweepResultsModel()
    qtmodeltester.check(model)
    model.reset(["fast", "slow"], "Sharpe Ratio")
    model.append([Scored(PointResult((0, 0), (5.0, 20.0), OK, {"Sharpe Ratio": 1.5, "# Trades": 12}), 1.5, True),
                  Scored(PointResult((0, 1), (5.0, 30.0), "invalid", message="bad"), float("nan"), False)])
    qtmodeltester.check(model)
    assert model.index(0, 2).data() == "1.5" and model.index(1, 2).data() == "--"
    assert model.index(1, model.columnCount() - 1).data() == "invalid"
    model.reset(["fast"], "SQN", windowed=True)
    model.append([Scored(PointResult((0,), (5.0,), OK, {"SQN": 2.0, "# Trades": 3}, window=2), 2.0, True)])
    qtmodeltester.check(model)
    assert [model.index(0, c).data() for c in range(4)] == ["2", "5", "2", "3"]


def test_the_view_wired_to_the_container_offers_the_stored_strategies_and_candles(qtbot: QtBot, container: Any,
                                                                                  series: CandleSeries) -> None:
    from presentation.optimize import optimize_view

    view = optimize_view(Services(container))
    qtbot.addWidget(view)
    names = [view.strategy.itemText(i) for i in range(view.strategy.count())]
    assert "SMA 10/20 cross" in names and view.params.rowCount() > 0
    macd = container.strategies.get_by_name("MACD trend with ATR trail")
    assert macd is not None and view.select_strategy(macd.id)
    assert view.strategy.currentText() == "MACD trend with ATR trail"
    assert any("MACD" in view.params.cell(r, 1).text() for r in range(view.params.rowCount()))
    assert not view.select_strategy(10**6)
    with qtbot.waitSignal(view.sweepFailed) as failed:
        view.run()
    assert "pick stored candles" in failed.args[0]
    container.candles.upsert(KEY, series)
    view.show()  # showing the view again picks up candles stored meanwhile
    assert view.data.count() == 1 and str(KEY) in view.data.currentText()


def test_tools_optimize_in_the_main_window_opens_the_view(qtbot: QtBot, container: Any) -> None:
    from PyQt6 import QtWidgets

    from presentation.main_window import MainWindow

    window = MainWindow(Services(container), first_run_demo=False)
    qtbot.addWidget(window)
    tools = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Tools")
    assert isinstance(tools, QtWidgets.QMenu)
    action = next(a for a in tools.actions() if a.text() == "&Optimize parameters…")
    action.trigger()
    view = window.optimize_view
    qtbot.addWidget(view)
    assert view.isVisible() and view.strategy.count() >= 1
    action.trigger()
    assert window.optimize_view is view  # one view, raised again


def test_hovering_a_heatmap_cell_says_what_it_holds(qtbot: QtBot, db_path: Path, series: CandleSeries) -> None:
    view = make_view(qtbot, db_path, series, GatedExecutor())
    with qtbot.waitSignal(view.sweepFinished, timeout=30_000):
        view.run()
    view.heatmap.cellHovered.emit(0, 2)
    cell = view.cells[(0, 2)]
    assert view.detail.text().startswith(f"{SMA} (left)=4, {SMA} (right)=40: Sharpe (bars)")
    assert f"{cell.score:.4g}" in view.detail.text()


def test_a_backtest_opened_from_the_optimize_view_shows_in_the_backtests_tab(qtbot: QtBot, container: Any,
                                                                           series: CandleSeries) -> None:
    from app.backtests.service import RunBacktest
    from domain.strategy import parse_strategy
    from presentation.main_window import MainWindow

    container.candles.upsert(KEY, series)
    window = MainWindow(Services(container), first_run_demo=False)
    qtbot.addWidget(window)
    window.show_optimize()
    qtbot.addWidget(window.optimize_view)
    done = container.backtests.run_here(RunBacktest(parse_strategy(sma_cross()), KEY))
    window.optimize_view.backtestOpened.emit(done)
    assert window.tabs.currentWidget() is window.pages["Backtests"]
    assert window.strategy_work.backtests.run_shown.id == done.run_id


def test_the_optimize_window_closes_with_its_close_button_and_with_escape(
        qtbot: QtBot, db_path: Path, series: CandleSeries) -> None:
    from PyQt6 import QtCore

    view = make_view(qtbot, db_path, series, GatedExecutor())
    view.show()
    qtbot.waitExposed(view)
    assert view.close_button is not None and view.close_button.text().replace("&", "") == "Close"
    qtbot.mouseClick(view.close_button, QtCore.Qt.MouseButton.LeftButton)
    assert not view.isVisible()
    view.show()
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)
    qtbot.keyClick(view, QtCore.Qt.Key.Key_Escape)
    assert not view.isVisible()


def test_quitting_closes_the_optimize_window_too_after_asking_about_a_running_sweep(
        qtbot: QtBot, container: Any) -> None:
    from PyQt6 import QtCore

    from presentation.main_window import MainWindow

    window = MainWindow(Services(container), first_run_demo=False)
    qtbot.addWidget(window)
    window.show()
    window.show_optimize()
    view = window.optimize_view
    assert view is not None
    qtbot.addWidget(view)

    def sweep_until_cancelled(cancel: threading.Event, emit: Any) -> None:
        cancel.wait(30)
        raise UserError("sweep cancelled")

    view.runner.start(sweep_until_cancelled)  # a sweep still running, until cancelled
    asked: list[str] = []
    answers = iter([False, True])  # first No (let it run), then Yes (cancel it and quit)

    def ask(title: str, text: str) -> bool:
        asked.append(text)
        return next(answers)

    view.ask = ask
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)
    qtbot.keyClick(view, QtCore.Qt.Key.Key_Q, QtCore.Qt.KeyboardModifier.ControlModifier)  # Ctrl+Q in Optimize
    assert len(asked) == 1 and "sweep is still running" in asked[0]
    assert window.isVisible() and view.isVisible() and view.runner.running  # No: nothing closed or cancelled
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Q, QtCore.Qt.KeyboardModifier.ControlModifier)  # Ctrl+Q in the main one
    assert len(asked) == 2 and not window.isVisible() and not view.isVisible()
    assert view.runner.cancel_event.is_set()
    view.runner.join(5)
    assert not view.runner.running


def test_the_optimize_costs_are_in_percent_with_the_exchanges_fee_and_cash_in_the_quote_currency(
        qtbot: QtBot, db_path: Path, series: CandleSeries) -> None:
    view = make_view(qtbot, db_path, series, GatedExecutor())
    form = view.form
    assert form.commission.text() == "0.050 %" and form.slippage.text() == "0.000 %"
    assert form.costs.cash_label.text() == "Cash (KRW)" and form.cash.text() == "10,000,000"
    form.commission.setFocus()
    qtbot.keyClick(form.commission, QtCore.Qt.Key.Key_A, QtCore.Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(form.commission, "0.1")
    request, _ = view.request()
    assert request.cmd.settings.commission == 0.001 and request.cmd.settings.cash == 10_000_000


def test_a_sweep_points_run_never_changes_the_strategys_shown_figure(qtbot: QtBot, container: Any,
                                                                      series: CandleSeries) -> None:
    from app.backtests.service import RunBacktest
    from presentation.optimize import optimize_view
    from presentation.strategies.tab import StrategiesTab

    container.candles.upsert(KEY, series)
    record = container.strategies.get_by_name("SMA 10/20 cross")
    assert record is not None
    container.backtests.run(RunBacktest(container.strategies.strategy(record.id), KEY, strategy_id=record.id))
    strategies = StrategiesTab(container.strategies)
    qtbot.addWidget(strategies)
    model = strategies.model

    def figure() -> tuple[str, str]:
        row = next(r for r in range(model.rowCount()) if model.index(r, 0).data() == "SMA 10/20 cross")
        return model.index(row, 4).data(), model.index(row, 5).data()

    before = figure()
    assert before[0].endswith("%")
    view = optimize_view(Services(container))
    qtbot.addWidget(view)
    assert view.select_strategy(record.id)
    view.form.workers.setValue(1)
    view.params.set_checked(0)
    view.params.set_range(0, 4, 6, 2)
    with qtbot.waitSignal(view.sweepFinished, timeout=60_000):
        qtbot.mouseClick(view.run_button, QtCore.Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(view.backtestOpened, timeout=60_000) as opened:
        view.heatmap.activate(*next(iter(view.cells)))
    stored = container.backtests.get(opened.args[0].run_id)
    assert stored.overrides and stored.summary.strategy_id == record.id
    model.refresh()
    assert figure() == before
    container.backtests.close()


def test_points_below_the_minimum_trades_never_rank_best_and_fast_below_slow_is_offered(
        qtbot: QtBot, db_path: Path, series: CandleSeries) -> None:
    view = make_view(qtbot, db_path, series, GatedExecutor())
    form = view.form
    assert form.objective.currentText() == "Sharpe (bars)" and form.min_trades.value() == 10
    assert not form.fast_below_slow.isHidden()  # two SMA periods are ticked
    assert f"{SMA} (left) is not below {SMA} (right)" in form.fast_below_slow.toolTip()
    view.params.set_checked(1, False)
    assert form.fast_below_slow.isHidden()
    view.params.set_checked(1)
    view.params.set_range(0, 20, 30, 10)
    view.params.set_range(1, 20, 30, 10)  # the diagonal (20/20, 30/30) never crosses: 0 trades
    with qtbot.waitSignal(view.sweepFinished, timeout=30_000) as done:
        qtbot.mouseClick(view.run_button, QtCore.Qt.MouseButton.LeftButton)
    points = {p.result.params: p for p in view.results.scored}
    assert points[(20.0, 20.0)].result.stats["# Trades"] == 0 and not points[(20.0, 20.0)].passed
    best = view.heatmap.best_cell
    assert best is not None and view.cells[best].result.stats["# Trades"] >= 10
    assert view.cells[best] is not points[(20.0, 20.0)] and np.isnan(view.heatmap.grid[0, 0])
    assert done.args[0].best.result.stats["# Trades"] >= 10
    form.min_trades.setValue(1)
    form.fast_below_slow.setChecked(True)
    with qtbot.waitSignal(view.sweepFinished, timeout=30_000) as done:
        qtbot.mouseClick(view.run_button, QtCore.Qt.MouseButton.LeftButton)
    assert view.model.rowCount() == 1 and view.results.scored[0].result.params == (20.0, 30.0)


def test_the_strategy_picker_follows_the_store_and_selects_the_strategy_being_worked_on(
        qtbot: QtBot, container: Any) -> None:
    from presentation.optimize import optimize_view

    services = Services(container)
    view = optimize_view(services)
    qtbot.addWidget(view)
    view.show()
    names = [view.strategy.itemText(i) for i in range(view.strategy.count())]
    assert "AAA saved later" not in names
    record = container.strategies.get_by_name("SMA 10/20 cross")
    assert record is not None
    definition = dict(record.definition, name="AAA saved later")
    saved = container.strategies.create(definition).record
    assert saved is not None
    view.hide()
    view.show()  # shown again after the store changed: the new strategy is offered
    names = [view.strategy.itemText(i) for i in range(view.strategy.count())]
    assert "AAA saved later" in names
    services.current_strategy_id = record.id  # the Builder opened it
    view.hide()
    view.show()
    assert view.strategy.currentText() == "SMA 10/20 cross"
    assert any("SMA" in view.params.cell(r, 1).text() for r in range(view.params.rowCount()))
    view.strategy.setCurrentIndex(view.strategy.findText("AAA saved later"))  # the user picks another one
    view.hide()
    view.show()
    assert view.strategy.currentText() == "AAA saved later" and saved.id != record.id


def test_at_1440_by_900_the_results_headers_use_the_builders_words_unclipped(
        qtbot: QtBot, db_path: Path, series: CandleSeries) -> None:
    view = make_view(qtbot, db_path, series, GatedExecutor())
    view.resize(1440, 900)
    view.show()
    with qtbot.waitSignal(view.sweepFinished, timeout=30_000):
        qtbot.mouseClick(view.run_button, QtCore.Qt.MouseButton.LeftButton)
    header = view.table.horizontalHeader()
    texts = [view.proxy.headerData(c, QtCore.Qt.Orientation.Horizontal) for c in range(view.proxy.columnCount())]
    assert texts[0] == "Long entry › condition 1\nSMA period (left)" and "Max. Drawdown [%]" in texts
    metrics = header.fontMetrics()
    for col, text in enumerate(texts):
        widest = max(metrics.horizontalAdvance(line) for line in text.split("\n"))
        assert view.table.columnWidth(col) >= widest, text
    names = [view.params.item(r, 1).text() for r in range(view.params.rowCount())]
    assert not any("." in name.split("(")[0] or "_" in name for name in names)  # no code-speak
