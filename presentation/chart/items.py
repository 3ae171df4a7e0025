"""pyqtgraph items that draw candles and volume bars from the LOD pyramid, only the visible ones, in bulk."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtGui, QtWidgets
from pyqtgraph.Qt.internals import PrimitiveArray

from presentation.chart.lod import CLOSE, HIGH, LOW, OPEN, VOLUME, OhlcPyramid

UP = QtGui.QColor("#26a69a")
DOWN = QtGui.QColor("#ef5350")


class _PyramidItem(pg.GraphicsObject):
    """Shared plumbing: pick the level for the current view and hand the visible slice to `_draw`."""

    per_pixel = 1.0

    def __init__(self, pyramid: OhlcPyramid) -> None:
        super().__init__()
        self.pyramid = pyramid
        self.up = UP
        self.down = DOWN
        self._rects = (PrimitiveArray(QtCore.QRectF, 4), PrimitiveArray(QtCore.QRectF, 4))
        self._lines = (PrimitiveArray(QtCore.QLineF, 4), PrimitiveArray(QtCore.QLineF, 4))
        self.last_level = 0
        self.last_drawn = 0

    def set_pyramid(self, pyramid: OhlcPyramid) -> None:
        self.prepareGeometryChange()
        self.pyramid = pyramid
        self.update()

    def set_colors(self, up: QtGui.QColor, down: QtGui.QColor) -> None:
        self.up, self.down = up, down
        self.update()

    def visible(self) -> tuple[int, int, int] | None:
        """(level, i0, i1) of the bars to draw for the view, or None when nothing is visible."""
        vb = self.getViewBox()
        if vb is None or len(self.pyramid) == 0:
            return None
        (x0, x1), _ = vb.viewRange()
        k = self.pyramid.level_for(x1 - x0, max(1.0, vb.width()), self.per_pixel)
        i0, i1 = self.pyramid.window(k, x0, x1)
        return (k, i0, i1) if i1 > i0 else None

    def _data_rect(self, lo: float, hi: float) -> QtCore.QRectF:
        n = len(self.pyramid)
        return QtCore.QRectF(-0.5, lo, max(n, 1), max(hi - lo, 1e-12))

    def paint(self, p: QtGui.QPainter, opt: QtWidgets.QStyleOptionGraphicsItem | None,
              widget: QtWidgets.QWidget | None = None) -> None:
        vis = self.visible()
        if vis is None:
            return
        k, i0, i1 = vis
        self.last_level, self.last_drawn = k, i1 - i0
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, False)
        self._draw(p, k, i0, i1)

    def _draw(self, p: QtGui.QPainter, k: int, i0: int, i1: int) -> None:
        raise NotImplementedError

    @staticmethod
    def _load(arr: PrimitiveArray, cols: list[np.ndarray]) -> bool:
        """Copy the columns into the primitive buffer; False when there is nothing to draw."""
        n = len(cols[0])
        if not n:
            return False
        arr.resize(n)
        buf = arr.ndarray()
        for i, c in enumerate(cols):
            buf[:, i] = c
        return True

    def _fill(self, p: QtGui.QPainter, color: QtGui.QColor, arr: PrimitiveArray, cols: list[np.ndarray]) -> None:
        if not self._load(arr, cols):
            return
        p.setPen(QtCore.Qt.PenStyle.NoPen)
        p.setBrush(color)
        p.drawRects(*arr.drawargs())

    def _stroke(self, p: QtGui.QPainter, color: QtGui.QColor, arr: PrimitiveArray, cols: list[np.ndarray]) -> None:
        if not self._load(arr, cols):
            return
        pen = QtGui.QPen(color, 1)
        pen.setCosmetic(True)
        p.setPen(pen)
        p.drawLines(*arr.drawargs())


class CandlestickItem(_PyramidItem):
    """Bodies and wicks, up and down colours; at most one candle per pixel column at any zoom."""

    def boundingRect(self) -> QtCore.QRectF:
        b = self.pyramid.bounds()
        return self._data_rect(*(b or (0.0, 1.0)))

    def _draw(self, p: QtGui.QPainter, k: int, i0: int, i1: int) -> None:
        lev = self.pyramid.columns(k, i0, i1)
        s = self.pyramid.span(k)
        x = np.arange(i0, i1, dtype=np.float64) * s + (s - 1) / 2
        o, h, lo, c = lev[OPEN], lev[HIGH], lev[LOW], lev[CLOSE]
        vb = self.getViewBox()
        (_, _), (y0, y1) = vb.viewRange()
        min_h = (y1 - y0) / max(1.0, vb.height())  # a doji is still one pixel tall
        top, bot = np.maximum(o, c), np.minimum(o, c)
        height = np.maximum(top - bot, min_h)
        half = 0.4 * s
        up = c >= o
        for mask, color, rects, lines in ((up, self.up, self._rects[0], self._lines[0]),
                                          (~up, self.down, self._rects[1], self._lines[1])):
            xs = x[mask]
            self._stroke(p, color, lines, [xs, lo[mask], xs, h[mask]])
            self._fill(p, color, rects, [xs - half, bot[mask], np.full(len(xs), 2 * half), height[mask]])


class VolumeItem(_PyramidItem):
    """Volume bars coloured by the candle's direction, summed per LOD span."""

    def boundingRect(self) -> QtCore.QRectF:
        top = self.pyramid.column(self.pyramid.depth - 1, VOLUME) if len(self.pyramid) else np.zeros(1)
        return self._data_rect(0.0, float(top.max()) if len(top) else 1.0)

    def visible_max(self) -> float:
        vis = self.visible()
        if vis is None:
            return 1.0
        k, i0, i1 = vis
        return float(self.pyramid.column(k, VOLUME)[i0:i1].max())

    def _draw(self, p: QtGui.QPainter, k: int, i0: int, i1: int) -> None:
        lev = self.pyramid.columns(k, i0, i1)
        s = self.pyramid.span(k)
        x = np.arange(i0, i1, dtype=np.float64) * s + (s - 1) / 2
        vol = lev[VOLUME]
        up = lev[CLOSE] >= lev[OPEN]
        half = 0.4 * s
        for mask, color, rects in ((up, self.up, self._rects[0]), (~up, self.down, self._rects[1])):
            faded = QtGui.QColor(color)
            faded.setAlpha(140)
            xs = x[mask]
            self._fill(p, faded, rects, [xs - half, np.zeros(len(xs)), np.full(len(xs), 2 * half), vol[mask]])


class LastPriceLine(pg.InfiniteLine):
    """The last close as a dotted line with a price tag at the right edge, coloured as the last candle."""

    def __init__(self) -> None:
        super().__init__(angle=0, movable=False, label="{value:,.10g}",
                         labelOpts={"position": 1.0, "anchors": [(1, 0.5), (1, 0.5)],
                                    "fill": (0, 0, 0, 160), "color": "w"})
        self.setZValue(40)  # the price tag stays readable above trade markers and indicator lines

    def follow(self, pyramid: OhlcPyramid, up: str, down: str) -> None:
        """Move to the pyramid's last close (hidden while it has no bars)."""
        if not len(pyramid):
            self.hide()
            return
        o, c = pyramid.column(0, OPEN)[-1], pyramid.column(0, CLOSE)[-1]
        color = up if c >= o else down
        self.setPen(pg.mkPen(color, width=1, style=QtCore.Qt.PenStyle.DotLine))
        self.label.fill = pg.mkBrush(color)
        self.show()
        self.setValue(float(c))
        self.label.valueChanged()  # a hidden label skips updates
