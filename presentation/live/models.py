"""Qt table models of the Live tab: sessions (with their positions), fills and open orders."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from PyQt6 import QtCore, QtGui

from presentation.chart.markers import fill_marker
from presentation.chart.widget import Marker

_Role = QtCore.Qt.ItemDataRole
LIVE_RED = "#d32f2f"
_RIGHT = int(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)


def _num(v: Any, digits: int = 2) -> str:
    if isinstance(v, float) and not math.isfinite(v):
        return "—"  # no price yet (before the first tick), not "nan"
    return f"{v:,.{digits}f}" if isinstance(v, float | int) else str(v)


class RowsModel(QtCore.QAbstractTableModel):
    """A read-only table of dict rows; `columns` is (title, key, formatter). Live updates replace all rows
    with one reset when the row set changes, or one dataChanged when only values changed."""

    columns: Sequence[tuple[str, str, Callable[[Any], str]]] = ()
    key = "id"

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[dict[str, Any]] = []

    def rowCount(self, parent: QtCore.QModelIndex = QtCore.QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QtCore.QModelIndex = QtCore.QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: QtCore.QModelIndex, role: int = _Role.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        title, key, fmt = self.columns[index.column()]
        value = self.rows[index.row()].get(key)
        if role == _Role.DisplayRole:
            if value is None or (isinstance(value, float) and not math.isfinite(value)):
                return "" if value is None else "—"
            return fmt(value)
        if role == _Role.TextAlignmentRole and isinstance(value, int | float):
            return _RIGHT
        if role == _Role.UserRole:
            return self.rows[index.row()].get(self.key)
        if role == _Role.ToolTipRole:
            return self.tooltip(self.rows[index.row()])
        return None

    def tooltip(self, row: dict[str, Any]) -> str | None:
        """A row's tooltip (None: no tooltip)."""
        return None

    def headerData(self, section: int, orientation: QtCore.Qt.Orientation, role: int = _Role.DisplayRole) -> Any:
        if role == _Role.DisplayRole and orientation == QtCore.Qt.Orientation.Horizontal \
                and 0 <= section < len(self.columns):
            return self.columns[section][0]
        return None

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        same = [r.get(self.key) for r in rows] == [r.get(self.key) for r in self.rows]
        if same and rows:
            self.rows = rows
            self.dataChanged.emit(self.index(0, 0), self.index(len(rows) - 1, len(self.columns) - 1))
        elif not same:
            self.beginResetModel()
            self.rows = rows
            self.endResetModel()

    def row_key(self, row: int) -> Any:
        return self.rows[row].get(self.key) if 0 <= row < len(self.rows) else None


def _pct(v: Any) -> str:
    return f"{v:+.2f} %"


def _signed(v: Any) -> str:
    return f"{v:+,.2f}"


def _qty(v: Any) -> str:
    return f"{v:.8g}"


def _side(v: Any) -> str:
    return "buy" if v > 0 else "sell" if v < 0 else ""


def _time(v: Any) -> str:
    """Fills and orders: month, day and time to the second (UTC), short enough for a narrow column."""
    return datetime.fromtimestamp(int(v) / 1000, tz=UTC).strftime("%b %d %H:%M:%S") if v else ""


def _price(v: Any) -> str:
    """Prices as the exchange quotes them: 28,060,000 for KRW-BTC, 0.00035123 for a small coin."""
    return f"{v:,.10g}" if isinstance(v, float | int) else str(v)


class SessionsModel(RowsModel):
    """One row per paper session, with its position and PnL. A session's name already says its strategy,
    market and timeframe (the tooltip spells them out), so the width goes to the figures."""

    key = "session_id"
    columns = (
        ("Session", "session_id", str), ("Status", "status", str), ("Position", "position", _qty),
        ("Entry", "entry_price", lambda v: _price(v) if v else ""), ("Last", "last_price", _price),
        ("Equity", "equity", _num), ("Return", "return_pct", _pct), ("Realized", "realized_pnl", _signed),
        ("Unrealized", "unrealized_pnl", _signed), ("Trades", "trades", str),
    )

    def data(self, index: QtCore.QModelIndex, role: int = _Role.DisplayRole) -> Any:
        if role in (_Role.BackgroundRole, _Role.ForegroundRole) and index.isValid() \
                and 0 <= index.row() < len(self.rows) and self.rows[index.row()].get("mode") == "live":
            # a live (real-order) session is unmistakable: its row is red
            return QtGui.QColor(LIVE_RED) if role == _Role.BackgroundRole else QtGui.QColor("white")
        return super().data(index, role)

    def tooltip(self, row: dict[str, Any]) -> str | None:
        if row.get("mode") == "live":
            return (f"LIVE — real orders: {row.get('strategy')} on {row.get('exchange')}:{row.get('market')} "
                    f"{row.get('timeframe')}; stops held by {row.get('stop_held_by')}")
        return (f"{row.get('strategy')} on {row.get('exchange')}:{row.get('market')} {row.get('timeframe')}; "
                f"{row.get('fills', 0)} fills, {row.get('wins', 0)} of {row.get('trades', 0)} trades won")


class FillsModel(RowsModel):
    """Fills of the selected session, newest first. The order id (the session's name and a number) is in the
    tooltip: as a column it pushed the figures into a sideways scroll next to the Monitor."""

    key = "order_id"
    columns = (
        ("Time", "ts", _time), ("Side", "side", _side), ("Quantity", "quantity", _qty), ("Price", "price", _price),
        ("Fee", "commission", lambda v: _num(v, 4)), ("Reason", "reason", str),
        ("PnL", "realized_pnl", lambda v: _signed(v) if v else ""),
    )

    def tooltip(self, row: dict[str, Any]) -> str | None:
        return f"order {row.get('order_id')}"


class OrdersModel(RowsModel):
    """Orders of the selected session still waiting for a price (market orders fill at the next trade)."""

    key = "id"
    columns = (
        ("Order", "id", str), ("Side", "side", _side), ("Action", "action", str), ("Reason", "reason", str),
        ("State", "state", str), ("Placed", "created_ts", _time),
    )


def chart_marker(m: Any) -> Marker:
    """A session fill marker as the chart's entry/exit mark (a liquidation gets its own mark)."""
    return fill_marker(m.ts, m.price, m.side, m.action, m.reason)
