"""Chart panes: a plot with a right-hand price axis, an x-linked time axis, a crosshair line and y auto-fit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtGui, sip

from presentation.chart.axis import TimeAxis

AXIS_WIDTH = 78


@dataclass(frozen=True, slots=True)
class ChartTheme:
    """Colours of the chart in one theme."""

    background: str = "#131722"
    foreground: str = "#b2b5be"
    grid: int = 40  # grid alpha 0..255
    crosshair: str = "#787b86"
    up: str = "#26a69a"
    down: str = "#ef5350"
    lines: tuple[str, ...] = field(default=("#f7c948", "#42a5f5", "#ab47bc", "#ff7043", "#66bb6a", "#ec407a"))


DARK = ChartTheme()
LIGHT = ChartTheme(background="#ffffff", foreground="#434651", grid=30, crosshair="#9598a1",
                   lines=("#e0a800", "#1e88e5", "#8e24aa", "#f4511e", "#43a047", "#d81b60"))


class PriceAxis(pg.AxisItem):
    """Right-hand value axis with thousands separators and only as many decimals as the tick spacing needs."""

    def __init__(self) -> None:
        super().__init__(orientation="right")
        self.enableAutoSIPrefix(False)

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        decimals = max(0, min(8, -int(np.floor(np.log10(spacing))))) if spacing > 0 else 2
        return [f"{v * scale:,.{decimals}f}" for v in values]


class Pane:
    """One stacked plot of the chart. `fit` returns the (low, high) to show for the visible x range."""

    def __init__(self, name: str, axis: TimeAxis, stretch: int,
                 fit: Callable[[float, float], tuple[float, float] | None]) -> None:
        self.name = name
        self.stretch = stretch
        self.fit = fit
        right = PriceAxis()
        # no context menus: the chart has its own; pyqtgraph would build one per pane (~15 ms each) to hide it
        self.plot = pg.PlotItem(axisItems={"bottom": axis, "right": right}, enableMenu=False)
        for owned in (axis, right):  # axes made here are Python-owned: hand them to the plot, or a garbage
            sip.transferto(owned, self.plot)  # collection at the wrong moment deletes a painted axis
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.showAxis("right")
        self.plot.hideAxis("left")
        self.plot.getAxis("right").setWidth(AXIS_WIDTH)
        self.plot.showGrid(x=True, y=True)
        for owned in (axis, right):  # pyqtgraph's third tick level: grid lines too faint to see (at most 3/255
            owned.setStyle(maxTickLevel=1)  # off the background) that took half of every chart repaint
        vb = self.plot.getViewBox()
        vb.setMouseEnabled(x=True, y=False)
        vb.enableAutoRange(x=False, y=False)
        self.vline = pg.InfiniteLine(angle=90, movable=False)
        self.hline = pg.InfiniteLine(angle=0, movable=False)
        for line in (self.vline, self.hline):
            line.setZValue(50)
            line.hide()
            self.plot.addItem(line, ignoreBounds=True)
        self.lines: dict[str, pg.PlotDataItem] = {}

    @property
    def vb(self) -> pg.ViewBox:
        return self.plot.getViewBox()

    def apply_theme(self, theme: ChartTheme) -> None:
        fg = QtGui.QColor(theme.foreground)
        for side in ("right", "bottom"):
            ax = self.plot.getAxis(side)
            ax.setPen(pg.mkPen(fg.darker(160)))
            ax.setTextPen(pg.mkPen(fg))
            ax.setGrid(theme.grid)
        pen = pg.mkPen(theme.crosshair, width=1, style=QtCore.Qt.PenStyle.DashLine)
        self.vline.setPen(pen)
        self.hline.setPen(pen)

    def show_time_axis(self, shown: bool) -> None:
        ax = self.plot.getAxis("bottom")
        ax.setStyle(showValues=shown)
        ax.setHeight(None if shown else 0)
        ax.setVisible(True)

    def add_line(self, key: str, x: np.ndarray, y: np.ndarray, color: str, width: float = 1.0) -> pg.PlotDataItem:
        item = pg.PlotDataItem(x, y, pen=pg.mkPen(color, width=width), connect="finite")
        item.setZValue(10)
        self.plot.addItem(item)
        item.setClipToView(True)  # only once in a view box: pyqtgraph asks the view about auto-range
        item.setDownsampling(auto=True, method="peak")
        self.lines[key] = item
        return item

    def add_levels(self, levels: tuple[float, ...]) -> None:
        """Dashed reference levels (e.g. 30/70 on RSI)."""
        for y in levels:
            line = pg.InfiniteLine(pos=y, angle=0, movable=False,
                                   pen=pg.mkPen("#787b86", width=1, style=QtCore.Qt.PenStyle.DashLine))
            self.plot.addItem(line, ignoreBounds=True)

    def remove_line(self, key: str) -> None:
        item = self.lines.pop(key, None)
        if item is not None:
            self.plot.removeItem(item)

    def auto_fit(self, x0: float, x1: float) -> None:
        lim = self.fit(x0, x1)
        if lim is None:
            return
        lo, hi = lim
        if not (np.isfinite(lo) and np.isfinite(hi)):
            return
        if hi <= lo:
            pad = abs(hi) * 0.01 or 1.0
            lo, hi = lo - pad, hi + pad
        self.vb.setYRange(lo, hi, padding=0.06)


def lines_fit(pane: Pane) -> Callable[[float, float], tuple[float, float] | None]:
    """A fit function over the visible part of a pane's lines (x = bar index), ignoring NaN warm-up."""

    def fit(x0: float, x1: float) -> tuple[float, float] | None:
        lo, hi = np.inf, -np.inf
        for item in pane.lines.values():
            y = item.yData
            if y is None or not len(y):
                continue
            xs = item.xData
            a = int(np.searchsorted(xs, x0))
            b = int(np.searchsorted(xs, x1, side="right"))
            part = y[max(0, a - 1): b + 1]
            if len(part) and not np.isnan(part).all():
                lo, hi = min(lo, float(np.nanmin(part))), max(hi, float(np.nanmax(part)))
        return (lo, hi) if lo <= hi else None

    return fit
