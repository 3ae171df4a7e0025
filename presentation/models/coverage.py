"""Table model of one series' coverage: stored runs, ranges known to be empty, and unfetched holes."""

from __future__ import annotations

from dataclasses import dataclass

from PyQt6 import QtCore, QtGui

from domain.market import Coverage
from domain.market.intervals import intersect, total
from presentation.models.market_tree import short_time

Index = QtCore.QModelIndex | QtCore.QPersistentModelIndex
HEADERS = ("Kind", "From", "To", "Bars", "No-trade bars")
_ROLE = QtCore.Qt.ItemDataRole
KIND_COLORS = {"Covered": "#26a69a", "Known empty": "#8c8f99", "Hole": "#ef5350"}


@dataclass(frozen=True, slots=True)
class Span:
    """A covered run (stored bars plus minutes known to have had no trades), a run known to have had no trades
    at all ("Known empty", e.g. before a market's listing) or a hole nobody fetched yet."""

    kind: str
    start: int
    end: int
    bars: int
    quiet: int = 0


def spans_of(cov: Coverage) -> list[Span]:
    """Covered runs and holes in time order, with stored and known-empty bar counts."""
    ms = cov.timeframe.ms
    out = []
    for a, b in cov.covered:
        bars = total(intersect(cov.stored, [(a, b)])) // ms
        out.append(Span("Covered" if bars else "Known empty", a, b, bars,
                        total(intersect(cov.known_empty, [(a, b)])) // ms))
    out += [Span("Hole", a, b, 0, 0) for a, b in cov.holes()]
    return sorted(out, key=lambda s: s.start)


class CoverageModel(QtCore.QAbstractTableModel):
    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.spans: list[Span] = []

    def set_coverage(self, cov: Coverage | None) -> None:
        self.beginResetModel()
        self.spans = spans_of(cov) if cov is not None else []
        self.endResetModel()

    def rowCount(self, parent: Index = QtCore.QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.spans)

    def columnCount(self, parent: Index = QtCore.QModelIndex()) -> int:
        return 0 if parent.isValid() else len(HEADERS)

    def data(self, index: Index, role: int = _ROLE.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self.spans):
            return None
        s = self.spans[index.row()]
        col = index.column()
        if role == _ROLE.DisplayRole:
            return (s.kind, short_time(s.start), short_time(s.end), f"{s.bars:,}", f"{s.quiet:,}")[col]
        if role == _ROLE.ForegroundRole and col == 0:
            return QtGui.QBrush(QtGui.QColor(KIND_COLORS[s.kind]))
        if role == _ROLE.TextAlignmentRole and col >= 3:
            return QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter
        if role == _ROLE.UserRole:
            return (s.start, s.end)
        return None

    def headerData(self, section: int, orientation: QtCore.Qt.Orientation,
                   role: int = _ROLE.DisplayRole) -> object:
        horizontal = orientation == QtCore.Qt.Orientation.Horizontal
        if horizontal and role == _ROLE.DisplayRole and 0 <= section < len(HEADERS):
            return HEADERS[section]
        return None
