"""Builder preview: the selected market on a chart with the draft's indicators and its entry/exit signals."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtGui, QtWidgets

from domain.indicators import CATALOG
from domain.market import CandleSeries, SeriesKey, Timeframe
from domain.strategy import Strategy, Var, evaluate, indicator_columns, iter_vars
from presentation.builder.fills import FillMarks, steps
from presentation.chart.panes import ChartTheme
from presentation.chart.tab import series_title
from presentation.chart.widget import ChartWidget

if TYPE_CHECKING:
    from presentation.services import Services

PREVIEW_BARS = 20_000  # the latest bars: enough to judge a rule, quick to recompute on every edit
SIGNAL_KINDS = (("entry_long", "long_entry", "Long entry"), ("exit_long", "long_exit", "Long exit"),
                ("entry_short", "short_entry", "Short entry"), ("exit_short", "short_exit", "Short exit"))


class SignalMarks:
    """One vectorised scatter per signal kind on the price pane (thousands of arrows cost one setData each)."""

    STYLE = {"entry_long": ("t1", "up", 13), "entry_short": ("t", "down", 13),
             "exit_long": ("x", "foreground", 10), "exit_short": ("x", "foreground", 10)}

    def __init__(self, chart: ChartWidget) -> None:
        self.chart = chart
        self.items: dict[str, pg.ScatterPlotItem] = {}
        for side, (symbol, color, size) in self.STYLE.items():
            item = pg.ScatterPlotItem(pxMode=True, symbol=symbol, size=size)
            item.setZValue(30)
            chart.price.plot.addItem(item)
            self.items[side] = item
            self._color(side, color)

    def _color(self, side: str, key: str) -> None:
        color = getattr(self.chart.theme, key)
        self.items[side].setBrush(pg.mkBrush(color))
        self.items[side].setPen(pg.mkPen(QtGui.QColor(color).darker(140)))

    def show(self, signals: Any, series: CandleSeries) -> list[tuple[str, int]]:
        """Arrows under the low for long entries, over the high for short entries, crosses at exits."""
        counts = []
        for side, kind, label in SIGNAL_KINDS:
            idx = np.flatnonzero(getattr(signals, side))
            y = {"long_entry": series.low, "short_entry": series.high}.get(kind, series.close)[idx]
            self.items[side].setData(x=idx.astype(np.float64), y=y)
            counts.append((label, len(idx)))
        return counts

    def apply_theme(self) -> None:
        for side, (_, color, _) in self.STYLE.items():
            self._color(side, color)

    def count(self) -> int:
        return sum(len(item.data) for item in self.items.values())


class PreviewPane(QtWidgets.QWidget):
    """`updated(ms)` is emitted after each redraw with the time it took."""

    updated = QtCore.pyqtSignal(float)
    series_changed = QtCore.pyqtSignal()  # another market (or none) is shown: its bar length may differ

    def __init__(self, services: Services, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.series = CandleSeries.empty(Timeframe.M1)
        self.key: SeriesKey | None = None
        self.wanted: SeriesKey | None = None  # the market to show once listed (the window's selection)
        self.strategy: Strategy | None = None
        self._lines: list[tuple[str, str]] = []
        self.market = QtWidgets.QComboBox()
        self.market.setToolTip("Market whose stored candles the preview uses")
        self.market.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.market.setMinimumContentsLength(16)
        self.market.activated.connect(lambda _: self._on_market())  # user picks only: no signal while torn down
        self.status = QtWidgets.QLabel("")
        self.status.setObjectName("hint")
        self.status.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        self.status.setWordWrap(True)  # the preview is often narrow: the counts take two lines, never cut
        self.chart = ChartWidget()
        readout = self.chart.readout  # the preview is narrow: the crosshair's line wraps rather than being cut
        readout.setWordWrap(True)
        readout.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Minimum)
        readout.setMinimumHeight(2 * readout.fontMetrics().lineSpacing() + 4)  # two lines: no jump on hover
        self.marks = SignalMarks(self.chart)
        self.fills = FillMarks(self.chart)
        self.fills.shown.connect(self._on_fills)
        self._counts = self._tail = ""
        self.empty = QtWidgets.QLabel("No candles stored yet — collect some in the Data tab to preview signals.")
        self.empty.setObjectName("emptyText")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.stack = QtWidgets.QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.chart)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(QtWidgets.QLabel("Preview on"))
        top.addWidget(self.market, 1)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(top)
        lay.addWidget(self.stack, 1)
        lay.addWidget(self.status)

    def apply_theme(self, theme: ChartTheme) -> None:
        self.chart.apply_theme(theme)
        self.marks.apply_theme()
        self.fills.apply_theme()

    def refresh_markets(self) -> None:
        current = self.market.currentData()
        self.market.blockSignals(True)
        self.market.clear()
        for s in self.services.stored():
            self.market.addItem(f"{series_title(s.key)}  ({s.rows:,} bars)", s.key)
        i = _index_of(self.market, self.wanted) if self.wanted is not None else -1
        if i >= 0:
            self.wanted = None
        elif current is not None:
            i = _index_of(self.market, current)
        self.market.setCurrentIndex(max(0, i))
        self.market.blockSignals(False)
        if self.market.currentData() != self.key:
            self._on_market()

    def choose(self, key: SeriesKey) -> bool:
        i = _index_of(self.market, key)
        if i >= 0:
            self.market.setCurrentIndex(i)
            self._on_market()
        return i >= 0

    def _on_market(self) -> None:
        key = self.market.currentData()
        self.key = key if isinstance(key, SeriesKey) else None
        if self.key is None:
            self.stack.setCurrentWidget(self.empty)
            self.series_changed.emit()
            return
        series = self.services.load(self.key)
        self.series = series.take(slice(-PREVIEW_BARS, None)) if len(series) > PREVIEW_BARS else series
        self._lines = []
        for pane in list(self.chart.panes[2:]):
            self.chart.remove_pane(pane.name)
        for key_ in list(self.chart.price.lines):
            self.chart.price.remove_line(key_)
        self.chart.set_series(self.series, series_title(self.key))
        self.stack.setCurrentWidget(self.chart if len(self.series) else self.empty)
        self.series_changed.emit()
        self.show_strategy(self.strategy)

    def show_strategy(self, strategy: Strategy | None) -> None:
        """Redraw indicators and signal arrows for `strategy` (None: keep the last valid drawing, say so)."""
        t = time.perf_counter()
        if strategy is None:
            self.status.setText("Preview paused: fix the marked fields.")
            return
        self.strategy = strategy
        if not len(self.series):
            return
        try:
            self._draw_lines(self._lines_of(strategy))
            signals = evaluate(strategy, self.series)
        except ValueError as err:  # e.g. an operand timeframe the bars cannot build
            self.status.setText(f"Preview paused: {err}")
            return
        counts = self.marks.show(signals, self.series)
        ms = (time.perf_counter() - t) * 1000
        self._counts = "  ·  ".join(f"{n:,} {label.lower()}" for label, n in counts)
        self._tail = f"   on the last {len(self.series):,} bars  ({ms:.0f} ms)"
        more = self.fills.request(strategy, signals, self.series)
        self.status.setText(self._counts + ("  ·  counting partial exits and adds…" if more else "") + self._tail)
        self.updated.emit(ms)

    def _on_fills(self, texts: list[str]) -> None:
        """The engine's partial exits and adds arrived: their counts join the signal counts."""
        self.status.setText(self._counts + "".join(f"  ·  {t}" for t in texts) + self._tail)

    def _lines_of(self, strategy: Strategy) -> list[tuple[str, str, np.ndarray, np.ndarray]]:
        """(pane, label, times, values) per operand: price-valued outputs on the candles, others in one pane per
        indicator instance (MACD's three outputs share a pane); a higher-timeframe operand as steps (its value
        holds from one closed higher bar to the next)."""
        out = []
        cols = indicator_columns(strategy, self.series)
        for var, (label, values) in zip(iter_vars(strategy), cols.items(), strict=True):
            ind = CATALOG[var.var]
            ts, ys = steps(self.series.ts, values) if var.timeframe else (self.series.ts, values)
            if ind.overlay_of(var.field or ind.outputs[0]):
                if var.var != "close" or var.timeframe:  # the candles already show the chart's own close
                    out.append(("price", label, ts, ys))
            else:
                pane = Var(var.var, var.params).label + (f" on {var.timeframe}" if var.timeframe else "")
                out.append((pane, label, ts, ys))
        return out

    def _draw_lines(self, lines: list[tuple[str, str, np.ndarray, np.ndarray]]) -> None:
        wanted = {(pane, label) for pane, label, _, _ in lines}
        for pane, label in self._lines:
            if (pane, label) in wanted:
                continue
            if pane == "price":
                self.chart.price.remove_line(label)
            elif not any(p == pane for p, _ in wanted):
                self.chart.remove_pane(pane)
            elif (target := self.chart.pane(pane)) is not None:
                target.remove_line(label)
        palette, used = self.chart.theme.lines, {pane: 0 for pane, _, _, _ in lines}
        for pane, label, ts, values in lines:  # each line of a pane its own colour, the same on every redraw
            self.chart.set_line(pane, label, ts, values, palette[used[pane] % len(palette)])
            used[pane] += 1
        self._lines = [(pane, label) for pane, label, _, _ in lines]


def _index_of(combo: QtWidgets.QComboBox, key: object) -> int:
    """findData compares Python objects by identity; series keys are equal by value."""
    return next((i for i in range(combo.count()) if combo.itemData(i) == key), -1)
