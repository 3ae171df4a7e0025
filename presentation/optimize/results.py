"""The Optimize view's results: the sortable table, the objective heatmap and the walk-forward report."""

from __future__ import annotations

from PyQt6 import QtCore, QtWidgets

from app.sweeps.plan import SweepPlan
from app.sweeps.service import SweepOutcome
from domain.sweep import Scored, objective_grid
from presentation.optimize.form import pair
from presentation.optimize.heatmap import HeatmapWidget
from presentation.optimize.labels import parameter_label
from presentation.optimize.results_model import SORT_ROLE, SweepResultsModel
from presentation.optimize.walkforward import WalkForwardPanel
from presentation.widgets.forms import column

HEAT_REFRESH_MS = 250


def axis_labels(plan: SweepPlan) -> list[str]:
    """Each swept parameter's short name, in the order of the plan's axes."""
    return [parameter_label(plan.job.definition, a.paths[0]) for a in plan.job.space.axes]


class SweepResults(QtWidgets.QWidget):
    """Shows a sweep's scored points as they stream in. `pointActivated` asks to backtest one (a double-clicked
    row or heatmap cell); `detail` is the line under the results saying what is pointed at."""

    pointActivated = QtCore.pyqtSignal(object)  # Scored

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.plan: SweepPlan | None = None
        self.scored: list[Scored] = []
        self.cells: dict[tuple[int, int], Scored] = {}
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
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(column(self.tabs, self.detail))
        # While a sweep streams in, the heatmap is redrawn at most every HEAT_REFRESH_MS (each redraw reads
        # every point so far: per batch, a big sweep would cost time quadratic in its size).
        self._heat_timer = QtCore.QTimer(self)
        self._heat_timer.setSingleShot(True)
        self._heat_timer.setInterval(HEAT_REFRESH_MS)
        self._heat_timer.timeout.connect(self.refresh_heatmap)
        for box in (self.heat_x, self.heat_y, self.heat_window):
            box.currentIndexChanged.connect(self.refresh_heatmap)
        self.heatmap.cellActivated.connect(self.open_cell)
        self.heatmap.cellHovered.connect(self.describe_cell)
        self.table.doubleClicked.connect(
            lambda ix: self.pointActivated.emit(self.model.point(self.proxy.mapToSource(ix).row())))

    def reset(self, plan: SweepPlan) -> None:
        """Empty, ready for `plan`'s points."""
        self.plan = plan
        labels = axis_labels(plan)
        self.scored, self.cells = [], {}
        self.model.reset(labels, plan.objective.key, windowed=bool(plan.windows))
        self.table.resizeColumnsToContents()
        self.walk.clear()
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
        self.refresh_heatmap()

    def add(self, new: list[Scored]) -> None:
        """Points just scored: into the table now, into the heatmap at its next redraw."""
        self.scored.extend(new)
        self.model.append(new)
        if new and not self._heat_timer.isActive():
            self._heat_timer.start()

    def finish(self, outcome: SweepOutcome) -> None:
        """Every point is in: redraw, sort best first, and show the walk-forward report if there is one."""
        self._heat_timer.stop()
        self.refresh_heatmap()
        self.table.resizeColumnsToContents()  # headers (on two lines) and figures unclipped
        self.table.sortByColumn(self.model.objective_column, QtCore.Qt.SortOrder.DescendingOrder
                                if outcome.plan.objective.maximize else QtCore.Qt.SortOrder.AscendingOrder)
        if outcome.plan.windows:
            self.walk.show_report(outcome.walk_forward, outcome.bar_ts, axis_labels(outcome.plan))
            self.tabs.setCurrentWidget(self.walk)

    def refresh_heatmap(self) -> None:
        plan = self.plan
        if plan is None or self.heat_x.currentIndex() < 0:
            return
        axes = plan.job.space.axes
        x = self.heat_x.currentIndex()
        y = self.heat_y.currentIndex() if len(axes) > 1 and self.heat_y.currentIndex() != x else None
        window = self.heat_window.currentData()
        shown = [p for p in self.scored if window is None or p.result.window == window]
        grid, self.cells = objective_grid(shown, plan.job.space.shape, x, y, plan.objective)
        labels = axis_labels(plan)
        self.heatmap.set_grid(grid, axes[x].values, axes[y].values if y is not None else [0.0], labels[x],
                              labels[y] if y is not None else "", plan.objective.key)
        best: tuple[int, int] | None = None
        for cell, point in self.cells.items():  # only points that met the constraints (the minimum trades too)
            if best is None or plan.objective.better(point.score, self.cells[best].score):
                best = cell
        self.heatmap.mark_best(best)

    def describe_cell(self, ix: int, iy: int) -> None:
        """Say what a heatmap cell holds (shown while the pointer is over it)."""
        point, plan = self.cells.get((ix, iy)), self.plan
        if point is None or plan is None:
            self.detail.setText("No point in this cell met the constraints.")
            return
        stats = point.result.stats
        params = ", ".join(f"{lab}={v:g}" for lab, v in zip(axis_labels(plan), point.result.params, strict=True))
        self.detail.setText(f"{params}: {plan.objective.key} {point.score:.4g}, {stats.get('# Trades')} trades, "
                            f"return {stats.get('Return [%]', float('nan')):.2f} % (double-click to backtest)")

    def open_cell(self, ix: int, iy: int) -> None:
        point = self.cells.get((ix, iy))
        if point is None:
            self.detail.setText("Nothing to open there: no point in that cell met the constraints.")
            return
        self.pointActivated.emit(point)
