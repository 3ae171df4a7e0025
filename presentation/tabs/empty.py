"""An honest empty state for a workspace tab whose tools arrive in the next release."""

from __future__ import annotations

from PyQt6 import QtCore, QtWidgets


class EmptyState(QtWidgets.QWidget):
    """Title, what the tab will do, and what to do meanwhile. Replaced by the real tab when it lands."""

    def __init__(self, title: str, text: str, hint: str = "", parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"empty{title}")
        lay = QtWidgets.QVBoxLayout(self)
        lay.addStretch(2)
        for name, value in (("emptyTitle", title), ("emptyText", text), ("hint", hint)):
            if not value:
                continue
            label = QtWidgets.QLabel(value)
            label.setObjectName(name)
            label.setWordWrap(True)
            label.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
            label.setFixedWidth(620)
            label.setMinimumHeight(label.heightForWidth(620))  # aligned items get no height-for-width
            lay.addWidget(label, 0, QtCore.Qt.AlignmentFlag.AlignHCenter)
            lay.addSpacing(8)
        lay.addStretch(3)


COMING = {
    "Strategies": ("Your strategies will be listed here — name, direction, tags and their last backtest — "
                   "with search, tags, duplicate, export and a one-click backtest.",
                   "Coming next. Meanwhile, collect candles in the Data tab and study them on the Chart tab."),
    "Builder": ("Build strategies visually: pick indicators, compare them with operators such as "
                "“crosses above”, set position size, stop-loss and take-profit, and preview the entries "
                "on the chart as you edit.", "Coming next."),
    "Backtests": ("Run a strategy over stored candles with your cash, commission and slippage; see the "
                  "statistics, the equity and drawdown curves and every trade on the chart.", "Coming next."),
}
