"""The Markets dock: stored series as exchange › market › timeframe, with their bar counts."""

from __future__ import annotations

from PyQt6 import QtCore, QtWidgets

from app.market_data.ports import StoredSeries
from domain.market import SeriesKey
from presentation.models.market_tree import KEY_ROLE, MarketTreeModel
from presentation.services import EXCHANGE_LABELS, EXCHANGES


class MarketDock(QtWidgets.QDockWidget):
    """`picked` says which series the user moved to (click, keys or Enter); `select` moves there quietly."""

    picked = QtCore.pyqtSignal(object)  # SeriesKey

    def __init__(self, parent: QtWidgets.QWidget) -> None:
        super().__init__("Markets", parent)
        self.setObjectName("marketDock")
        self.setMinimumWidth(340)
        self.markets = MarketTreeModel(EXCHANGES, EXCHANGE_LABELS, self)
        tree = self.tree = QtWidgets.QTreeView()
        tree.setObjectName("marketTree")
        tree.setModel(self.markets)
        tree.setUniformRowHeights(True)
        tree.setAlternatingRowColors(True)
        header, selection = tree.header(), tree.selectionModel()
        assert header is not None and selection is not None  # a view with a model has both
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        for col, width in ((1, 64), (2, 118), (3, 118)):
            tree.setColumnWidth(col, width)
        tree.setColumnHidden(2, True)  # the tooltip and the Data tab show the whole range
        selection.currentChanged.connect(self._on_current)
        tree.activated.connect(self._on_current)
        self.setWidget(tree)

    def _on_current(self, index: QtCore.QModelIndex) -> None:
        key = index.siblingAtColumn(0).data(KEY_ROLE) if index.isValid() else None
        if isinstance(key, SeriesKey):
            self.picked.emit(key)

    def current_key(self) -> SeriesKey | None:
        key = self.tree.currentIndex().data(KEY_ROLE)
        return key if isinstance(key, SeriesKey) else None

    def reset(self, stored: list[StoredSeries]) -> None:
        """Show `stored`, keeping the current series selected (without telling anyone)."""
        current = self.current_key()
        self.markets.reset_series(stored)
        self.tree.expandToDepth(1)
        if current is not None:
            self.select(current)

    def select(self, key: SeriesKey) -> bool:
        """Make `key` current without emitting `picked`; False when it is not listed."""
        index = self.markets.index_of(key)
        if not index.isValid():
            return False
        selection = self.tree.selectionModel()
        if selection is not None:
            selection.blockSignals(True)  # currentChanged comes from the selection model, not the view
        self.tree.setCurrentIndex(index)
        viewport = self.tree.viewport()
        if viewport is not None:
            viewport.update()
        if selection is not None:
            selection.blockSignals(False)
        return True

    def pick_first(self) -> None:
        """Make the first stored series current (and tell it), when there is one."""
        first = self.markets.first_series()
        if first.isValid():
            self.tree.setCurrentIndex(first)
