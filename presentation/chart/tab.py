"""Chart tab: the candlestick chart with a toolbar for view timeframe, indicators and navigation."""

from __future__ import annotations

from typing import Any

import numpy as np
from PyQt6 import QtCore, QtGui, QtWidgets

from domain.market import CandleSeries, SeriesKey, Timeframe
from presentation.chart.indicators import Applied, ParamsDialog, catalog, draw, erase, fill_menu
from presentation.chart.lod import OhlcPyramid
from presentation.chart.panes import ChartTheme
from presentation.chart.widget import ChartWidget, Marker
from presentation.services import EXCHANGE_LABELS


def series_title(key: SeriesKey, shown: Timeframe | None = None) -> str:
    tf = (shown or key.timeframe).code
    return f"{EXCHANGE_LABELS.get(key.exchange, key.exchange)} · {key.symbol} · {tf}"


class ChartTab(QtWidgets.QWidget):
    """Holds the loaded series at its stored timeframe and shows it at the chosen (coarser) timeframe."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.key: SeriesKey | None = None
        self.stored = CandleSeries.empty(Timeframe.M1)
        self.applied: list[Applied] = []
        self.chart = ChartWidget()
        self.toolbar = QtWidgets.QToolBar()
        self.title = QtWidgets.QLabel("No market selected")
        self.title.setObjectName("chartTitle")
        self.view_tf = QtWidgets.QComboBox()
        self.view_tf.setToolTip("Show the stored bars aggregated to a coarser timeframe")
        self.view_tf.currentIndexChanged.connect(self._on_view_tf)
        self.indicators_menu = QtWidgets.QMenu("Indicators", self)
        self._build_toolbar()
        self.empty = QtWidgets.QLabel("No candles yet.\nCollect some in the Data tab (Ctrl+5), "
                                      "or pick a market on the left.")
        self.empty.setObjectName("emptyText")
        self.empty.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.stack = QtWidgets.QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.chart)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.toolbar)
        lay.addWidget(self.stack, 1)

    def _build_toolbar(self) -> None:
        tb = self.toolbar
        tb.addWidget(self.title)
        tb.addSeparator()
        tb.addWidget(QtWidgets.QLabel(" View "))
        tb.addWidget(self.view_tf)
        button = QtWidgets.QToolButton()
        button.setText("Indicators")
        button.setPopupMode(QtWidgets.QToolButton.ToolButtonPopupMode.InstantPopup)
        button.setMenu(self.indicators_menu)
        self.indicators_menu.aboutToShow.connect(self._fill_indicator_menu)
        tb.addWidget(button)
        tb.addSeparator()
        self.act_goto = tb.addAction("Go to date…", self.ask_go_to)
        self.act_goto.setShortcut(QtGui.QKeySequence("Ctrl+G"))
        self.act_latest = tb.addAction("Latest", lambda: self.chart.show_last(300))
        self.act_latest.setShortcut(QtGui.QKeySequence("End"))
        self.act_all = tb.addAction("Whole range", self.chart.show_all)
        self.act_all.setShortcut(QtGui.QKeySequence("Home"))
        for act in (self.act_goto, self.act_latest, self.act_all):
            act.setToolTip(f"{act.text()} ({act.shortcut().toString()})")
            act.setShortcutContext(QtCore.Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.addAction(act)

    # ---- data -------------------------------------------------------------------------------------------
    def show_series(self, key: SeriesKey, series: CandleSeries, keep_view: bool = False,
                    pyramid: OhlcPyramid | None = None) -> None:
        """Show freshly loaded bars of `key`; keeps the indicators the user added (and the view if asked).
        `pyramid`, built off the UI thread from `series`, is used when the series is shown as stored."""
        shown = self.shown_timeframe() if keep_view and key == self.key else series.timeframe
        self.key, self.stored = key, series
        self.view_tf.blockSignals(True)
        self.view_tf.clear()
        for tf in Timeframe:
            if tf.ms >= series.timeframe.ms and tf.ms % series.timeframe.ms == 0:
                self.view_tf.addItem(tf.code, tf.code)
        self.view_tf.setCurrentIndex(max(0, self.view_tf.findData(shown.code)))
        self.view_tf.blockSignals(False)
        view = series if shown is series.timeframe else series.resample(shown)
        self._render(view, keep_view=keep_view, pyramid=pyramid if view is series else None)

    def clear(self) -> None:
        self.key = None
        self.title.setText("No market selected")
        self.stack.setCurrentWidget(self.empty)

    def shown_timeframe(self) -> Timeframe:
        code = self.view_tf.currentData()
        return Timeframe(code) if isinstance(code, str) else self.stored.timeframe

    def _on_view_tf(self) -> None:
        tf = self.shown_timeframe()
        series = self.stored if tf is self.stored.timeframe else self.stored.resample(tf)
        self._render(series, keep_view=False)

    def _render(self, series: CandleSeries, keep_view: bool, pyramid: OhlcPyramid | None = None) -> None:
        if self.key is None or not len(series):
            self.stack.setCurrentWidget(self.empty)
            self.title.setText(series_title(self.key) + " — no bars" if self.key else "No market selected")
            return
        title = series_title(self.key, series.timeframe)
        self.title.setText(f"  {title}  ")
        self.chart.set_series(series, title, keep_view=keep_view, pyramid=pyramid)
        self.stack.setCurrentWidget(self.chart)
        cat = catalog() if self.applied else {}  # the catalog (and numba) loads with the first indicator
        for slot, applied in enumerate(self.applied):
            erase(self.chart, applied)
            if applied.name in cat:
                draw(self.chart, applied, cat[applied.name], slot)
        self.chart.crosshair.refresh()  # the readout shows this view's lines, not the previous timeframe's

    # ---- indicators ----------------------------------------------------------------------------------
    def add_indicator(self, applied: Applied) -> None:
        ind = catalog().get(applied.name)
        if ind is None or applied in self.applied:
            return
        self.applied.append(applied)
        if len(self.chart.pyramid):
            draw(self.chart, applied, ind, len(self.applied) - 1)
            self.chart.crosshair.refresh()

    def remove_indicator(self, applied: Applied) -> None:
        if applied in self.applied:
            self.applied.remove(applied)
            erase(self.chart, applied)
            self.chart.crosshair.refresh()

    def _fill_indicator_menu(self) -> None:
        menu = self.indicators_menu
        menu.clear()
        fill_menu(menu, self._pick)
        if self.applied:
            menu.addSeparator()
            for applied in list(self.applied):
                menu.addAction(f"Remove {applied.label}", lambda a=applied: self.remove_indicator(a))

    def _pick(self, indicator: Any) -> None:
        if not indicator.params:
            self.add_indicator(Applied(indicator.name, ()))
            return
        dialog = ParamsDialog(indicator, self)
        if dialog.exec() == QtWidgets.QDialog.DialogCode.Accepted:
            self.add_indicator(dialog.applied())

    # ---- navigation and results ---------------------------------------------------------------------
    def ask_go_to(self) -> None:
        if not len(self.chart.pyramid):
            return
        start, end = (int(self.chart.pyramid.ts[i]) for i in (0, -1))
        dialog = QtWidgets.QDialog(self)
        dialog.setWindowTitle("Go to date")
        edit = QtWidgets.QDateTimeEdit(QtCore.QDateTime.fromMSecsSinceEpoch(self.chart.visible_times()[1]))
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        edit.setDateTimeRange(QtCore.QDateTime.fromMSecsSinceEpoch(start), QtCore.QDateTime.fromMSecsSinceEpoch(end))
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(dialog.accept)
        buttons.rejected.connect(dialog.reject)
        form = QtWidgets.QFormLayout(dialog)
        form.addRow("Local time", edit)
        form.addRow(buttons)
        if dialog.exec() == QtWidgets.QDialog.DialogCode.Accepted:
            self.chart.go_to(edit.dateTime().toMSecsSinceEpoch())

    def show_trades(self, markers: list[Marker]) -> None:
        """Backtest results: entry/exit marks on the price pane."""
        self.chart.set_markers(markers)

    def show_equity(self, ts: np.ndarray, equity: np.ndarray, pane: str = "Equity") -> None:
        """Backtest results: an equity (or drawdown) curve in its own pane under the chart, aligned by time."""
        self.chart.set_line(pane, pane, ts, equity)

    def clear_results(self) -> None:
        """Remove trade marks and result panes (equity, drawdown) of a previous backtest."""
        self.chart.set_markers([])
        for name in ("Equity", "Drawdown"):
            self.chart.remove_pane(name)

    def apply_theme(self, theme: ChartTheme) -> None:
        self.chart.apply_theme(theme)
