"""Backtests tab: run in a worker process with progress and cancel; statistics, equity, drawdown, trades, history."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PyQt6 import QtCore, QtGui, QtWidgets

from app.backtests.ports import StoredRun
from app.backtests.provenance import rerun_command
from app.backtests.service import BacktestCancelled, BacktestJob, BacktestProgressed
from app.errors import UserError
from presentation.backtests.form import RunForm
from presentation.backtests.results import ResultsView, table_view
from presentation.models.backtest_results import RunHistoryModel
from presentation.widgets.forms import primary

if TYPE_CHECKING:
    from app.backtests.service import BacktestService
    from app.strategies.service import StrategyService
    from presentation.services import Services

log = logging.getLogger("quantdesk.gui")
POLL_MS = 40
# Where each stage the run reports starts on the bar (the worker's fractions); within a stage the bar creeps
# towards the next stage's start, so a long simulation moves instead of sitting still.
STAGE_STARTS = (("loading", 0.0), ("starting", 0.05), ("signals", 0.2), ("simulating", 0.5), ("statistics", 0.85),
                ("saving", 0.9))
CREEP = 0.03  # share of the way to the next stage's start covered per poll
_USER = QtCore.Qt.ItemDataRole.UserRole


class BacktestsTab(QtWidgets.QWidget):
    """Emits `finished(outcome)` with done / cancelled / failed after each run and `shown(run_id)`."""

    progressed = QtCore.pyqtSignal(object)  # BacktestProgressed, from the job's thread
    finished = QtCore.pyqtSignal(str)
    shown = QtCore.pyqtSignal(int)

    def __init__(self, service: BacktestService, strategies: StrategyService, services: Services,
                 parent: QtWidgets.QWidget | None = None) -> None:
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
        self.progress.setFormat("%p%")
        self.ceiling = 0.0  # where the current stage ends (the bar never passes it before the next stage)
        self.message = QtWidgets.QLabel("Choose a strategy and stored candles, then Run.")
        self.message.setObjectName("hint")
        self.message.setWordWrap(True)
        self.history = RunHistoryModel(service, self)
        self.view = ResultsView(services)
        self.stats, self.trades, self.chart = self.view.stats, self.view.trades, self.view.chart
        self.stats_view, self.trades_view = self.view.stats_view, self.view.trades_view
        self.progressed.connect(self._on_progress)
        self._build()
        self.history.refresh()

    # ---- building -----------------------------------------------------------------------------------------
    def _build(self) -> None:
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.run_btn)
        buttons.addWidget(self.cancel_btn)
        buttons.addWidget(self.progress, 1)  # beside the buttons: the run history keeps the height
        self.history_view = table_view(self.history)
        for col, width in enumerate((44, 150, 110, 170, 72, 64, 150, 90)):
            self.history_view.setColumnWidth(col, width)
        rows = self.history_view.verticalHeader().defaultSectionSize()
        bar = self.history_view.horizontalScrollBar().sizeHint().height()  # the columns are wider than the view
        self.history_view.setMinimumHeight(self.history_view.horizontalHeader().sizeHint().height() + 2 * rows
                                           + bar + 4)  # two rows at least; at 1440 x 900 the form is whole above
        self.history_view.doubleClicked.connect(lambda i: self.show_run(int(i.siblingAtColumn(0).data(_USER))))
        hist_buttons = QtWidgets.QGridLayout()  # two rows: every label whole in the narrow history column
        for i, (text, slot) in enumerate((("Open", self.open_selected), ("Compare two", self.compare_selected),
                                          ("Load these settings", self.load_settings),
                                          ("Delete…", self.delete_selected))):
            b = QtWidgets.QPushButton(text)
            b.clicked.connect(lambda _=False, s=slot: s())
            hist_buttons.addWidget(b, i // 2, i % 2)
            if slot == self.load_settings:
                self.load_btn = b
                b.setToolTip("Put the selected (or shown) run's exact settings into the form: its strategy as it "
                             "ran, market, timeframe, range, cash, fees, slippage and fills")
        left = _ColumnLayout()
        left.setSpacing(4)  # with the form's rows, the window's minimum height stays within a 900 px screen
        left.addWidget(self.form)
        left.addLayout(buttons)
        left.addWidget(self.message)
        left.addWidget(QtWidgets.QLabel("Run history"))
        left.addWidget(self.history_view, 1)
        left.addLayout(hist_buttons)
        left_w = QtWidgets.QWidget()
        left_w.setLayout(left)
        left_w.setMinimumWidth(340)
        left_w.setMaximumWidth(380)
        # a short screen (or a large font) scrolls the form column rather than pushing the window off the screen
        self.left_scroll = QtWidgets.QScrollArea()
        self.left_scroll.setWidget(left_w)
        self.left_scroll.setWidgetResizable(True)
        self.left_scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.left_scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        bar = self.left_scroll.verticalScrollBar()
        self.left_scroll.setFixedWidth(380 + (bar.sizeHint().width() if bar is not None else 0))
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(12, 12, 12, 12)
        lay.addWidget(self.left_scroll)
        lay.addWidget(self.view, 1)

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        if not self.property("sized"):
            self.setProperty("sized", True)
            self.view.share(self.width(), self.height())
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
        self.ceiling = 0.0
        self._say(f"Running {cmd.strategy.name} on {cmd.key} …")
        self.job = self.service.start(cmd, self.progressed.emit)
        self.poll.start()
        return self.job

    def cancel_run(self) -> None:
        if self.job is not None and not self.job.done:
            self.job.cancel()
            self._say("Cancelling …")

    def _on_progress(self, p: BacktestProgressed) -> None:
        self.progress.setValue(max(self.progress.value(), int(1000 * p.fraction)))
        self.ceiling = next((start for _, start in STAGE_STARTS if start > p.fraction), 1.0)
        if p.stage not in ("done", "failed", "cancelled"):
            self.progress.setFormat(f"{p.stage.capitalize()} … %p%")
            self._say(f"{p.stage.capitalize()} …")
        else:
            self.progress.setFormat("%p%")

    def _creep(self) -> None:
        """Move the bar a little towards the end of the current stage (called by the poll timer)."""
        value, top = self.progress.value(), int(1000 * self.ceiling) - 1
        if value < top:
            self.progress.setValue(value + max(1, int((top - value) * CREEP)))

    def _check_job(self) -> None:
        job = self.job
        if job is None or not job.done:
            self._creep()
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
        self.progress.setFormat("%p%")
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
        if not self.view.show_run(run):
            self._say("The candles of this run are no longer stored; statistics and trades only.")
        self.shown.emit(run_id)
        return True

    def selected_runs(self) -> list[int]:
        rows = sorted({i.row() for i in self.history_view.selectionModel().selectedRows()})
        return [r.id for r in (self.history.run(i) for i in rows) if r is not None]

    def open_selected(self) -> None:
        ids = self.selected_runs()
        if ids:
            self.show_run(ids[0])

    def load_settings(self) -> bool:
        """The selected run's (else the shown run's) exact settings into the form, ready to run again."""
        ids = self.selected_runs()
        run_id = ids[0] if ids else (self.run_shown.id if self.run_shown is not None else None)
        if run_id is None:
            self._say("Select a run in the history to load its settings.")
            return False
        try:
            missing = self.form.load_command(rerun_command(self.service.get(run_id)))
        except UserError as err:
            self._fail(str(err))
            return False
        self._say(f"Settings of run #{run_id} loaded" + (f"; but {', '.join(missing)}." if missing else "."))
        return not missing

    def compare_selected(self) -> bool:
        ids = self.selected_runs()
        if len(ids) != 2:
            self._say("Select two runs in the history to compare them side by side.")
            return False
        self.view.compare([self.service.get(i) for i in ids])
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


class _ColumnLayout(QtWidgets.QVBoxLayout):
    """The form column inside its scroll area: sized by its minimum, not by the preferred height its wrapped
    labels report for a width (with that, the scroll area scrolled a column that fitted)."""

    def hasHeightForWidth(self) -> bool:
        return False
