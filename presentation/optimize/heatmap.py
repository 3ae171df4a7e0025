"""Heatmap of the objective over two swept parameters: an ImageItem on value-labelled axes with a colour bar."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtWidgets


def _label(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


class HeatmapWidget(QtWidgets.QWidget):
    """`set_grid(values[x, y], x_values, y_values, ...)`; double-clicking a cell emits `cellActivated(ix, iy)`."""

    cellActivated = QtCore.pyqtSignal(int, int)
    cellHovered = QtCore.pyqtSignal(int, int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = pg.GraphicsLayoutWidget()
        self.plot = self.view.addPlot()
        self.plot.setMenuEnabled(False)
        self.plot.getViewBox().setMouseEnabled(x=False, y=False)
        self.image = pg.ImageItem(axisOrder="col-major")
        self.plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=pg.colormap.get("viridis"), interactive=False)
        self.colorbar.setImageItem(self.image, insert_in=self.plot)
        self.best = QtWidgets.QGraphicsRectItem(0, 0, 1, 1)  # outlines the best cell (points below the minimum
        pen = pg.mkPen("w", width=2)                          # number of trades never have a cell)
        pen.setCosmetic(True)
        self.best.setPen(pen)
        self.best.setZValue(10)
        self.best.setVisible(False)
        self.plot.addItem(self.best)
        self.best_cell: tuple[int, int] | None = None
        self.grid = np.full((0, 0), np.nan)
        self.x_values: list[float] = []
        self.y_values: list[float] = []
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.view.scene().sigMouseClicked.connect(self._clicked)
        self.view.scene().sigMouseMoved.connect(self._moved)
        self._hovered: tuple[int, int] | None = None

    def set_grid(self, grid: np.ndarray, x_values: Sequence[float], y_values: Sequence[float], x_label: str,
                 y_label: str, objective: str) -> None:
        self.grid = np.asarray(grid, dtype=np.float64)
        self.x_values, self.y_values = list(x_values), list(y_values)
        nx, ny = self.grid.shape
        finite = self.grid[np.isfinite(self.grid)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if hi <= lo:
            hi = lo + 1.0
        # NaN cells (nothing ran, or filtered out by the constraints) show as the lowest colour below the range.
        shown = np.where(np.isfinite(self.grid), self.grid, lo - (hi - lo) * 0.02) if nx and ny else self.grid
        self.image.setImage(shown, autoLevels=False, levels=(lo, hi))
        self.image.setRect(QtCore.QRectF(0, 0, max(nx, 1), max(ny, 1)))
        self.colorbar.setLevels((lo, hi))
        self.colorbar.setLabel("right", objective)
        self.plot.setLabel("bottom", x_label)
        self.plot.setLabel("left", y_label)
        self.plot.getAxis("bottom").setTicks([_ticks(self.x_values)])
        self.plot.getAxis("left").setTicks([_ticks(self.y_values)])
        self.plot.setRange(xRange=(0, max(nx, 1)), yRange=(0, max(ny, 1)), padding=0)

    def mark_best(self, cell: tuple[int, int] | None) -> None:
        """Outline the best cell (None: no point met the constraints)."""
        self.best_cell = cell
        self.best.setVisible(cell is not None)
        if cell is not None:
            self.best.setRect(QtCore.QRectF(cell[0], cell[1], 1, 1))

    def cell_at(self, scene_pos: QtCore.QPointF) -> tuple[int, int] | None:
        """The (ix, iy) cell under a scene position, or None outside the grid."""
        point = self.plot.getViewBox().mapSceneToView(scene_pos)
        ix, iy = math.floor(point.x()), math.floor(point.y())
        nx, ny = self.grid.shape
        return (ix, iy) if 0 <= ix < nx and 0 <= iy < ny else None

    def activate(self, ix: int, iy: int) -> None:
        self.cellActivated.emit(ix, iy)

    def _moved(self, scene_pos: QtCore.QPointF) -> None:
        cell = self.cell_at(scene_pos)
        if cell is not None and cell != self._hovered:
            self.cellHovered.emit(*cell)
        self._hovered = cell

    def _clicked(self, event: object) -> None:
        if not getattr(event, "double", lambda: False)():
            return
        cell = self.cell_at(event.scenePos())  # type: ignore[attr-defined]
        if cell is not None:
            self.activate(*cell)


def _ticks(values: Sequence[float]) -> list[tuple[float, str]]:
    step = max(1, math.ceil(len(values) / 12))  # at most ~12 labels per axis
    return [(i + 0.5, _label(v)) for i, v in enumerate(values) if i % step == 0]
