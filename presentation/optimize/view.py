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
from app.sweeps.plan import SweepPlan, fast_slow_pairs, make_plan
from app.sweeps.service import SweepOutcome, SweepProgressed, point_definition_for
from domain.sweep import Scored
from presentation.backtests.futures import FuturesAccess
from presentation.optimize.choices import StrategyChoice
from presentation.optimize.form import SweepRequest
from presentation.optimize.labels import parameter_label
from presentation.optimize.layout import setup_ui
from presentation.optimize.results import axis_labels
from presentation.optimize.runner import BackgroundCall


class OptimizeView(QtWidgets.QWidget):
    """`sweeps` is the SweepService, `backtests` the BacktestService (optional: double-click backtests a cell)."""

    sweepFinished = QtCore.pyqtSignal(object)  # SweepOutcome
    sweepFailed = QtCore.pyqtSignal(str)
    backtestOpened = QtCore.pyqtSignal(object)  # BacktestFinished
    quitRequested = QtCore.pyqtSignal()  # Ctrl+Q: the app should quit (the main window asks about work in flight)

    def __init__(self, sweeps: Any, strategies: Callable[[], Sequence[StrategyChoice]],
                 series: Callable[[], Sequence[StoredSeries]], backtests: Any = None,
                 parent: QtWidgets.QWidget | None = None, revision: Callable[[], int] | None = None,
                 current: Callable[[], int | None] | None = None, futures: FuturesAccess | None = None) -> None:
        super().__init__(parent)
        self.sweeps, self.backtests = sweeps, backtests
        self.list_strategies, self.list_series = strategies, series
        # the store's change counter (the list reloads when it moved) and the strategy being worked on
        self.revision, self.current = revision or (lambda: -1), current or (lambda: None)
        self._revision: int | None = None
        self._followed: int | None = None  # the last "being worked on" strategy selected here
        self._loaded: dict[str, Any] | None = None  # the definition whose parameters the table shows
        self.plan: SweepPlan | None = None
        self.outcome: SweepOutcome | None = None
        self.runner = BackgroundCall(self)
        self.ask: Callable[[str, str], bool] = self._ask  # a yes/no question to the user (tests answer it)
        self.backtest_runner = BackgroundCall(self)
        setup_ui(self)
        self.form.futures.access = futures  # leverage and funding for Binance futures data
        self._connect()
        self.refresh()
        app = QtWidgets.QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # ---- building -------------------------------------------------------------------------------------
    def _connect(self) -> None:
        self.strategy.currentIndexChanged.connect(self._strategy_changed)
        self.data.currentIndexChanged.connect(self._data_changed)
        self.params.itemChanged.connect(lambda _: self._offer_order())
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.runner.progressed.connect(self._progressed)
        self.runner.finished.connect(self._finished)
        self.runner.failed.connect(self._failed)
        self.backtest_runner.finished.connect(self._backtest_done)
        self.backtest_runner.failed.connect(lambda m: self.detail.setText(f"Backtest failed: {m}"))
        self.results.pointActivated.connect(self.open_point)

    def refresh(self) -> None:
        """Reload the data list, and the strategy list when the store changed, keeping the current choices where
        they still exist; select the strategy being worked on (opened or saved in the Builder) when it changed."""
        keep_strategy, keep_data = self.strategy.currentText(), self.data.currentData()
        revision = self.revision()
        reload = revision != self._revision or revision < 0 or not self.strategy.count()
        if reload:
            self._revision = revision
            self.strategy.blockSignals(True)
            self.strategy.clear()
            for choice in self.list_strategies():
                self.strategy.addItem(choice.name, choice)
            self.strategy.setCurrentIndex(max(0, self.strategy.findText(keep_strategy)))
            self.strategy.blockSignals(False)
        current = self.current()
        if current is not None and current != self._followed and self.select_strategy(current, quiet=True):
            self._followed = current
        self.data.clear()
        for s in self.list_series():
            self.data.addItem(f"{s.key}  ({s.rows:,} bars)", s)
            if isinstance(keep_data, StoredSeries) and s.key == keep_data.key:
                self.data.setCurrentIndex(self.data.count() - 1)
        choice = self.strategy.currentData()
        if not self.params.groups or (isinstance(choice, StrategyChoice) and choice.definition != self._loaded):
            self._strategy_changed()  # another strategy, or one saved again with other parameters

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        if not self.runner.running:
            self.refresh()  # strategies saved or candles collected elsewhere since the view was last shown
        super().showEvent(event)

    def select_strategy(self, strategy_id: int, quiet: bool = False) -> bool:
        """Preselect a stored strategy (e.g. from a strategy's context menu); False if it is not listed. `quiet`:
        without loading its parameters (the caller does)."""
        for i in range(self.strategy.count()):
            choice = self.strategy.itemData(i)
            if isinstance(choice, StrategyChoice) and choice.id == strategy_id:
                self.strategy.blockSignals(quiet)
                self.strategy.setCurrentIndex(i)
                self.strategy.blockSignals(False)
                return True
        return False

    def _data_changed(self) -> None:
        stored = self.data.currentData()
        if isinstance(stored, StoredSeries):
            self.form.costs.apply_market(stored.key.exchange, stored.key.symbol)
            self.form.futures.apply_market(stored.key.exchange, stored.key.symbol)
            self.form.futures.set_range(stored.first_ts, stored.last_ts + stored.key.timeframe.ms)

    def _strategy_changed(self) -> None:
        choice = self.strategy.currentData()
        if isinstance(choice, StrategyChoice):
            self._loaded = choice.definition
            self.params.blockSignals(True)
            self.params.load(choice.definition)
            self.params.blockSignals(False)
            self._offer_order()

    def _offer_order(self) -> None:
        """Offer "fast < slow" when two ticked periods of the same indicator kind are swept."""
        choice, box = self.strategy.currentData(), self.form.fast_below_slow
        pairs = fast_slow_pairs(choice.definition, self.params.checked()) if isinstance(choice, StrategyChoice) else []
        box.setHidden(not pairs)
        if isinstance(choice, StrategyChoice) and pairs:
            def words(axis: str) -> str:
                return parameter_label(choice.definition, axis.split(" = ")[0])

            box.setToolTip("Skip points where " + "; ".join(f"{words(a)} is not below {words(b)}" for a, b in pairs))

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

    def confirm_quit(self) -> bool:
        """The app is quitting: True when no sweep runs, or the user agreed to cancel it (then it is cancelled)."""
        if not self.runner.running:
            return True
        if not self.ask("Quit QuantDesk?", "A parameter sweep is still running. Cancel it and quit? "
                                           "The points finished so far are kept."):
            return False
        self.cancel()
        return True

    def _ask(self, title: str, text: str) -> bool:
        buttons = QtWidgets.QMessageBox.StandardButton.Yes | QtWidgets.QMessageBox.StandardButton.No
        answer = QtWidgets.QMessageBox.question(self, title, text, buttons, QtWidgets.QMessageBox.StandardButton.No)
        return answer == QtWidgets.QMessageBox.StandardButton.Yes

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel a running sweep and wait for its workers to stop (the app is quitting)."""
        self.runner.cancel()
        self.runner.join(timeout)

    def _reset(self, plan: SweepPlan) -> None:
        self.outcome = None
        self.progress.setRange(0, plan.total)
        self.progress.setValue(0)
        self.results.reset(plan)

    @property
    def cells(self) -> dict[tuple[int, int], Scored]:
        """The heatmap's cells: which point each shows."""
        return self.results.cells

    def _progressed(self, event: SweepProgressed) -> None:
        self.progress.setValue(event.done)
        self.results.add([Scored(p.result, p.objective, p.passed) for p in event.new])
        if event.best is not None:
            self.status.setText(f"{event.done:,} of {event.total:,} done; best so far {event.best.score:.4g}")

    def _finished(self, outcome: SweepOutcome) -> None:
        self.outcome = outcome
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
                f"{lab}={v:g}" for lab, v in zip(axis_labels(outcome.plan), best.result.params, strict=True))
        rob = outcome.robustness
        near = "" if rob is None or math.isnan(rob.mean) else \
            f"; its {rob.scored} neighbours average {rob.mean:.4g} (min {rob.min:.4g})"
        self.status.setText(f"{outcome.status}: {c.get('ok', 0)} ok, {c.get('invalid', 0)} invalid, "
                            f"{c.get('failed', 0)} failed in {outcome.seconds:.1f} s on {outcome.executor}; "
                            f"{verdict}{near}")
        self.results.finish(outcome)
        self.sweepFinished.emit(outcome)

    def _failed(self, message: str) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.status.setText(f"Not run: {message}")
        self.sweepFailed.emit(message)

    # ---- opening points ---------------------------------------------------------------------------------
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

