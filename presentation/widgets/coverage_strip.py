"""A one-line timeline of a series' coverage: stored bars, ranges known to have no trades, holes."""

from __future__ import annotations

from PyQt6 import QtCore, QtGui, QtWidgets

from domain.market import Coverage
from domain.market.intervals import Interval

COLORS = {"stored": "#26a69a", "empty": "#5d606b", "hole": "#ef5350"}


class CoverageStrip(QtWidgets.QWidget):
    """Draws the whole stored span left to right; every run keeps at least one pixel so none hides."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(22)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed)
        self.layers: list[tuple[str, list[Interval]]] = []
        self.span: Interval | None = None
        self.setToolTip("green: stored bars · grey: fetched, no trades · red: holes never fetched")

    def set_coverage(self, cov: Coverage | None) -> None:
        if cov is None or not cov.covered:
            self.layers, self.span = [], None
        else:
            covered = cov.covered
            self.span = (covered[0][0], covered[-1][1])
            self.layers = [("empty", cov.known_empty), ("stored", cov.stored), ("hole", cov.holes())]
        self.update()

    def paintEvent(self, event: QtGui.QPaintEvent | None) -> None:
        p = QtGui.QPainter(self)
        rect = self.rect().adjusted(0, 3, -1, -3)
        p.fillRect(rect, QtGui.QColor("#2a2e39"))
        if self.span is None:
            return
        a, b = self.span
        width = max(1.0, b - a)
        for kind, runs in self.layers:
            color = QtGui.QColor(COLORS[kind])
            for s, e in runs:
                x0 = rect.left() + (s - a) / width * rect.width()
                w = max(1.0, (e - s) / width * rect.width())
                p.fillRect(QtCore.QRectF(x0, rect.top(), w, rect.height()), color)
        p.end()
