"""The chart's crosshair and readout: the bar under the pointer, its OHLCV and every line's value there."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtWidgets

from presentation.chart.axis import local
from presentation.chart.lod import CLOSE, HIGH, LOW, OPEN, VOLUME

if TYPE_CHECKING:
    from presentation.chart.widget import ChartWidget


def number(v: float) -> str:
    """Thousands separators and about six significant digits: 28,295,500 · 65.185 · 0.52947."""
    if not np.isfinite(v) or v == 0:
        return f"{v:g}"
    digits = int(np.floor(np.log10(abs(v)))) + 1
    return f"{v:,.{min(8, max(0, 5 - digits))}f}"


class Crosshair(QtCore.QObject):
    """Follows the pointer over `chart`'s panes (at most 60 times a second) and writes the readout line."""

    def __init__(self, chart: ChartWidget) -> None:
        super().__init__(chart)
        self.chart = chart
        self.readout = QtWidgets.QLabel(" ")
        self.readout.setObjectName("chartReadout")
        self.readout.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.readout.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Fixed)
        self._proxy = pg.SignalProxy(chart.view.scene().sigMouseMoved, rateLimit=60, slot=self.on_mouse)
        self._pos: QtCore.QPointF | None = None  # the pointer's last scene position, None once it left

    def forget_pointer(self) -> None:
        """The pointer left the chart: later refreshes read out the last bar in view."""
        self._pos = None

    def refresh(self) -> None:
        """Read out again after the view or the lines changed (zoom, reload, indicators): the bar under the
        pointer when it is over the chart, else the last bar in view."""
        if self._pos is not None:
            self.on_mouse((self._pos,))
        else:
            self.show_bar(self.chart.last_visible_bar())

    def on_mouse(self, event: tuple[QtCore.QPointF]) -> None:
        pos = self._pos = QtCore.QPointF(event[0])
        hovered: int | None = None
        for pane in self.chart.panes:
            inside = pane.plot.sceneBoundingRect().contains(pos)
            pt = pane.vb.mapSceneToView(pos)
            pane.vline.setPos(pt.x())
            pane.vline.setVisible(True)
            pane.hline.setVisible(inside)
            if inside:
                pane.hline.setPos(pt.y())
                hovered = int(round(pt.x()))
        if hovered is not None:
            self.show_bar(hovered)

    def show_bar(self, i: int) -> None:
        """Read out bar `i` (clamped to the bars there are): its time, OHLCV and each line's value."""
        pyramid, theme = self.chart.pyramid, self.chart.theme
        n = len(pyramid)
        if not n:
            self.readout.setText(" ")
            return
        i = min(max(i, 0), n - 1)
        o, h, lo, c, v = (float(pyramid.column(0, f)[i]) for f in (OPEN, HIGH, LOW, CLOSE, VOLUME))
        color = theme.up if c >= o else theme.down
        parts = [local(int(pyramid.ts[i])).strftime("%Y-%m-%d %H:%M")]
        parts += [f"{k} <span style='color:{color}'>{number(val)}</span>" for k, val in
                  (("O", o), ("H", h), ("L", lo), ("C", c), ("V", v))]
        for pane in self.chart.panes:
            for key, item in pane.lines.items():
                y = item.yData
                j = int(np.searchsorted(item.xData, i)) if y is not None and len(y) else -1
                if 0 <= j < len(y) and np.isfinite(y[j]):
                    col = item.opts["pen"].color().name()
                    parts.append(f"<span style='color:{col}'>{key} {number(float(y[j]))}</span>")
        text = "&nbsp;&nbsp;".join(parts)
        self.readout.setText(text)
        self.chart.sigHover.emit(text)
