"""Walk-forward results: the stitched out-of-sample equity curve and one table row per window."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtWidgets

from app.backtests.display import stat_text
from app.timeparse import format_ms

HEAD = ("Window", "In-sample", "Out-of-sample", "Best parameters", "IS objective", "OOS objective", "OOS return [%]",
        "OOS trades", "Efficiency")


def _num(x: Any) -> str:
    if not isinstance(x, int | float) or not math.isfinite(x):
        return "--"
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:.4g}"


def _day(ms: int) -> str:
    return format_ms(int(ms))[:16].replace("T", " ")


class WalkForwardPanel(QtWidgets.QWidget):
    """Shows a WalkForwardReport (from a SweepOutcome) with the bar times of its data."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.curve_plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem()})
        self.curve_plot.setLabel("left", "stitched OOS equity")
        self.curve = self.curve_plot.plot([], [], pen=pg.mkPen(width=1.5))
        self.summary = QtWidgets.QLabel("Run a sweep with walk-forward windows to see out-of-sample results.")
        self.summary.setWordWrap(True)
        self.table = QtWidgets.QTableWidget(0, len(HEAD))
        self.table.setHorizontalHeaderLabels(HEAD)
        rows = self.table.verticalHeader()
        assert rows is not None
        rows.setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        split = QtWidgets.QSplitter()
        split.setOrientation(pg.QtCore.Qt.Orientation.Vertical)
        split.addWidget(self.curve_plot)
        split.addWidget(self.table)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(split)

    def clear(self) -> None:
        self.curve.setData([], [])
        self.table.setRowCount(0)

    def show_report(self, report: Any, bar_ts: np.ndarray, labels: list[str]) -> None:
        self.clear()
        if report is None:
            self.summary.setText("Walk-forward was cancelled before every window was optimised.")
            return
        stitched = report.stitched
        if stitched is not None:
            self.curve.setData(stitched.ts / 1000.0, stitched.equity)
            st = stitched.stats
            sharpe = stat_text("Sharpe Ratio", st.get("Sharpe Ratio"))
            self.summary.setText(
                f"Stitched out-of-sample: return {_num(st.get('Return [%]'))} %, Sharpe {sharpe}"
                f", max drawdown {_num(st.get('Max. Drawdown [%]'))} %, {_num(st.get('# Trades'))} trades. "
                f"Objective IS → OOS: {_num(report.degradation.get('is_objective_mean'))} → "
                f"{_num(report.degradation.get('oos_objective_mean'))}; walk-forward efficiency "
                f"{_num(report.degradation.get('efficiency_mean'))}.")
        self.table.setRowCount(len(report.windows))
        for row, w in enumerate(report.windows):
            win = w.window
            params = "none met the constraints" if w.params is None else \
                ", ".join(f"{lab}={v:g}" for lab, v in zip(labels, w.params, strict=True))
            oos = w.oos.stats if w.oos is not None else {}
            cells = (str(win.index), f"{_day(bar_ts[win.is_start])} → {_day(bar_ts[win.is_end - 1])}",
                     f"{_day(bar_ts[win.oos_start])} → {_day(bar_ts[win.oos_end - 1])}", params, _num(w.is_score),
                     _num(w.oos_score), _num(oos.get("Return [%]")), _num(oos.get("# Trades")), _num(w.efficiency))
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QtWidgets.QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
