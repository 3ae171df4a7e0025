"""Strategies tab: the lazily paged list with debounced search, tag filter, multi-select and a context menu."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PyQt6 import QtCore, QtGui, QtWidgets

from app.errors import UserError
from presentation.models.strategy_list import COLUMNS, ID_ROLE, SORT_COLUMNS, StrategyListModel

if TYPE_CHECKING:
    from app.strategies.service import StrategyService

log = logging.getLogger("quantdesk.gui")
DEBOUNCE_MS = 200
WIDTHS = (300, 110, 200, 140, 110)  # fixed: measuring 100,000 rows to fit them would read them all
ALL_TAGS = "All tags"


class StrategiesTab(QtWidgets.QWidget):
    """Sends `openRequested(id)` (open in the builder), `backtestRequested(id)` and `newRequested()`."""

    openRequested = QtCore.pyqtSignal(int)
    backtestRequested = QtCore.pyqtSignal(int)
    newRequested = QtCore.pyqtSignal()
    changed = QtCore.pyqtSignal()

    def __init__(self, service: StrategyService, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.model = StrategyListModel(service, self)
        self.confirm: Callable[[str, str], bool] = self._ask  # replaced by tests
        self.save_path: Callable[[str], str | None] = self._ask_path
        self.undo_docs: str | None = None
        self.search = QtWidgets.QLineEdit()
        self.search.setPlaceholderText("Search names…  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setObjectName("strategySearch")
        self.debounce = QtCore.QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self.debounce.timeout.connect(self.apply_filter)
        self.search.textChanged.connect(lambda _: self.debounce.start())
        QtGui.QShortcut(QtGui.QKeySequence("Ctrl+F"), self, self.search.setFocus)
        self.tag = QtWidgets.QComboBox()
        self.tag.setMinimumWidth(160)
        self.tag.setToolTip("Show only strategies with this tag")
        self.tag.activated.connect(lambda _: self.apply_filter())
        self.count = QtWidgets.QLabel("")
        self.count.setObjectName("hint")
        self.banner = QtWidgets.QLabel("")
        self.banner.setObjectName("hint")
        self.undo_btn = QtWidgets.QPushButton("Undo delete")
        self.undo_btn.clicked.connect(self.undo_delete)
        self.view = self._table()
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(12, 12, 12, 12)
        lay.addLayout(self._toolbar())
        lay.addWidget(self.view, 1)
        bottom = QtWidgets.QHBoxLayout()
        bottom.addWidget(self.banner, 1)
        bottom.addWidget(self.undo_btn)
        lay.addLayout(bottom)
        self._show_banner("")
        self.refresh_tags()
        self._update_count()

    # ---- building ---------------------------------------------------------------------------------------
    def _toolbar(self) -> QtWidgets.QHBoxLayout:
        bar = QtWidgets.QHBoxLayout()
        new = QtWidgets.QPushButton("New strategy")
        new.setProperty("primary", True)
        new.clicked.connect(self.newRequested.emit)
        for w in (self.search,):
            bar.addWidget(w, 2)
        bar.addWidget(self.tag)
        bar.addWidget(self.count, 1)
        bar.addWidget(new)
        return bar

    def _table(self) -> QtWidgets.QTableView:
        view = QtWidgets.QTableView()
        view.setObjectName("strategyList")
        view.setModel(self.model)
        view.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.ExtendedSelection)
        view.setAlternatingRowColors(True)
        view.setWordWrap(False)
        view.setShowGrid(False)
        view.verticalHeader().setVisible(False)
        view.verticalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Fixed)
        view.verticalHeader().setDefaultSectionSize(26)
        header = view.horizontalHeader()
        header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for col, width in enumerate(WIDTHS):
            view.setColumnWidth(col, width)
        header.setSortIndicatorShown(True)
        header.setSortIndicator(0, QtCore.Qt.SortOrder.AscendingOrder)
        header.setSectionsClickable(True)
        header.sectionClicked.connect(self._on_header)
        view.setContextMenuPolicy(QtCore.Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(self._menu)
        view.doubleClicked.connect(lambda i: self.openRequested.emit(int(i.data(ID_ROLE))))
        QtGui.QShortcut(QtGui.QKeySequence.StandardKey.Delete, view, self.delete_selected,
                        context=QtCore.Qt.ShortcutContext.WidgetShortcut)
        return view

    # ---- filter, sort, refresh ----------------------------------------------------------------------------
    def apply_filter(self) -> None:
        self.debounce.stop()
        tag = self.tag.currentData()
        self.model.set_filter(self.search.text(), tag if isinstance(tag, str) else None)
        self._update_count()

    def _on_header(self, column: int) -> None:
        query = self.model.query
        if column not in SORT_COLUMNS:
            self._show_banner("The list sorts by Name or Updated.")
        else:
            same = SORT_COLUMNS[column] == query.sort
            order = QtCore.Qt.SortOrder.DescendingOrder if same and not query.descending \
                else QtCore.Qt.SortOrder.AscendingOrder
            self.model.sort(column, order)
        current = next(c for c, k in SORT_COLUMNS.items() if k == self.model.query.sort)
        desc = QtCore.Qt.SortOrder.DescendingOrder if self.model.query.descending \
            else QtCore.Qt.SortOrder.AscendingOrder
        self.view.horizontalHeader().setSortIndicator(current, desc)

    def refresh(self) -> None:
        """Re-read after the store changed (keeps the filter, the order and the selection by id)."""
        keep = set(self.selected_ids())
        self.model.refresh()
        self.refresh_tags()
        self._update_count()
        for sid in keep:
            row = self.model.row_of(sid)
            if row >= 0:
                self.view.selectionModel().select(self.model.index(row, 0), _ROWS)

    def refresh_tags(self) -> None:
        current = self.tag.currentData()
        self.tag.blockSignals(True)
        self.tag.clear()
        self.tag.addItem(ALL_TAGS, None)
        tags = getattr(self.service, "tags", None)
        for name, n in (tags() if tags else []):
            self.tag.addItem(f"{name}  ({n:,})", name)
        i = self.tag.findData(current) if current else 0
        self.tag.setCurrentIndex(max(0, i))
        self.tag.blockSignals(False)

    def _update_count(self) -> None:
        n = self.model.rowCount()
        self.count.setText(f"{n:,} strateg{'y' if n == 1 else 'ies'}")

    def selected_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        return [int(self.model.index(r, 0).data(ID_ROLE)) for r in rows]

    def select_id(self, strategy_id: int) -> bool:
        """Select and show a strategy (found by bisection when it is not among the rows read so far)."""
        row = self.model.row_of(strategy_id)
        record = self.service.get(strategy_id) if row < 0 else None
        if record is not None:
            row = self.model.locate(record.summary)
        if row >= 0:
            self.view.selectRow(row)
            self.view.scrollTo(self.model.index(row, 0))
        return row >= 0

    # ---- actions ----------------------------------------------------------------------------------------
    def _menu(self, pos: QtCore.QPoint) -> None:
        ids = self.selected_ids()
        menu = QtWidgets.QMenu(self)
        one = len(ids) == 1
        for text, slot, enabled in (
                ("Open in builder", lambda: self.openRequested.emit(ids[0]), one),
                ("Run backtest…", lambda: self.backtestRequested.emit(ids[0]), one),
                (None, None, True),
                (f"Duplicate ({len(ids)})" if len(ids) > 1 else "Duplicate", self.duplicate_selected, bool(ids)),
                ("Export JSON…", self.export_selected, bool(ids)),
                (None, None, True),
                (f"Delete {len(ids)}…" if len(ids) > 1 else "Delete…", self.delete_selected, bool(ids))):
            if text is None:
                menu.addSeparator()
                continue
            act = menu.addAction(text)
            act.setEnabled(enabled)
            act.triggered.connect(slot)
        menu.popup(self.view.viewport().mapToGlobal(pos))
        self.menu = menu

    def duplicate_selected(self) -> list[int]:
        made = []
        for sid in self.selected_ids():
            result = self.service.duplicate(sid)
            if result.ok:
                made.append(result.record.id)
            else:
                self._show_banner("; ".join(str(e) for e in result.errors))
        if made:
            self._show_banner(f"Duplicated {len(made)} strateg{'y' if len(made) == 1 else 'ies'}.")
        self._changed()
        return made

    def delete_selected(self) -> int:
        ids = self.selected_ids()
        if not ids:
            return 0
        names = [str(self.model.index(self.model.row_of(i), 0).data()) for i in ids]
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        if not self.confirm("Delete strategies", f"Delete {shown}?\nTheir backtest runs are kept. "
                            "You can undo this until the next delete."):
            return 0
        self.undo_docs = self.service.export_json(ids)
        deleted = sum(bool(self.service.delete(i)) for i in ids)
        self._show_banner(f"Deleted {deleted} strateg{'y' if deleted == 1 else 'ies'}.", undo=True)
        self._changed()
        return deleted

    def undo_delete(self) -> None:
        if not self.undo_docs:
            return
        result = self.service.import_texts([("deleted strategies", self.undo_docs)])
        self.undo_docs = None
        if result.ok:
            self._show_banner(f"Restored {', '.join(result.created)}.")
        else:
            self._show_banner("Could not restore: " + "; ".join(str(e) for e in result.errors))
        self._changed()

    def export_selected(self, path: str | None = None) -> Path | None:
        ids = self.selected_ids()
        if not ids:
            return None
        target = path or self.save_path("strategies.json" if len(ids) > 1 else "strategy.json")
        if not target:
            return None
        try:
            Path(target).write_text(self.service.export_json(ids), encoding="utf-8")
        except (OSError, UserError) as err:
            self._show_banner(f"Export failed: {err}")
            return None
        self._show_banner(f"Exported {len(ids)} to {target}.")
        return Path(target)

    def _changed(self) -> None:
        self.refresh()
        self.changed.emit()

    def _show_banner(self, text: str, undo: bool = False) -> None:
        self.banner.setText(text)
        self.undo_btn.setVisible(undo)
        if text:
            log.info("%s", text)

    def _ask(self, title: str, text: str) -> bool:
        answer = QtWidgets.QMessageBox.question(self, title, text)
        return answer == QtWidgets.QMessageBox.StandardButton.Yes

    def _ask_path(self, suggested: str) -> str | None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Export strategies", suggested, "JSON (*.json)")
        return path or None


_ROWS = QtCore.QItemSelectionModel.SelectionFlag.Select | QtCore.QItemSelectionModel.SelectionFlag.Rows
__all__ = ["COLUMNS", "StrategiesTab"]
