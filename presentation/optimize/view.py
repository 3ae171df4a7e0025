"""The Optimize view: pick parameters and ranges, run a sweep with progress and cancel, read the results."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from typing import Any

from PyQt6 import QtCore, QtWidgets

from app.backtests.display import stat_text
from app.errors import UserError
from app.market_data.ports import StoredSeries
from app.sweeps.plan import SweepPlan, make_plan
from app.sweeps.service import SweepOutcome, SweepProgressed, point_definition_for
from domain.sweep import Scored, objective_grid, short_label
from presentation.optimize.choices import StrategyChoice
from presentation.optimize.form import ParamTable, SweepForm, SweepRequest, column, pair
from presentation.optimize.heatmap import HeatmapWidget
from presentation.optimize.results_model import SORT_ROLE, SweepResultsModel
from presentation.optimize.runner import BackgroundCall
from presentation.optimize.walkforward import WalkForwardPanel

HEAT_REFRESH_MS = 250


class OptimizeView(QtWidgets.QWidget):
    """`sweeps` is the SweepService, `backtests` the BacktestService (optional: double-click backtests a cell)."""

    sweepFinished = QtCore.pyqtSignal(object)  # SweepOutcome
    sweepFailed = QtCore.pyqtSignal(str)
    backtestOpened = QtCore.pyqtSignal(object)  # BacktestFinished

    def __init__(self, sweeps: Any, strategies: Callable[[], Sequence[StrategyChoice]],
                 series: Callable[[], Sequence[StoredSeries]], backtests: Any = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.sweeps, self.backtests = sweeps, backtests
        self.list_strategies, self.list_series = strategies, series
        self.plan: SweepPlan | None = None
        self.outcome: SweepOutcome | None = None
        self.scored: list[Scored] = []
        self.cells: dict[tuple[int, int], Scored] = {}
        self.runner = BackgroundCall(self)
        self.backtest_runner = BackgroundCall(self)
        self._build()
        self._connect()
        self.refresh()
        app = QtWidgets.QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # ---- building -------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.strategy = QtWidgets.QComboBox()
        self.data = QtWidgets.QComboBox()
        self.params = ParamTable()
        self.form = SweepForm()
        self.run_button = QtWidgets.QPushButton("Run")
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QtWidgets.QProgressBar()
        self.status = QtWidgets.QLabel("Pick parameters to sweep, then Run.")
        self.status.setWordWrap(True)
        self.model = SweepResultsModel(self)
        self.proxy = QtCore.QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QtWidgets.QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.heat_x, self.heat_y = QtWidgets.QComboBox(), QtWidgets.QComboBox()
        self.heat_window = QtWidgets.QComboBox()  # walk-forward: which window's in-sample sweep to show
        self.heatmap = HeatmapWidget()
        self.detail = QtWidgets.QLabel("Double-click a cell or a row to backtest those parameters.")
        self.walk = WalkForwardPanel()
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.addTab(self.table, "Results")
        self.tabs.addTab(column(pair("x", self.heat_x, "y", self.heat_y), self.heat_window, self.heatmap), "Heatmap")
        self.tabs.addTab(self.walk, "Walk-forward")
        left = column(pair("Strategy", self.strategy, "Data", self.data), self.params, self.form,
                       pair(None, self.run_button, None, self.cancel_button), self.progress, self.status)
        split = QtWidgets.QSplitter()
        split.addWidget(left)
        split.addWidget(column(self.tabs, self.detail))
        split.setStretchFactor(1, 2)
        QtWidgets.QVBoxLayout(self).addWidget(split)

    def _connect(self) -> None:
        self.strategy.currentIndexChanged.connect(self._strategy_changed)
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.runner.progressed.connect(self._progressed)
        self.runner.finished.connect(self._finished)
        self.runner.failed.connect(self._failed)
        self.backtest_runner.finished.connect(self._backtest_done)
        self.backtest_runner.failed.connect(lambda m: self.detail.setText(f"Backtest failed: {m}"))
        # While a sweep streams in, the heatmap is redrawn at most every HEAT_REFRESH_MS (each redraw reads
        # every point so far: per batch, a big sweep would cost time quadratic in its size).
        self._heat_timer = QtCore.QTimer(self)
        self._heat_timer.setSingleShot(True)
        self._heat_timer.setInterval(HEAT_REFRESH_MS)
        self._heat_timer.timeout.connect(self._refresh_heatmap)
        self.heat_x.currentIndexChanged.connect(self._refresh_heatmap)
        self.heat_y.currentIndexChanged.connect(self._refresh_heatmap)
        self.heat_window.currentIndexChanged.connect(self._refresh_heatmap)
        self.heatmap.cellActivated.connect(self.open_cell)
        self.heatmap.cellHovered.connect(self.describe_cell)
        self.table.doubleClicked.connect(lambda ix: self.open_point(self.model.point(self.proxy.mapToSource(ix).row())))

    def refresh(self) -> None:
        """Reload the strategy and data lists, keeping the current choices where they still exist."""
        keep_strategy, keep_data = self.strategy.currentText(), self.data.currentData()
        self.strategy.blockSignals(True)
        self.strategy.clear()
        for choice in self.list_strategies():
            self.strategy.addItem(choice.name, choice)
        self.strategy.setCurrentIndex(max(0, self.strategy.findText(keep_strategy)))
        self.strategy.blockSignals(False)
        self.data.clear()
        for s in self.list_series():
            self.data.addItem(f"{s.key}  ({s.rows:,} bars)", s)
            if isinstance(keep_data, StoredSeries) and s.key == keep_data.key:
                self.data.setCurrentIndex(self.data.count() - 1)
        if self.strategy.currentText() != keep_strategy or not self.params.groups:
            self._strategy_changed()

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        if not self.runner.running:
            self.refresh()  # strategies saved or candles collected elsewhere since the view was last shown
        super().showEvent(event)

    def select_strategy(self, strategy_id: int) -> bool:
        """Preselect a stored strategy (e.g. from a strategy's context menu); False if it is not listed."""
        for i in range(self.strategy.count()):
            choice = self.strategy.itemData(i)
            if isinstance(choice, StrategyChoice) and choice.id == strategy_id:
                self.strategy.setCurrentIndex(i)
                return True
        return False

    def _strategy_changed(self) -> None:
        choice = self.strategy.currentData()
        if isinstance(choice, StrategyChoice):
            self.params.load(choice.definition)

    # ---- running ----------------------------------------------------------------------------------------
    def request(self) -> tuple[SweepRequest, StoredSeries]:
        choice, stored = self.strategy.currentData(), self.data.currentData()
        if not isinstance(choice, StrategyChoice):
            raise UserError("pick a strategy to optimise")
        if not isinstance(stored, StoredSeries):
            raise UserError("pick stored candles to optimise on (collect or import some in the Data tab)")
        return self.form.request(choice.definition, self.params.ranges(), stored.key, choice.id), stored

    def run(self) -> None:
        """Check the form (errors show at once), then run the sweep in the background."""
        try:
            req, stored = self.request()
            self.plan = make_plan(req.cmd, stored.rows)
        except UserError as err:
            self._failed(str(err))
            return
        self._reset(self.plan)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status.setText(f"Starting {self.plan.total:,} backtests…")

        def work(cancel: threading.Event, emit: Callable[[Any], None]) -> SweepOutcome:
            outcome: SweepOutcome = self.sweeps.run(req.cmd, cluster=req.cluster, workers=req.workers,
                                                    on_progress=emit, cancel=cancel, source=str(stored.key))
            return outcome

        self.runner.start(work)

    def cancel(self) -> None:
        self.runner.cancel()
        self.status.setText("Cancelling: finished results are kept…")

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel a running sweep and wait for its workers to stop (the app is quitting)."""
        self.runner.cancel()
        self.runner.join(timeout)

    def _reset(self, plan: SweepPlan) -> None:
        labels = self._labels(plan)
        self.outcome, self.scored, self.cells = None, [], {}
        self.model.reset(labels, plan.objective.key, windowed=bool(plan.windows))
        self.walk.clear()
        self.progress.setRange(0, plan.total)
        self.progress.setValue(0)
        for box in (self.heat_x, self.heat_y):
            box.blockSignals(True)
            box.clear()
            box.addItems(labels)
            box.blockSignals(False)
        self.heat_y.setCurrentIndex(min(1, len(labels) - 1))
        self.heat_window.blockSignals(True)
        self.heat_window.clear()
        for w in plan.windows:
            self.heat_window.addItem(f"window {w.index} in-sample", w.index)
        self.heat_window.setVisible(bool(plan.windows))
        self.heat_window.blockSignals(False)
        self._refresh_heatmap()

    @staticmethod
    def _labels(plan: SweepPlan) -> list[str]:
        return [short_label(plan.job.definition, a.paths[0]) for a in plan.job.space.axes]

    def _progressed(self, event: SweepProgressed) -> None:
        self.progress.setValue(event.done)
        new = [Scored(p.result, p.objective, p.passed) for p in event.new]
        self.scored.extend(new)
        self.model.append(new)
        if new and not self._heat_timer.isActive():
            self._heat_timer.start()
        if event.best is not None:
            self.status.setText(f"{event.done:,} of {event.total:,} done; best so far {event.best.score:.4g}")

    def _finished(self, outcome: SweepOutcome) -> None:
        self.outcome = outcome
        self._heat_timer.stop()
        self._refresh_heatmap()  # every point, at once
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        c = outcome.counts
        best = outcome.best
        if outcome.plan.windows:
            verdict = f"walk-forward over {len(outcome.plan.windows)} windows (see the Walk-forward tab)"
        elif best is None:
            verdict = "no point met the constraints"
        else:
            verdict = f"best {outcome.plan.objective.key} {best.score:.4g} at " + ", ".join(
                f"{lab}={v:g}" for lab, v in zip(self._labels(outcome.plan), best.result.params, strict=True))
        rob = outcome.robustness
        near = "" if rob is None or math.isnan(rob.mean) else \
            f"; its {rob.scored} neighbours average {rob.mean:.4g} (min {rob.min:.4g})"
        self.status.setText(f"{outcome.status}: {c.get('ok', 0)} ok, {c.get('invalid', 0)} invalid, "
                            f"{c.get('failed', 0)} failed in {outcome.seconds:.1f} s on {outcome.executor}; "
                            f"{verdict}{near}")
        self.table.sortByColumn(self.model.objective_column, QtCore.Qt.SortOrder.DescendingOrder
                                if outcome.plan.objective.maximize else QtCore.Qt.SortOrder.AscendingOrder)
        if outcome.plan.windows:
            self.walk.show_report(outcome.walk_forward, outcome.bar_ts, self._labels(outcome.plan))
            self.tabs.setCurrentWidget(self.walk)
        self.sweepFinished.emit(outcome)

    def _failed(self, message: str) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.status.setText(f"Not run: {message}")
        self.sweepFailed.emit(message)

    # ---- heatmap and opening points -----------------------------------------------------------------
    def _refresh_heatmap(self) -> None:
        plan = self.plan
        if plan is None or self.heat_x.currentIndex() < 0:
            return
        axes = plan.job.space.axes
        x = self.heat_x.currentIndex()
        y = self.heat_y.currentIndex() if len(axes) > 1 and self.heat_y.currentIndex() != x else None
        window = self.heat_window.currentData()
        shown = [p for p in self.scored if window is None or p.result.window == window]
        grid, self.cells = objective_grid(shown, plan.job.space.shape, x, y, plan.objective)
        labels = self._labels(plan)
        self.heatmap.set_grid(grid, axes[x].values, axes[y].values if y is not None else [0.0], labels[x],
                              labels[y] if y is not None else "", plan.objective.key)

    def describe_cell(self, ix: int, iy: int) -> None:
        """Say what a heatmap cell holds (shown while the pointer is over it)."""
        point, plan = self.cells.get((ix, iy)), self.plan
        if point is None or plan is None:
            self.detail.setText("No point in this cell met the constraints.")
            return
        stats = point.result.stats
        params = ", ".join(f"{lab}={v:g}" for lab, v in zip(self._labels(plan), point.result.params, strict=True))
        self.detail.setText(f"{params}: {plan.objective.key} {point.score:.4g}, {stats.get('# Trades')} trades, "
                            f"return {stats.get('Return [%]', float('nan')):.2f} % (double-click to backtest)")

    def open_cell(self, ix: int, iy: int) -> None:
        point = self.cells.get((ix, iy))
        if point is None:
            self.detail.setText("Nothing to open there: no point in that cell met the constraints.")
            return
        self.open_point(point)

    def open_point(self, point: Scored) -> None:
        """Backtest the point's parameters on the sweep's data (stored as a run) and announce the result."""
        plan, stored = self.plan, self.data.currentData()
        if plan is None or self.backtests is None or self.backtest_runner.running:
            return
        from app.backtests.service import RunBacktest
        from domain.strategy import parse_strategy

        cmd = plan.cmd
        strategy = parse_strategy(point_definition_for(plan, point.result.params))
        run = RunBacktest(strategy, cmd.key or stored.key, cmd.start_ms, cmd.end_ms, cmd.settings, cmd.strategy_id)
        self.detail.setText("Backtesting " + ", ".join(f"{v:g}" for v in point.result.params) + "…")
        self.backtest_runner.start(lambda cancel, emit: self.backtests.run(run))

    def _backtest_done(self, finished: Any) -> None:
        stats = finished.result.stats
        sharpe = stat_text("Sharpe Ratio", stats["Sharpe Ratio"])
        self.detail.setText(f"Backtest run {finished.run_id}: return {stats['Return [%]']:.2f} %, "
                            f"{stats['# Trades']} trades, Sharpe {sharpe} (stored)")
        self.backtestOpened.emit(finished)

