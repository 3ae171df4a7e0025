"""Tree model of stored series: exchange → market → timeframe, with bar counts and stored range."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from PyQt6 import QtCore

from app.market_data.ports import StoredSeries
from domain.market import SeriesKey, Timeframe

Index = QtCore.QModelIndex | QtCore.QPersistentModelIndex
KEY_ROLE = QtCore.Qt.ItemDataRole.UserRole + 1
HEADERS = ("Market", "Bars", "First bar", "Last bar")
_ROLE = QtCore.Qt.ItemDataRole


@dataclass(eq=False)
class Node:
    """One row: an exchange, a market, or a stored series (timeframe)."""

    name: str
    parent: Node | None = None
    children: list[Node] = field(default_factory=list)
    stored: StoredSeries | None = None

    def row(self) -> int:
        return self.parent.children.index(self) if self.parent else 0

    def bars(self) -> int:
        if self.stored is not None:
            return self.stored.rows
        return sum(c.bars() for c in self.children)


def short_time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000).astimezone().strftime("%Y-%m-%d %H:%M")


def brief_time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000).astimezone().strftime("%b %d %H:%M")


def build_tree(series: list[StoredSeries], exchanges: tuple[str, ...], labels: dict[str, str]) -> Node:
    """Exchanges in the given order (always listed), then any others found in the store."""
    root = Node("")
    by_exchange: dict[str, Node] = {}
    extra = sorted({s.key.exchange for s in series} - set(exchanges))
    for ex in (*exchanges, *extra):
        node = Node(labels.get(ex, ex), root)
        root.children.append(node)
        by_exchange[ex] = node
    order = {tf: i for i, tf in enumerate(Timeframe)}
    for s in sorted(series, key=lambda s: (s.key.exchange, s.key.symbol, order[s.key.timeframe])):
        ex = by_exchange[s.key.exchange]
        market = next((m for m in ex.children if m.name == s.key.symbol), None)
        if market is None:
            market = Node(s.key.symbol, ex)
            ex.children.append(market)
        market.children.append(Node(s.key.timeframe.code, market, stored=s))
    return root


class MarketTreeModel(QtCore.QAbstractItemModel):
    """Read-only tree; `reset_series` replaces the content (the store is the source of truth)."""

    def __init__(self, exchanges: tuple[str, ...] = (), labels: dict[str, str] | None = None,
                 parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._exchanges = exchanges
        self._labels = labels or {}
        self._root = build_tree([], exchanges, self._labels)

    def reset_series(self, series: list[StoredSeries]) -> None:
        self.beginResetModel()
        self._root = build_tree(series, self._exchanges, self._labels)
        self.endResetModel()

    def node(self, index: Index) -> Node:
        if index.isValid():
            node = index.internalPointer()
            if isinstance(node, Node):
                return node
        return self._root

    def index_of(self, key: SeriesKey) -> QtCore.QModelIndex:
        for ex in self._root.children:
            for market in ex.children:
                for tf in market.children:
                    if tf.stored is not None and tf.stored.key == key:
                        return self.createIndex(tf.row(), 0, tf)
        return QtCore.QModelIndex()

    def first_series(self) -> QtCore.QModelIndex:
        for ex in self._root.children:
            for market in ex.children:
                if market.children:
                    return self.createIndex(0, 0, market.children[0])
        return QtCore.QModelIndex()

    # ---- Qt overrides -------------------------------------------------------------------------------
    def index(self, row: int, column: int, parent: Index = QtCore.QModelIndex()) -> QtCore.QModelIndex:
        if not self.hasIndex(row, column, parent):
            return QtCore.QModelIndex()
        return self.createIndex(row, column, self.node(parent).children[row])

    def parent(self, index: Index = QtCore.QModelIndex()) -> QtCore.QModelIndex:  # type: ignore[override]
        if not index.isValid():
            return QtCore.QModelIndex()
        up = self.node(index).parent
        if up is None or up is self._root:
            return QtCore.QModelIndex()
        return self.createIndex(up.row(), 0, up)

    def rowCount(self, parent: Index = QtCore.QModelIndex()) -> int:
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self.node(parent).children)

    def columnCount(self, parent: Index = QtCore.QModelIndex()) -> int:
        return len(HEADERS)

    def data(self, index: Index, role: int = _ROLE.DisplayRole) -> object:
        if not index.isValid():
            return None
        node = self.node(index)
        col = index.column()
        if role == _ROLE.DisplayRole:
            return self._display(node, col)
        if role == KEY_ROLE:
            return node.stored.key if node.stored else None
        if role == _ROLE.TextAlignmentRole and col == 1:
            return QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter
        if role == _ROLE.ToolTipRole and node.stored is not None:
            s = node.stored
            return f"{s.key}\n{s.rows:,} bars\n{short_time(s.first_ts)} → {short_time(s.last_ts)}"
        return None

    def _display(self, node: Node, col: int) -> str | None:
        if col == 0:
            return node.name
        if col == 1:
            n = node.bars()
            return f"{n:,}" if n or node.stored else ""
        if node.stored is None:
            return ""
        return brief_time(node.stored.first_ts if col == 2 else node.stored.last_ts)

    def headerData(self, section: int, orientation: QtCore.Qt.Orientation,
                   role: int = _ROLE.DisplayRole) -> object:
        horizontal = orientation == QtCore.Qt.Orientation.Horizontal
        if horizontal and role == _ROLE.DisplayRole and 0 <= section < len(HEADERS):
            return HEADERS[section]
        return None

    def flags(self, index: Index) -> QtCore.Qt.ItemFlag:
        if not index.isValid():
            return QtCore.Qt.ItemFlag.NoItemFlags
        return QtCore.Qt.ItemFlag.ItemIsEnabled | QtCore.Qt.ItemFlag.ItemIsSelectable
