"""Backtest results: the tested candles with equity and drawdown panes and trade markers, statistics, trades."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtWidgets

from app.backtests.ports import StoredRun
from app.errors import UserError
from domain.backtest import drawdown
from domain.market import SeriesKey, Timeframe
from presentation.chart.markers import fill_marker
from presentation.chart.widget import ChartWidget, Marker
from presentation.models.backtest_results import StatsModel, TradesModel, run_header, run_label, run_title

if TYPE_CHECKING:
    from presentation.services import Services

_USER = QtCore.Qt.ItemDataRole.UserRole


class ResultsView(QtWidgets.QSplitter):
    """Chart on top; statistics and trades below. Clicking a trade frames it on the chart."""

    def __init__(self, services: Services, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(QtCore.Qt.Orientation.Vertical, parent)
        self.services = services
        self.stats = StatsModel(self)
        self.trades = TradesModel(self)
        self.chart = ChartWidget()
        self.stats_view = table_view(self.stats)
        # names whole, the value columns share what the names leave (laid out here, not by Qt's Stretch mode,
        # which kept a stale width after new statistics arrived): never a clipped figure, never a sideways scroll
        self.stats_view.horizontalHeader().setStretchLastSection(False)
        self.stats_view.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.stats_view.viewport().installEventFilter(self)
        self.stats_view.setVerticalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOn)  # ~30 rows
        self.trades_view = table_view(self.trades)
        for col, width in enumerate((40, 48, 100, 70, 118, 118, 80, 90, 90, 80)):
            self.trades_view.setColumnWidth(col, width)
        self.trades_view.clicked.connect(self.on_trade)
        self.trades_view.activated.connect(self.on_trade)
        self.stats_view.setMinimumWidth(348)  # names whole and values like -1,234,567.89 beside them
        self.results = QtWidgets.QSplitter()
        self.results.addWidget(_titled("Statistics", self.stats_view))
        self.results.addWidget(_titled("Trades — click one to see it on the chart", self.trades_view))
        self.results.setStretchFactor(0, 2)
        self.results.setStretchFactor(1, 3)
        self.title = QtWidgets.QLabel("No run shown")
        self.title.setObjectName("chartTitle")
        self.title.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.title.setWordWrap(True)
        top = QtWidgets.QWidget()
        tl = QtWidgets.QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.title)
        tl.addWidget(self.chart, 1)
        self.addWidget(top)
        self.addWidget(self.results)
        self.setStretchFactor(0, 3)
        self.setStretchFactor(1, 2)

    def fit_stats(self) -> None:
        """Let the statistics ask for what their names and values need in this font (fonts differ between
        machines), then lay their columns out."""
        view = self.stats_view
        columns = sum(max(view.sizeHintForColumn(c), 90 if c else 0) for c in range(self.stats.columnCount()))
        chrome = view.verticalScrollBar().sizeHint().width() + 2 * view.frameWidth() + 2
        view.setMinimumWidth(min(max(348, columns + chrome), 720))
        self.layout_stats()

    def layout_stats(self) -> None:
        """The names column as wide as its longest name; the value columns share the rest of the viewport."""
        view, count = self.stats_view, self.stats.columnCount()
        if count == 0:
            return
        names = view.sizeHintForColumn(0)
        view.setColumnWidth(0, names)
        if count > 1:
            share = max(90, (view.viewport().width() - names) // (count - 1))
            for col in range(1, count):
                view.setColumnWidth(col, share)

    def eventFilter(self, watched: QtCore.QObject | None, event: QtCore.QEvent | None) -> bool:
        if (event is not None and event.type() == QtCore.QEvent.Type.Resize
                and watched is self.stats_view.viewport()):
            self.layout_stats()
        return False

    def share(self, width: int, height: int) -> None:
        """First show: chart and tables share the height, statistics and trades the width."""
        self.setSizes([height * 58 // 100, height * 42 // 100])
        self.results.setSizes([width * 25 // 100, width * 45 // 100])

    def show_run(self, run: StoredRun) -> bool:
        """Show one run; False when its candles are no longer stored (statistics and trades only)."""
        s = run.summary
        self.title.setText(run_header(run))
        self.title.setToolTip(run_header(run))
        self.stats.set_runs([(run_label(run), run.stats)], (s.exchange, s.symbol))
        self.fit_stats()
        self.trades.set_trades(run.trades, (s.exchange, s.symbol))
        self.trades_view.resizeColumnsToContents()  # the theme's font decides the widths (reads ~1000 rows)
        return self._draw(run)

    def compare(self, runs: list[StoredRun]) -> None:
        """Statistics side by side and every run's equity and drawdown on the first run's candles."""
        markets = {(r.summary.exchange, r.summary.symbol) for r in runs}
        self.stats.set_runs([(run_label(r), r.stats) for r in runs], markets.pop() if len(markets) == 1 else None)
        self.fit_stats()
        self.title.setText("  Comparing " + " with ".join(run_title(r) for r in runs))
        self.title.setToolTip("<br>".join(run_header(r) for r in runs))
        if runs and self._draw(runs[0], compare=True):
            for i, r in enumerate(runs):
                color = self.chart.theme.lines[i % len(self.chart.theme.lines)]
                self.chart.set_line("Equity", run_label(r), r.equity_ts, r.equity, color)
                self.chart.set_line("Drawdown %", run_label(r), r.equity_ts, -100 * drawdown(np.asarray(r.equity)),
                                    color)
            for name in ("Equity", "Drawdown %"):
                pane_label(self.chart, name)
            self.chart.show_all()
            self.trades.set_trades(runs[0].trades, (runs[0].summary.exchange, runs[0].summary.symbol))

    def _draw(self, run: StoredRun, compare: bool = False) -> bool:
        s = run.summary
        key = SeriesKey(s.exchange, s.symbol, Timeframe(s.timeframe))
        try:
            series = self.services.load(key).slice_time(s.start_ms, s.end_ms)
        except UserError:
            return False
        if not len(series):
            return False
        self.chart.set_series(series, str(key))
        for name in ("Equity", "Drawdown %"):  # lines of an earlier run or comparison go
            pane = self.chart.pane(name)
            if pane is not None:
                for line in list(pane.lines):
                    pane.remove_line(line)
        if not compare:
            self.chart.set_line("Equity", "Equity", run.equity_ts, run.equity)
            self.chart.set_line("Drawdown %", "Drawdown %", run.equity_ts, -100 * drawdown(np.asarray(run.equity)))
        for name in ("Equity", "Drawdown %"):
            pane_label(self.chart, name)
        self.chart.show_all()
        self.chart.set_markers(trade_markers(run))
        return True

    def on_trade(self, index: Any) -> None:
        span = self.trades.data(self.trades.index(index.row(), 0), _USER)
        if span:
            self.chart.show_time_range(*span)


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
    """An entry and an exit mark per trade; a liquidated trade's exit is a liquidation mark at its price."""
    t = run.trades
    reasons = t.reasons()
    out = []
    for i in range(len(t)):
        side = int(t.side[i])
        out.append(fill_marker(int(t.entry_time[i]), float(t.entry_price[i]), side, "open", "entry", f"#{i + 1}"))
        out.append(fill_marker(int(t.exit_time[i]), float(t.exit_price[i]), -side, "close", reasons[i],
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


def table_view(model: Any) -> QtWidgets.QTableView:
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
