"""The sweep form: which of the strategy's own numeric fields to sweep and how, objective, executor, walk-forward."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from PyQt6 import QtCore, QtWidgets

from app.errors import UserError
from app.sweeps.plan import ParamRange, RunSweep
from domain.market import SeriesKey
from domain.sweep import DEFAULT_MIN_TRADES, DEFAULT_OBJECTIVE, NUMERIC_KEYS, Slot, linked_slots
from presentation.backtests.costs import CostsFields
from presentation.backtests.futures import FuturesFields
from presentation.optimize.labels import parameter_label
from presentation.widgets.forms import hbox

EXECUTORS = (("Local process pool", "local"), ("Dask LocalCluster", "dask-local"), ("Dask scheduler", "dask"))
_CHECK = QtCore.Qt.ItemDataRole.CheckStateRole


def default_range(slot: Slot) -> tuple[float, float, float]:
    """A starting range around the current value, inside the slot's bounds."""
    v = slot.value
    if slot.kind == "int":
        v = v or 10
        lo = max(slot.low or 1, round(v / 2))
        hi = min(slot.high or v * 2, max(lo + 1, round(v * 2)))
        return lo, hi, max(1, round((hi - lo) / 8))
    if v is None:
        return 1.0, 5.0, 1.0
    lo, hi = v * 0.5, v * 1.5
    if slot.high is not None:
        hi = min(hi, slot.high)
    return round(lo, 6), round(hi, 6), round((hi - lo) / 4, 6) or 1.0


@dataclass(frozen=True, slots=True)
class SweepRequest:
    """What the form asks for: the command and where to run it."""

    cmd: RunSweep
    cluster: str | None
    workers: int | None


class ParamTable(QtWidgets.QTableWidget):
    """One row per parameter of the strategy (the same operand's parameter used on several sides is one row)."""

    HEAD = ("Sweep", "Parameter", "Now", "Start", "Stop", "Step")

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(0, len(self.HEAD), parent)
        self.setHorizontalHeaderLabels(self.HEAD)
        rows, columns = self.verticalHeader(), self.horizontalHeader()
        assert rows is not None and columns is not None
        rows.setVisible(False)
        columns.setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.groups: list[list[Slot]] = []

    def load(self, definition: Mapping[str, Any]) -> None:
        self.groups = linked_slots(definition)
        self.setRowCount(len(self.groups))
        for row, group in enumerate(self.groups):
            slot = group[0]
            check = QtWidgets.QTableWidgetItem()
            check.setFlags(QtCore.Qt.ItemFlag.ItemIsUserCheckable | QtCore.Qt.ItemFlag.ItemIsEnabled)
            check.setCheckState(QtCore.Qt.CheckState.Unchecked)
            self.setItem(row, 0, check)
            name = parameter_label(definition, slot.path) + (f"  (×{len(group)})" if len(group) > 1 else "")
            label = QtWidgets.QTableWidgetItem(name)
            label.setToolTip("\n".join(f"{parameter_label(definition, s.path)}  ({s.path})" for s in group))
            now = QtWidgets.QTableWidgetItem("--" if slot.value is None else f"{slot.value:g}")
            for item in (label, now):
                item.setFlags(QtCore.Qt.ItemFlag.ItemIsEnabled)
            self.setItem(row, 1, label)
            self.setItem(row, 2, now)
            for col, value in zip((3, 4, 5), default_range(slot), strict=True):
                self.setItem(row, col, QtWidgets.QTableWidgetItem(f"{value:g}"))
        self.resizeColumnsToContents()

    def cell(self, row: int, col: int) -> QtWidgets.QTableWidgetItem:
        item = self.item(row, col)
        assert item is not None, "every cell is filled by load()"
        return item

    def set_checked(self, row: int, on: bool = True) -> None:
        state = QtCore.Qt.CheckState.Checked if on else QtCore.Qt.CheckState.Unchecked
        self.cell(row, 0).setCheckState(state)

    def set_range(self, row: int, start: float, stop: float, step: float) -> None:
        for col, value in zip((3, 4, 5), (start, stop, step), strict=True):
            self.cell(row, col).setText(f"{value:g}")

    def ranges(self) -> tuple[ParamRange, ...]:
        out = self.checked()
        if not out:
            raise UserError("tick at least one parameter to sweep")
        return out

    def checked(self) -> tuple[ParamRange, ...]:
        """The ticked parameters' ranges as typed (possibly none)."""
        out = []
        for row, group in enumerate(self.groups):
            if self.cell(row, 0).checkState() != QtCore.Qt.CheckState.Checked:
                continue
            start, stop, step = (self.cell(row, c).text().strip() for c in (3, 4, 5))
            out.append(ParamRange(tuple(s.path for s in group), f"{start}:{stop}:{step}"))
        return tuple(out)


class SweepForm(QtWidgets.QWidget):
    """Objective, constraints, sampling, executor, walk-forward and account settings."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.objective = QtWidgets.QComboBox()
        self.objective.addItems(NUMERIC_KEYS)
        self.objective.setCurrentText(DEFAULT_OBJECTIVE)
        self.objective.setToolTip("What ranks the points. Sharpe (bars) and Sortino (bars) use per-bar returns "
                                  "annualised by the bar spacing; backtesting.py's Sharpe Ratio underflows on "
                                  "most losing minute-bar runs")
        self.min_trades = _spin(1, 1_000_000, DEFAULT_MIN_TRADES)
        self.min_trades.setToolTip("A point with fewer trades never ranks as best (nor shows on the heatmap)")
        self.fast_below_slow = QtWidgets.QCheckBox("fast < slow")
        self.fast_below_slow.setToolTip("Skip points where a fast period is not below its slow one")
        self.fast_below_slow.setVisible(False)
        self.direction = QtWidgets.QComboBox()
        self.direction.addItems(["maximize", "minimize"])
        self.constraints = QtWidgets.QLineEdit()
        self.constraints.setPlaceholderText("e.g. # Trades>=30; Max. Drawdown [%]>=-25")
        self.method = QtWidgets.QComboBox()
        self.method.addItems(["grid", "random"])
        self.samples = _spin(1, 100_000, 100)
        self.seed = _spin(0, 2**31 - 1, 0)
        self.executor = QtWidgets.QComboBox()
        for label, key in EXECUTORS:
            self.executor.addItem(label, key)
        self.address = QtWidgets.QLineEdit()
        self.address.setPlaceholderText("tcp://host:8786")
        self.workers = _spin(1, 256, os.cpu_count() or 1)
        self.walk_forward = _spin(0, 50, 0)
        self.walk_forward.setSpecialValueText("off")
        self.oos = QtWidgets.QDoubleSpinBox()
        self.oos.setRange(0.05, 0.9)
        self.oos.setSingleStep(0.05)
        self.oos.setValue(0.25)
        self.anchored = QtWidgets.QCheckBox("anchored")
        self.costs = CostsFields()
        self.cash, self.commission, self.slippage = self.costs.cash, self.costs.fee, self.costs.slippage
        self.futures = FuturesFields()  # the view gives it the funding and bracket access
        self._layout()

    def _layout(self) -> None:
        form = QtWidgets.QFormLayout(self)
        form.addRow("Objective", hbox(self.objective, self.direction))
        form.addRow("Constraints", self.constraints)
        form.addRow("Min. trades", hbox(self.min_trades, self.fast_below_slow))
        form.addRow("Sampling", hbox(self.method, QtWidgets.QLabel("samples"), self.samples,
                                     QtWidgets.QLabel("seed"), self.seed))
        form.addRow("Run on", hbox(self.executor, self.address, QtWidgets.QLabel("workers"), self.workers))
        form.addRow("Walk-forward", hbox(self.walk_forward, QtWidgets.QLabel("OOS fraction"), self.oos,
                                         self.anchored))
        form.addRow("Account", hbox(self.costs.cash_label, self.cash, self.costs.fee_label, self.commission,
                                    self.costs.slippage_label, self.slippage))
        form.addRow(self.futures.leverage_label, self.futures.leverage_row())
        form.addRow(self.futures.funding_label, self.futures.funding_row())

    def request(self, definition: dict[str, Any], params: tuple[ParamRange, ...], key: SeriesKey,
                strategy_id: int | None) -> SweepRequest:
        constraints = tuple(c.strip() for c in self.constraints.text().split(";") if c.strip())
        random = self.method.currentText() == "random"
        cmd = RunSweep(
            definition, params, key, objective=self.objective.currentText(),
            maximize=self.direction.currentText() == "maximize", constraints=constraints,
            method=self.method.currentText(), samples=self.samples.value() if random else None,
            seed=self.seed.value(), walk_forward=self.walk_forward.value(), oos_fraction=self.oos.value(),
            anchored=self.anchored.isChecked(), min_trades=self.min_trades.value(),
            fast_below_slow=not self.fast_below_slow.isHidden() and self.fast_below_slow.isChecked(),
            settings=self.futures.settings(self.costs.settings()),
            strategy_id=strategy_id)
        kind = self.executor.currentData()
        if kind == "dask" and not self.address.text().strip():
            raise UserError("give the Dask scheduler address, e.g. tcp://host:8786")
        cluster = {"local": None, "dask-local": "local"}.get(kind, self.address.text().strip())
        return SweepRequest(cmd, cluster, self.workers.value() if kind == "local" else None)


def _spin(lo: int, hi: int, value: int) -> QtWidgets.QSpinBox:
    box = QtWidgets.QSpinBox()
    box.setRange(lo, hi)
    box.setValue(value)
    return box


def pair(a: str | None, wa: QtWidgets.QWidget, b: str | None, wb: QtWidgets.QWidget) -> QtWidgets.QWidget:
    box = QtWidgets.QWidget()
    lay = QtWidgets.QHBoxLayout(box)
    lay.setContentsMargins(0, 0, 0, 0)
    for label, widget in ((a, wa), (b, wb)):
        if label:
            lay.addWidget(QtWidgets.QLabel(label))
        lay.addWidget(widget, 1)
    return box
