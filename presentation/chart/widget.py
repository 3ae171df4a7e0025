"""The candlestick chart: price, volume, indicator and extra panes, x-linked, with LOD, crosshair and navigation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtGui, QtWidgets

from domain.market import Candle, CandleSeries, Timeframe
from presentation.chart.axis import TimeAxis
from presentation.chart.crosshair import Crosshair
from presentation.chart.items import CandlestickItem, LastPriceLine, VolumeItem
from presentation.chart.lod import CLOSE, HIGH, LOW, OPEN, VOLUME, OhlcPyramid
from presentation.chart.panes import DARK, ChartTheme, Pane, lines_fit

DEFAULT_BARS = 300  # bars shown when a series is opened


@dataclass(frozen=True, slots=True)
class Marker:
    """A trade mark on the price pane: kind is long_entry, long_exit, short_entry, short_exit or liquidation;
    `text` is its tooltip."""

    ts_ms: int
    price: float
    kind: str
    text: str = ""


_MARKER_STYLE = {  # symbol, colour key, size
    "long_entry": ("t1", "up", 13), "short_entry": ("t", "down", 13),
    "long_exit": ("x", "fg", 11), "short_exit": ("x", "fg", 11),
    "liquidation": ("star", "liquidation", 17),
}
LIQUIDATION_COLOR = "#ff9800"  # neither up nor down nor the foreground: a liquidation must stand out


def _marker_tip(x: float, y: float, data: object) -> str:
    """A mark's tooltip: its text (the trade, its reason and price)."""
    return str(data or "")


class ChartWidget(QtWidgets.QWidget):
    """Shows one CandleSeries. x is the bar index; the time axis labels bars by their local open time. The
    crosshair and readout live in `crosshair` (presentation/chart/crosshair.py)."""

    sigHover = QtCore.pyqtSignal(str)  # the readout text under the crosshair

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = DARK
        self.timeframe = Timeframe.M1
        self.pyramid = OhlcPyramid.empty()
        self.view = pg.GraphicsLayoutWidget()
        self.crosshair = Crosshair(self)
        self.readout = self.crosshair.readout
        self.view.ci.setSpacing(0)
        self.view.ci.setContentsMargins(0, 0, 0, 0)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.readout)
        lay.addWidget(self.view, 1)
        self.candles = CandlestickItem(self.pyramid)
        self.volume = VolumeItem(self.pyramid)
        self.price = self._new_pane("price", 6, self._fit_price)
        self.price.plot.addItem(self.candles)
        self.vol = self._new_pane("volume", 1, lambda x0, x1: (0.0, self.volume.visible_max()))
        self.vol.plot.addItem(self.volume)
        self.vol.plot.getAxis("right").setStyle(showValues=False)
        self.markers = pg.ScatterPlotItem(pxMode=True, hoverable=True, tip=_marker_tip)
        self.markers.setZValue(30)
        self.price.plot.addItem(self.markers)
        self.last_line = LastPriceLine()
        self.price.plot.addItem(self.last_line, ignoreBounds=True)
        self.panes: list[Pane] = [self.price, self.vol]
        self._next_row = 0
        self.price.vb.sigXRangeChanged.connect(self._on_x_changed)
        self._relayout()
        self.apply_theme(DARK)

    # ---- data -------------------------------------------------------------------------------------------
    def set_series(self, series: CandleSeries, title: str = "", keep_view: bool = False,
                   pyramid: OhlcPyramid | None = None) -> None:
        """Show `series`; builds the LOD pyramid once (or takes one already built from it, e.g. in a worker
        thread). Shows the latest bars unless keep_view, which keeps the same times in view (older bars added
        in front shift every index), refits every pane and reads out the last bar in view."""
        kept = self.visible_times() if keep_view and len(self.pyramid) and not self._following_latest() else None
        (x0, x1), _ = self.price.vb.viewRange()
        bars = int(min(x1, len(self.pyramid)) - max(x0, 0)) if keep_view else DEFAULT_BARS
        self.timeframe = series.timeframe
        self.title = title
        self.pyramid = pyramid if pyramid is not None else OhlcPyramid(series.ts, series.open, series.high,
                                                                       series.low, series.close, series.volume)
        self.candles.set_pyramid(self.pyramid)
        self.volume.set_pyramid(self.pyramid)
        self._update_limits()
        self._update_last_line()
        for pane in self.panes:  # the same x range may now stand for other times: relabel the axes
            pane.plot.getAxis("bottom").picture = None
            pane.plot.getAxis("bottom").update()
        if kept is None:  # first show, or the view followed the latest bar: keep following it
            self.show_last(bars if bars > 1 else DEFAULT_BARS)
        else:
            self.show_times(*kept)
        self.crosshair.refresh()

    def last_visible_bar(self) -> int:
        """The index of the rightmost bar in view (clamped to the bars there are)."""
        (_, x1), _ = self.price.vb.viewRange()
        return min(max(int(np.floor(x1)), 0), len(self.pyramid) - 1)

    def series(self) -> CandleSeries:
        """The bars on the chart (views, no copy), including live ones."""
        cols = [self.pyramid.column(0, f) for f in (OPEN, HIGH, LOW, CLOSE, VOLUME)]
        return CandleSeries(self.timeframe, self.pyramid.ts, *cols)

    def apply_live(self, bar: Candle) -> None:
        """Append a new bar, or update the last one if it has the same open time (no pyramid rebuild)."""
        ts = self.pyramid.ts
        following = self._following_latest()
        if len(ts) and bar.ts == int(ts[-1]):
            self.pyramid.update_last(bar.open, bar.high, bar.low, bar.close, bar.volume)
        else:
            self.pyramid.append(bar.ts, bar.open, bar.high, bar.low, bar.close, bar.volume)
            self._update_limits()
            if following:
                (x0, x1), _ = self.price.vb.viewRange()
                self.price.vb.setXRange(x0 + 1, x1 + 1, padding=0)
        self._update_last_line()
        self.candles.update()
        self.volume.update()
        self._fit_all()

    # ---- navigation -------------------------------------------------------------------------------------
    def show_last(self, bars: int) -> None:
        n = len(self.pyramid)
        self.set_x_range(max(-0.5, n - bars), n + max(2, bars // 12))

    def show_all(self) -> None:
        n = len(self.pyramid)
        self.set_x_range(-0.5, n + n / 40 + 1)

    def set_x_range(self, x0: float, x1: float) -> None:
        self.price.vb.setXRange(x0, x1, padding=0)
        self._fit_all()

    def show_times(self, start_ms: int, end_ms: int) -> None:
        """Show the bars between two open times exactly (keeping what was in view across a reload)."""
        ts = self.pyramid.ts
        a, b = int(np.searchsorted(ts, start_ms)), int(np.searchsorted(ts, end_ms, side="right")) - 1
        if b <= a:
            self.show_last(DEFAULT_BARS)
            return
        self.set_x_range(a, b + (2 if b >= len(ts) - 1 else 0))

    def show_time_range(self, start_ms: int, end_ms: int) -> None:
        """Frame the bars between two times with a little room either side (e.g. one trade)."""
        ts = self.pyramid.ts
        a, b = int(np.searchsorted(ts, start_ms)), int(np.searchsorted(ts, end_ms, side="right"))
        pad = max(10, (b - a) // 4)
        self.set_x_range(a - pad, b + pad)

    def go_to(self, when_ms: int) -> None:
        """Centre the view on the bar at (or after) `when_ms`, keeping the zoom."""
        (x0, x1), _ = self.price.vb.viewRange()
        i = int(np.searchsorted(self.pyramid.ts, when_ms))
        half = (x1 - x0) / 2
        self.set_x_range(i - half, i + half)

    def visible_times(self) -> tuple[int, int]:
        (x0, x1), _ = self.price.vb.viewRange()
        ax = self.price.plot.getAxis("bottom")
        return ax.ms_at(max(0, x0)), ax.ms_at(min(x1, max(0, len(self.pyramid) - 1)))

    # ---- overlays, panes, markers -------------------------------------------------------------------------
    def add_pane(self, name: str, stretch: int = 2) -> Pane:
        """An extra x-linked pane below the others (indicator sub-pane, equity, drawdown)."""
        if (old := self.pane(name)) is not None:
            return old
        pane = self._new_pane(name, stretch, None)
        pane.fit = lines_fit(pane)
        pane.plot.setXLink(self.price.plot)
        self.panes.append(pane)
        self._relayout()
        return pane

    def remove_pane(self, name: str) -> None:
        pane = self.pane(name)
        if pane is None or pane in (self.price, self.vol):
            return
        self.panes.remove(pane)
        for key in list(pane.lines):
            pane.remove_line(key)
        row = self.view.ci.items[pane.plot][0][0]
        self.view.ci.removeItem(pane.plot)
        self.view.ci.layout.setRowStretchFactor(row, 0)
        self._relayout()

    def pane(self, name: str) -> Pane | None:
        return next((p for p in self.panes if p.name == name), None)

    def set_line(self, pane: str, key: str, ts: np.ndarray, values: np.ndarray, color: str | None = None) -> None:
        """A line over time on a pane (created if needed); ts are mapped to bar positions."""
        target = self.price if pane == "price" else self.add_pane(pane)
        target.remove_line(key)
        x = self._x_of(np.asarray(ts, dtype=np.int64))
        color = color or self.theme.lines[len(target.lines) % len(self.theme.lines)]
        target.add_line(key, x, np.asarray(values, dtype=np.float64), color)
        self._fit_all()

    def set_markers(self, markers: Sequence[Marker]) -> None:
        """Entry/exit marks on the price pane (replaces the previous set): one brush and pen per kind, one setData."""
        colors = {"up": self.theme.up, "down": self.theme.down, "fg": self.theme.foreground,
                  "liquidation": LIQUIDATION_COLOR}
        styles = {}
        for kind in {m.kind for m in markers}:
            symbol, ckey, size = _MARKER_STYLE.get(kind, ("o", "fg", 9))
            color = colors[ckey]
            styles[kind] = (symbol, size, pg.mkBrush(color), pg.mkPen(QtGui.QColor(color).darker(140)))
        per = [styles[m.kind] for m in markers]
        data = np.empty(len(markers), dtype=object)
        data[:] = [m.text for m in markers]
        self.markers.setData(x=self._x_of(np.array([m.ts_ms for m in markers], dtype=np.int64)).astype(np.float64),
                             y=np.array([m.price for m in markers], dtype=np.float64),
                             symbol=[s[0] for s in per], size=[s[1] for s in per],
                             brush=[s[2] for s in per], pen=[s[3] for s in per], data=data)

    def leaveEvent(self, event: QtCore.QEvent | None) -> None:  # noqa: N802
        self.crosshair.forget_pointer()
        super().leaveEvent(event)

    # ---- theme ------------------------------------------------------------------------------------------
    def apply_theme(self, theme: ChartTheme) -> None:
        self.theme = theme
        self.view.setBackground(theme.background)
        for pane in self.panes:
            pane.apply_theme(theme)
        self.candles.set_colors(QtGui.QColor(theme.up), QtGui.QColor(theme.down))
        self.volume.set_colors(QtGui.QColor(theme.up), QtGui.QColor(theme.down))
        self._update_last_line()

    # ---- internals --------------------------------------------------------------------------------------
    def _new_pane(self, name: str, stretch: int, fit: object) -> Pane:
        axis = TimeAxis(lambda: self.pyramid.ts, lambda: self.timeframe.ms)
        pane = Pane(name, axis, stretch, fit)  # type: ignore[arg-type]
        if name != "price":
            pane.plot.setXLink(self.price.plot)
        pane.apply_theme(getattr(self, "theme", DARK))
        return pane

    def _relayout(self) -> None:
        """Put panes not yet in the layout below the others; only the bottom pane labels the time axis."""
        ci = self.view.ci
        for pane in self.panes:
            if pane.plot not in ci.items:
                ci.addItem(pane.plot, row=self._next_row, col=0)
                ci.layout.setRowStretchFactor(self._next_row, pane.stretch)
                self._next_row += 1
            pane.show_time_axis(pane is self.panes[-1])
        self._fit_all()

    def _x_of(self, ts: np.ndarray) -> np.ndarray:
        """Bar positions of times (fractional between bars, so equity steps line up with candles)."""
        bars = self.pyramid.ts
        if not len(bars):
            return np.zeros(len(ts))
        return np.interp(ts, bars, np.arange(len(bars), dtype=np.float64))

    def _fit_price(self, x0: float, x1: float) -> tuple[float, float] | None:
        vis = self.candles.visible()
        return self.pyramid.low_high(*vis) if vis else None

    def _on_x_changed(self, *_: object) -> None:
        self._fit_all()
        self.crosshair.refresh()

    def _fit_all(self) -> None:
        (x0, x1), _ = self.price.vb.viewRange()
        for pane in self.panes:
            pane.auto_fit(x0, x1)

    def _following_latest(self) -> bool:
        (_, x1), _ = self.price.vb.viewRange()
        return x1 >= len(self.pyramid) - 1

    def _update_limits(self) -> None:
        n = max(len(self.pyramid), 10)
        self.price.vb.setLimits(xMin=-n * 0.05 - 5, xMax=n * 1.1 + 20, minXRange=8, maxXRange=n * 1.15 + 25)

    def _update_last_line(self) -> None:
        self.last_line.follow(self.pyramid, self.theme.up, self.theme.down)
