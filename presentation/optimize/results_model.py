"""Sweep results as a Qt table model: one row per point, parameter columns then the objective and key stats."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from PyQt6 import QtCore

from domain.backtest.stats import meaningless_ratio
from domain.sweep import Scored, as_float
from presentation.optimize.labels import header

SORT_ROLE = QtCore.Qt.ItemDataRole.UserRole
STAT_COLUMNS = ("# Trades", "Return [%]", "Sharpe Ratio", "Max. Drawdown [%]", "Win Rate [%]")
_DISPLAY = QtCore.Qt.ItemDataRole.DisplayRole


class SweepResultsModel(QtCore.QAbstractTableModel):
    """Rows arrive in batches as the sweep streams; sort through a proxy on SORT_ROLE (numbers, NaN last)."""

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._labels: list[str] = []
        self._objective = "Objective"
        self._rows: list[Scored] = []
        self._windowed = False

    def reset(self, labels: Sequence[str], objective: str, windowed: bool = False) -> None:
        """New columns: a Window column first for walk-forward runs, then one per parameter."""
        self.beginResetModel()
        self._labels = list(labels)
        self._objective = objective
        self._windowed = windowed
        self._rows = []
        self.endResetModel()

    @property
    def objective_column(self) -> int:
        return len(self._labels) + self._windowed

    def append(self, points: Sequence[Scored]) -> None:
        if not points:
            return
        first = len(self._rows)
        self.beginInsertRows(QtCore.QModelIndex(), first, first + len(points) - 1)
        self._rows.extend(points)
        self.endInsertRows()

    def point(self, row: int) -> Scored:
        return self._rows[row]

    def headers(self) -> list[str]:
        lead = ["Window"] if self._windowed else []
        return [*lead, *self._labels, self._objective, *[c for c in STAT_COLUMNS if c != self._objective], "Status"]

    def rowCount(self, parent: QtCore.QModelIndex = QtCore.QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QtCore.QModelIndex = QtCore.QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.headers())

    def headerData(self, section: int, orientation: QtCore.Qt.Orientation,  # noqa: N802
                   role: int = _DISPLAY) -> Any:
        if role == _DISPLAY and orientation == QtCore.Qt.Orientation.Horizontal:
            heads = self.headers()
            return header(heads[section]) if 0 <= section < len(heads) else None
        if role == _DISPLAY and orientation == QtCore.Qt.Orientation.Vertical:
            return str(section + 1)
        return None

    def data(self, index: QtCore.QModelIndex, role: int = _DISPLAY) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        value = self._value(self._rows[index.row()], index.column())
        if meaningless_ratio(self._header(index.column()), value):
            value = None  # a ratio over a ~zero volatility: no number to show or sort by
        if role == _DISPLAY:
            return _text(value)
        if role == SORT_ROLE:
            if isinstance(value, str):
                return value
            number = as_float(value)
            return -math.inf if math.isnan(number) else number
        if role == QtCore.Qt.ItemDataRole.TextAlignmentRole:
            right = QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter
            return int(right.value) if not isinstance(value, str) else None
        if role == QtCore.Qt.ItemDataRole.ToolTipRole and self._rows[index.row()].result.message:
            return self._rows[index.row()].result.message
        return None

    def _header(self, column: int) -> str:
        heads = self.headers()
        return heads[column] if 0 <= column < len(heads) else ""

    def _value(self, s: Scored, column: int) -> Any:
        if self._windowed:
            if column == 0:
                return s.result.window
            column -= 1
        n = len(self._labels)
        if column < n:
            return s.result.params[column]
        if column == n:
            return s.score
        column += self._windowed
        heads = self.headers()
        if column == len(heads) - 1:
            return s.result.status if s.result.status != "ok" else ("ok" if s.passed else "filtered")
        return s.result.stats.get(heads[column])


def _text(value: Any) -> str:
    if value is None:
        return "--"
    if isinstance(value, str):
        return value
    number = as_float(value)
    if math.isnan(number):
        return "--"
    if float(number).is_integer() and abs(number) < 1e9:
        return f"{int(number):,}"
    return f"{number:,.2f}" if abs(number) >= 1e4 else f"{number:.4g}"
