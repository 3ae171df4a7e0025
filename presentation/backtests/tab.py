"""Backtests tab: run in a worker process with progress and cancel; statistics, equity, drawdown, trades, history."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtGui, QtWidgets

from app.backtest_store import StoredRun
from app.backtests import BacktestCancelled, BacktestJob, BacktestProgressed
from app.errors import UserError
from domain.backtest import drawdown
from domain.market import SeriesKey, Timeframe
from presentation.backtests.form import RunForm
from presentation.chart.widget import ChartWidget, Marker
from presentation.models.backtest_results import RunHistoryModel, StatsModel, TradesModel, run_label, run_title
from presentation.widgets.forms import primary

log = logging.getLogger("quantdesk.gui")
POLL_MS = 40
_USER = QtCore.Qt.ItemDataRole.UserRole


class BacktestsTab(QtWidgets.QWidget):
    """Emits `finished(outcome)` with done / cancelled / failed after each run and `shown(run_id)`."""

    progressed = QtCore.pyqtSignal(object)  # BacktestProgressed, from the job's thread
    finished = QtCore.pyqtSignal(str)
    shown = QtCore.pyqtSignal(int)

    def __init__(self, service: Any, strategies: Any, services: Any, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.service, self.services = service, services
        self.job: BacktestJob | None = None
        self.run_shown: StoredRun | None = None
        self.confirm: Callable[[str, str], bool] = self._ask
        self.poll = QtCore.QTimer(self, interval=POLL_MS)
        self.poll.timeout.connect(self._check_job)
        self.form = RunForm(strategies, services)
        self.run_btn = primary(QtWidgets.QPushButton("Run backtest"))
        self.run_btn.clicked.connect(self.start_run)
        self.cancel_btn = QtWidgets.QPushButton("Cancel")
        self.cancel_btn.setEnabled(False)
        self.cancel_btn.clicked.connect(self.cancel_run)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.message = QtWidgets.QLabel("Choose a strategy and stored candles, then Run.")
        self.message.setObjectName("hint")
        self.message.setWordWrap(True)
        self.stats = StatsModel(self)
        self.trades = TradesModel(self)
        self.history = RunHistoryModel(service, self)
        self.chart = ChartWidget()
        self.progressed.connect(self._on_progress)
        self._build()
        self.history.refresh()

    # ---- building -----------------------------------------------------------------------------------------
    def _build(self) -> None:
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.run_btn)
        buttons.addWidget(self.cancel_btn)
        buttons.addStretch(1)
        self.history_view = _table(self.history)
        for col, width in enumerate((44, 150, 110, 170, 72, 64)):
            self.history_view.setColumnWidth(col, width)
        self.history_view.doubleClicked.connect(lambda i: self.show_run(int(i.siblingAtColumn(0).data(_USER))))
        hist_buttons = QtWidgets.QHBoxLayout()
        for text, slot in (("Open", self.open_selected), ("Compare two", self.compare_selected),
                           ("Delete…", self.delete_selected)):
            b = QtWidgets.QPushButton(text)
            b.clicked.connect(lambda _=False, s=slot: s())
            hist_buttons.addWidget(b)
        left = QtWidgets.QVBoxLayout()
        left.addWidget(self.form)
        left.addLayout(buttons)
        left.addWidget(self.progress)
        left.addWidget(self.message)
        left.addWidget(QtWidgets.QLabel("Run history"))
        left.addWidget(self.history_view, 1)
        left.addLayout(hist_buttons)
        left_w = QtWidgets.QWidget()
        left_w.setLayout(left)
        left_w.setMinimumWidth(340)
        left_w.setMaximumWidth(400)
        self.stats_view = _table(self.stats)
        header = self.stats_view.horizontalHeader()
        header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(90)
        self.trades_view = _table(self.trades)
        for col, width in enumerate((44, 56, 132, 132, 96, 96, 96, 90, 76)):
            self.trades_view.setColumnWidth(col, width)
        self.trades_view.clicked.connect(self._on_trade)
        self.trades_view.activated.connect(self._on_trade)
        self.stats_view.setMinimumWidth(300)
        self.results = QtWidgets.QSplitter()
        self.results.addWidget(_titled("Statistics", self.stats_view))
        self.results.addWidget(_titled("Trades — click one to see it on the chart", self.trades_view))
        self.results.setStretchFactor(0, 2)
        self.results.setStretchFactor(1, 3)
        self.title = QtWidgets.QLabel("No run shown")
        self.title.setObjectName("chartTitle")
        self.right = right = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        top = QtWidgets.QWidget()
        tl = QtWidgets.QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.title)
        tl.addWidget(self.chart, 1)
        right.addWidget(top)
        right.addWidget(self.results)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(12, 12, 12, 12)
        lay.addWidget(left_w)
        lay.addWidget(right, 1)

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        if not self.property("sized"):  # first show: chart and results share the height
            self.setProperty("sized", True)
            self.right.setSizes([self.height() * 58 // 100, self.height() * 42 // 100])
            self.results.setSizes([self.width() * 25 // 100, self.width() * 45 // 100])
        self.form.refresh_series()  # candles may have been collected since the tab was last shown
        super().showEvent(event)

    # ---- running ------------------------------------------------------------------------------------------
    def start_run(self) -> BacktestJob | None:
        if self.job is not None and not self.job.done:
            return None
        try:
            cmd = self.form.command()
        except UserError as err:
            self._fail(str(err))
            return None
        self.run_btn.setEnabled(False)
        self.cancel_btn.setEnabled(True)
        self.progress.setValue(0)
        self._say(f"Running {cmd.strategy.name} on {cmd.key} …")
        self.job = self.service.start(cmd, self.progressed.emit)
        self.poll.start()
        return self.job

    def cancel_run(self) -> None:
        if self.job is not None and not self.job.done:
            self.job.cancel()
            self._say("Cancelling …")

    def _on_progress(self, p: BacktestProgressed) -> None:
        self.progress.setValue(int(1000 * p.fraction))
        if p.stage not in ("done", "failed", "cancelled"):
            self._say(f"{p.stage.capitalize()} …")

    def _check_job(self) -> None:
        job = self.job
        if job is None or not job.done:
            return
        self.poll.stop()
        self.run_btn.setEnabled(True)
        self.cancel_btn.setEnabled(False)
        outcome = "failed"
        try:
            done = job.wait(0)
            outcome = "done"
        except BacktestCancelled as err:
            outcome = "cancelled"
            self._say(str(err))
        except UserError as err:
            self._fail(str(err))
        except Exception as err:  # the panel reports it; the window stays up
            log.exception("backtest failed")
            self._fail(f"{type(err).__name__}: {err}")
        if outcome == "done":
            self.progress.setValue(1000)
            self.history.refresh()
            self.show_run(done.run_id)
            self._say(f"Run #{done.run_id} stored.")
        self.finished.emit(outcome)

    # ---- showing results ----------------------------------------------------------------------------------
    def show_run(self, run_id: int) -> bool:
        try:
            run = self.service.get(run_id)
        except UserError as err:
            self._fail(str(err))
            return False
        self.run_shown = run
        s = run.summary
        self.title.setText(f"  {run_title(run)} · {s.exchange}:{s.symbol}:{s.timeframe}")
        self.stats.set_runs([(run_label(run), run.stats)])
        self.trades.set_trades(run.trades)
        self._draw(run)
        self.shown.emit(run_id)
        return True

    def _draw(self, run: StoredRun) -> None:
        s = run.summary
        key = SeriesKey(s.exchange, s.symbol, Timeframe(s.timeframe))
        try:
            series = self.services.load(key).slice_time(s.start_ms, s.end_ms)
        except UserError:
            series = None
        if series is None or not len(series):
            self._say("The candles of this run are no longer stored; statistics and trades only.")
            return
        self.chart.set_series(series, str(key))
        self.chart.set_line("Equity", "Equity", run.equity_ts, run.equity)
        self.chart.set_line("Drawdown %", "Drawdown %", run.equity_ts, -100 * drawdown(np.asarray(run.equity)))
        for name in ("Equity", "Drawdown %"):
            pane_label(self.chart, name)
        self.chart.show_all()
        self.chart.set_markers(trade_markers(run))

    def _on_trade(self, index: Any) -> None:
        span = self.trades.data(self.trades.index(index.row(), 0), _USER)
        if span:
            self.chart.show_time_range(*span)

    def selected_runs(self) -> list[int]:
        rows = sorted({i.row() for i in self.history_view.selectionModel().selectedRows()})
        return [r.id for r in (self.history.run(i) for i in rows) if r is not None]

    def open_selected(self) -> None:
        ids = self.selected_runs()
        if ids:
            self.show_run(ids[0])

    def compare_selected(self) -> bool:
        ids = self.selected_runs()
        if len(ids) != 2:
            self._say("Select two runs in the history to compare them side by side.")
            return False
        runs = [self.service.get(i) for i in ids]
        self.stats.set_runs([(run_label(r), r.stats) for r in runs])
        self.title.setText(f"  Comparing {run_title(runs[0])} with {run_title(runs[1])}")
        return True

    def delete_selected(self) -> int:
        ids = self.selected_runs()
        if not ids or not self.confirm("Delete runs", f"Delete {len(ids)} stored run(s)? This cannot be undone."):
            return 0
        n = sum(bool(self.service.delete(i)) for i in ids)
        self.history.refresh()
        self._say(f"Deleted {n} run(s).")
        return n

    def _say(self, text: str) -> None:
        self.message.setStyleSheet("")
        self.message.setText(text)

    def _fail(self, text: str) -> None:
        self.message.setStyleSheet("color: #ef5350;")
        self.message.setText(text)
        log.error("backtest: %s", text)

    def _ask(self, title: str, text: str) -> bool:
        answer = QtWidgets.QMessageBox.question(self, title, text)
        return answer == QtWidgets.QMessageBox.StandardButton.Yes

    def shutdown(self) -> None:
        self.cancel_run()
        self.poll.stop()


def pane_label(chart: ChartWidget, name: str) -> None:
    """The pane's name in its top-left corner (once)."""
    pane = chart.pane(name)
    if pane is None or pane.vb.property("labelled"):
        return
    pane.vb.setProperty("labelled", True)
    label = pg.TextItem(name, color=chart.theme.foreground, anchor=(0, 0))
    label.setParentItem(pane.vb)
    label.setPos(4, 2)


def trade_markers(run: StoredRun) -> list[Marker]:
    t = run.trades
    out = []
    for i in range(len(t)):
        long = t.side[i] > 0
        out.append(Marker(int(t.entry_time[i]), float(t.entry_price[i]), "long_entry" if long else "short_entry",
                          f"#{i + 1} entry"))
        out.append(Marker(int(t.exit_time[i]), float(t.exit_price[i]), "long_exit" if long else "short_exit",
                          f"#{i + 1} exit"))
    return out


def _titled(title: str, widget: QtWidgets.QWidget) -> QtWidgets.QWidget:
    box = QtWidgets.QWidget()
    lay = QtWidgets.QVBoxLayout(box)
    lay.setContentsMargins(0, 4, 0, 0)
    label = QtWidgets.QLabel(title)
    label.setObjectName("hint")
    label.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
    lay.addWidget(label)
    lay.addWidget(widget, 1)
    return box


def _table(model: Any) -> QtWidgets.QTableView:
    view = QtWidgets.QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
    view.setAlternatingRowColors(True)
    view.setShowGrid(False)
    view.setWordWrap(False)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(24)
    view.horizontalHeader().setStretchLastSection(True)
    return view
