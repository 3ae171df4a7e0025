"""The strategy list as a lazy table model: a bounded window of SQL pages; filtering and sorting happen in SQL."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace
from typing import Protocol

from PyQt6 import QtCore

from app.strategies.ports import Page, PageCursor, StrategyQuery, StrategySummary
from presentation.models.backtest_results import DOWN_BRUSH, UP_BRUSH
from presentation.models.market_tree import short_time

Index = QtCore.QModelIndex | QtCore.QPersistentModelIndex
_ROLE = QtCore.Qt.ItemDataRole
ID_ROLE = _ROLE.UserRole + 1
SUMMARY_ROLE = _ROLE.UserRole + 2
COLUMNS = ("Name", "Direction", "Tags", "Updated", "Last return", "# Trades")
SORT_COLUMNS = {0: "name", 3: "updated"}  # the orders the store keeps an index for
DIRECTION_LABELS = {"long_only": "Long", "short_only": "Short", "long_short": "Long & short"}
BLOCK = 100
MAX_BLOCKS = 30  # at most 3,000 rows in memory however long the list
_RIGHT = QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter
_FLAGS = QtCore.Qt.ItemFlag.ItemIsEnabled | QtCore.Qt.ItemFlag.ItemIsSelectable
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_ROLES = frozenset({_ROLE.DisplayRole, ID_ROLE, SUMMARY_ROLE, _ROLE.ToolTipRole, _ROLE.TextAlignmentRole,
                    _ROLE.ForegroundRole})


class StrategySource(Protocol):
    """What the model reads (app.strategies.service.StrategyService)."""

    def count(self, query: StrategyQuery | None = None) -> int: ...

    def page(self, query: StrategyQuery | None = None, limit: int = 100, after: PageCursor | None = None) -> Page: ...

    def page_at(self, query: StrategyQuery | None, offset: int, limit: int = 100) -> list[StrategySummary]: ...


def cursor_of(query: StrategyQuery, row: StrategySummary) -> PageCursor:
    return PageCursor(row.name if query.sort == "name" else row.updated_ms, row.id)


def flipped(query: StrategyQuery) -> StrategyQuery:
    return replace(query, descending=not query.descending)


class StrategyListModel(QtCore.QAbstractTableModel):
    """Rows are fetched a block of 100 at a time when the view asks for them; the least recently used
    blocks are dropped. A block next to a cached one is read by keyset (an index seek); a far jump reads
    by offset from whichever end of the list is nearer."""

    def __init__(self, source: StrategySource, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.query = StrategyQuery()
        self._count = 0
        self._blocks: OrderedDict[int, list[tuple[StrategySummary, tuple[str, ...]]]] = OrderedDict()
        self._last = -1
        self._hit_row: int = -1
        self._hit: tuple[StrategySummary, tuple[str, ...]] | None = None
        self.reads = 0
        self.refresh()

    # ---- our API --------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-count and drop the cache (after a change to the store or the query)."""
        self.beginResetModel()
        self._blocks.clear()
        self._last = -1
        self._hit_row, self._hit = -1, None
        self._count = self.source.count(self.query)
        self.endResetModel()

    def set_query(self, query: StrategyQuery) -> None:
        if query != self.query:
            self.query = query
            self.refresh()

    def set_filter(self, text: str, tag: str | None) -> None:
        self.set_query(replace(self.query, name_contains=text.strip(), tag=tag or None))

    def summary(self, row: int) -> StrategySummary | None:
        found = self._row(row)
        return found[0] if found is not None else None

    def _row(self, row: int) -> tuple[StrategySummary, tuple[str, ...]] | None:
        if row == self._hit_row:  # a view asks for one row's cells and roles in a burst
            return self._hit
        found = self._lookup(row)
        self._hit_row, self._hit = (row, found) if found is not None else (-1, None)
        return found

    def _lookup(self, row: int) -> tuple[StrategySummary, tuple[str, ...]] | None:
        if not 0 <= row < self._count:
            return None
        b = row // BLOCK
        block = self._blocks.get(b)
        if block is None:
            block = self._load(b)
        elif b != self._last:
            self._blocks.move_to_end(b)
        self._last = b
        i = row - b * BLOCK
        if i >= len(block):
            return None
        s, cells = block[i]
        if not cells:
            block[i] = (s, tuple(_cell(s, c) for c in range(len(COLUMNS))))
        return block[i]

    def row_of(self, strategy_id: int) -> int:
        """The row of a cached strategy, or -1."""
        for b, block in self._blocks.items():
            for i, (s, _) in enumerate(block):
                if s.id == strategy_id:
                    return b * BLOCK + i
        return -1

    def locate(self, target: StrategySummary) -> int:
        """The row of `target` in the current order, by bisection (about 17 reads for 100,000 rows), or -1."""
        key = self._sort_key
        lo, hi = 0, self._count
        while lo < hi:
            mid = (lo + hi) // 2
            s = self.summary(mid)
            if s is not None and key(s) < key(target):
                lo = mid + 1
            else:
                hi = mid
        found = self.summary(lo)
        return lo if found is not None and found.id == target.id else -1

    def _sort_key(self, s: StrategySummary) -> tuple[object, ...]:
        """The store's order as a Python key: names compare as SQLite's NOCASE does (ASCII case folded)."""
        sign = -1 if self.query.descending else 1
        if self.query.sort == "name":
            folded = s.name.translate(_ASCII_LOWER).encode()
            return (bytes(255 - b for b in folded) + b"\xff",) if sign < 0 else (folded,)
        return (sign * s.updated_ms, sign * s.id)

    @property
    def cached_rows(self) -> int:
        return sum(len(b) for b in self._blocks.values())

    def _load(self, b: int) -> list[tuple[StrategySummary, tuple[str, ...]]]:
        offset = b * BLOCK
        n = min(BLOCK, self._count - offset)
        before, after = self._blocks.get(b - 1), self._blocks.get(b + 1)
        if before and len(before) == BLOCK:
            rows = list(self.source.page(self.query, n, cursor_of(self.query, before[-1][0])).items)
        elif after:
            rows = list(self.source.page(flipped(self.query), n, cursor_of(self.query, after[0][0])).items)[::-1]
        else:  # a far jump: read this block and the next in one query (a screen often straddles two)
            n2 = min(2 * BLOCK, self._count - offset)
            if offset > self._count // 2:
                rows = self.source.page_at(flipped(self.query), self._count - offset - n2, n2)[::-1]
            else:
                rows = self.source.page_at(self.query, offset, n2)
            if len(rows) > BLOCK and b + 1 not in self._blocks:
                self._blocks[b + 1] = [(s, ()) for s in rows[BLOCK:]]
            rows = rows[:BLOCK]
        self.reads += 1
        block: list[tuple[StrategySummary, tuple[str, ...]]] = [(s, ()) for s in rows]  # cells made when shown
        self._blocks[b] = block
        while len(self._blocks) > MAX_BLOCKS:
            self._blocks.popitem(last=False)
        return block

    # ---- Qt overrides ---------------------------------------------------------------------------------
    def rowCount(self, parent: Index = QtCore.QModelIndex()) -> int:
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: Index = QtCore.QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = _ROLE.DisplayRole) -> object:
        if role not in _ROLES or not index.isValid():  # the view asks ~10 roles per cell: answer most at once
            return None
        row = self._row(index.row())
        if row is None:
            return None
        s, cells = row
        col = index.column()
        if role == _ROLE.DisplayRole:
            return cells[col] if col < len(cells) else None
        if role == ID_ROLE:
            return s.id
        if role == SUMMARY_ROLE:
            return s
        if role == _ROLE.ToolTipRole:
            return s.notes or None
        if role == _ROLE.TextAlignmentRole:
            return _RIGHT if col >= 4 else None
        if col == 4 and s.last_backtest_return is not None:  # ForegroundRole
            return UP_BRUSH if s.last_backtest_return >= 0 else DOWN_BRUSH
        return None

    def headerData(self, section: int, orientation: QtCore.Qt.Orientation, role: int = _ROLE.DisplayRole) -> object:
        if orientation != QtCore.Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == _ROLE.DisplayRole:
            return COLUMNS[section]
        if role == _ROLE.ToolTipRole:
            return "Click to sort" if section in SORT_COLUMNS else "Sort by Name or Updated"
        return None

    def flags(self, index: Index) -> QtCore.Qt.ItemFlag:
        return _FLAGS if index.isValid() else QtCore.Qt.ItemFlag.NoItemFlags

    def sort(self, column: int, order: QtCore.Qt.SortOrder = QtCore.Qt.SortOrder.AscendingOrder) -> None:
        key = SORT_COLUMNS.get(column)
        if key is not None:
            self.set_query(replace(self.query, sort=key,  # type: ignore[arg-type]
                                   descending=order == QtCore.Qt.SortOrder.DescendingOrder))


def _cell(s: StrategySummary, col: int) -> str:
    if col == 0:
        return s.name
    if col == 1:
        return DIRECTION_LABELS.get(s.direction, s.direction)
    if col == 2:
        return ", ".join(s.tags)
    if col == 3:
        return short_time(s.updated_ms)
    if col == 4:
        return "" if s.last_backtest_return is None else f"{s.last_backtest_return:+.2f} %"
    return "" if s.last_backtest_trades is None else f"{s.last_backtest_trades:,}"
