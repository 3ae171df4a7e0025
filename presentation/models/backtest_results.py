"""Qt models of backtest results: statistics (one run or two side by side), trades, and the run history."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from PyQt6 import QtCore, QtGui

from app.backtests.display import market_money_label, stat_text, underflowed
from app.backtests.ports import RunSummary, StoredRun
from app.backtests.provenance import costs_text, fill_rule, overrides_text
from domain.backtest import STAT_KEYS, TradeTable
from domain.backtest.stats import meaningless_ratio
from domain.backtest.trades import EXIT_REASONS
from domain.costs import priced_as, quote_currency
from presentation.chart.panes import DARK
from presentation.models.market_tree import short_time

if TYPE_CHECKING:
    from app.backtests.service import BacktestService

Index = QtCore.QModelIndex | QtCore.QPersistentModelIndex
_ROLE = QtCore.Qt.ItemDataRole
VALUE_ROLE = _ROLE.UserRole + 1
RIGHT = QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter
UP, DOWN = QtGui.QColor(DARK.up), QtGui.QColor(DARK.down)  # the chart's up/down colours, same in both themes
UP_BRUSH, DOWN_BRUSH = QtGui.QBrush(UP), QtGui.QBrush(DOWN)  # built once, not per data() call

TIME_KEYS = ("Start", "End")


class StatsModel(QtCore.QAbstractTableModel):
    """Rows are the backtesting.py statistics; one column per shown run (two when comparing)."""

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.runs: list[tuple[str, dict[str, Any]]] = []
        self.market: tuple[str, str] | None = None  # (exchange, symbol): money in its quote currency

    def set_runs(self, runs: list[tuple[str, dict[str, Any]]], market: tuple[str, str] | None = None) -> None:
        self.beginResetModel()
        self.runs, self.market = runs, market
        self.endResetModel()

    def label(self, key: str) -> str:
        """The statistic's name as shown: "[$]" in the market's quote currency ("Equity Final [KRW]"); times say
        their zone in the name ("Start (UTC)") so the value column stays narrow."""
        if key in TIME_KEYS:
            return f"{key} (UTC)"
        return market_money_label(key, *self.market) if self.market else key

    def keys(self) -> list[str]:
        known = [k for k in STAT_KEYS if any(k in s for _, s in self.runs)]
        extra = [k for _, s in self.runs for k in s if k not in STAT_KEYS]
        return known + list(dict.fromkeys(extra))

    def value(self, key: str, run: int = 0) -> Any:
        return self.runs[run][1].get(key) if run < len(self.runs) else None

    def rowCount(self, parent: Index = QtCore.QModelIndex()) -> int:
        return 0 if parent.isValid() or not self.runs else len(self.keys())

    def columnCount(self, parent: Index = QtCore.QModelIndex()) -> int:
        return 0 if parent.isValid() else 1 + len(self.runs)

    def data(self, index: Index, role: int = _ROLE.DisplayRole) -> object:
        keys = self.keys()
        if not index.isValid() or index.row() >= len(keys) or index.column() > len(self.runs):
            return None
        key, col = keys[index.row()], index.column()
        if col == 0:
            return self.label(key) if role in (_ROLE.DisplayRole, _ROLE.ToolTipRole) else None
        stats = self.runs[col - 1][1]
        value = stats.get(key)
        if role == _ROLE.DisplayRole:
            text = stat_text(key, value, stats)
            return text.removesuffix(" UTC") if key in TIME_KEYS else text
        if role == VALUE_ROLE:
            return value
        if role == _ROLE.TextAlignmentRole:
            return RIGHT
        if role == _ROLE.ToolTipRole and meaningless_ratio(key, value):
            return (f"{value:.3g}: the run's volatility is too close to zero for this ratio to mean anything "
                    "(too few days, or an almost flat equity curve)")
        if role == _ROLE.ToolTipRole and underflowed(key, value, stats):
            return (f"{value:.3g}: backtesting.py's annualised figure underflows on this run (its formula "
                    "compounds a large loss to ~0); no meaningful value")
        if role == _ROLE.ForegroundRole and key in ("Return [%]", "Avg. Trade [%]") and isinstance(value, float):
            return UP_BRUSH if value >= 0 else DOWN_BRUSH
        return None

    def headerData(self, section: int, orientation: QtCore.Qt.Orientation, role: int = _ROLE.DisplayRole) -> object:
        if role != _ROLE.DisplayRole or orientation != QtCore.Qt.Orientation.Horizontal:
            return None
        if section == 0:
            return "Statistic"
        return self.runs[section - 1][0] if 0 < section <= len(self.runs) else None


# P&L and return right after the times: visible without scrolling sideways at 1440 px
# P&L and Return % right after the side: in view even when the trades share the results with the statistics
TRADE_COLUMNS = ("#", "Side", "P&L", "Return %", "Entry time", "Exit time", "Exit", "Entry price", "Exit price",
                 "Size")
_RIGHT_ALIGNED = frozenset(("P&L", "Return %", "Entry price", "Exit price", "Size"))
_MONEY = (TRADE_COLUMNS.index("P&L"), TRADE_COLUMNS.index("Return %"))


class TradesModel(QtCore.QAbstractTableModel):
    """Closed trades straight from the columnar TradeTable (rows formatted on demand)."""

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.trades = TradeTable.empty()
        self.pnl_decimals = 2

    def set_trades(self, trades: TradeTable, market: tuple[str, str] | None = None) -> None:
        """`market` (exchange, symbol) picks the P&L's decimals: whole won in KRW, as Upbit shows it."""
        self.beginResetModel()
        self.trades = trades
        self.pnl_decimals = 0 if market and quote_currency(priced_as(market[0]), market[1]) == "KRW" else 2
        self.endResetModel()

    def rowCount(self, parent: Index = QtCore.QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.trades)

    def columnCount(self, parent: Index = QtCore.QModelIndex()) -> int:
        return 0 if parent.isValid() else len(TRADE_COLUMNS)

    def data(self, index: Index, role: int = _ROLE.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self.trades) or index.column() >= len(TRADE_COLUMNS):
            return None
        t, i, col = self.trades, index.row(), index.column()
        if role == _ROLE.DisplayRole:
            return _trade_cell(t, i, col, self.pnl_decimals)
        if role == _ROLE.ToolTipRole and TRADE_COLUMNS[col] == "P&L":
            return f"{float(t.pnl[i]):+,.8g}"
        if role == _ROLE.UserRole:
            return (int(t.entry_time[i]), int(t.exit_time[i]))
        if role == _ROLE.TextAlignmentRole and TRADE_COLUMNS[col] in _RIGHT_ALIGNED:
            return RIGHT
        if role == _ROLE.ForegroundRole and col in _MONEY:
            return UP_BRUSH if t.pnl[i] >= 0 else DOWN_BRUSH
        return None

    def headerData(self, section: int, orientation: QtCore.Qt.Orientation, role: int = _ROLE.DisplayRole) -> object:
        if role == _ROLE.DisplayRole and orientation == QtCore.Qt.Orientation.Horizontal \
                and 0 <= section < len(TRADE_COLUMNS):
            return TRADE_COLUMNS[section]
        return None


def _trade_cell(t: TradeTable, i: int, col: int, pnl_decimals: int = 2) -> str:
    name = TRADE_COLUMNS[col]
    if name == "#":
        return str(i + 1)
    if name == "Side":
        return "Long" if t.side[i] > 0 else "Short"
    if name in ("Entry time", "Exit time"):
        return short_time(int((t.entry_time if name == "Entry time" else t.exit_time)[i]))
    if name in ("Entry price", "Exit price"):
        return f"{float((t.entry_price if name == 'Entry price' else t.exit_price)[i]):,.6g}"
    if name == "Size":
        return f"{float(t.size[i]):.8g}"
    if name == "P&L":
        return f"{float(t.pnl[i]):+,.{pnl_decimals}f}"
    if name == "Return %":
        return f"{float(t.return_pct[i]):+.2f}"
    return EXIT_REASONS[int(t.exit_reason[i])].replace("_", " ")


RUN_COLUMNS = ("Run", "Strategy", "Market", "Range", "Return %", "# Trades", "Costs", "Parameters", "When")
OVERRIDDEN = QtGui.QBrush(QtGui.QColor("#ffb74d"))  # a run whose strategy differs from the saved one
PAGE = 100


class RunHistoryModel(QtCore.QAbstractTableModel):
    """Stored runs, newest first, fetched a page at a time as the view scrolls (canFetchMore/fetchMore)."""

    def __init__(self, service: BacktestService, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.rows: list[RunSummary] = []
        self._more = True

    def refresh(self) -> None:
        self.beginResetModel()
        self.rows, self._more = [], True
        self.endResetModel()
        self.fetchMore()

    def canFetchMore(self, parent: Index = QtCore.QModelIndex()) -> bool:
        return not parent.isValid() and self._more

    def fetchMore(self, parent: Index = QtCore.QModelIndex()) -> None:
        if parent.isValid() or not self._more:
            return
        page = self.service.list(limit=PAGE, offset=len(self.rows))
        self._more = len(page) == PAGE
        if page:
            self.beginInsertRows(QtCore.QModelIndex(), len(self.rows), len(self.rows) + len(page) - 1)
            self.rows.extend(page)
            self.endInsertRows()

    def run(self, row: int) -> RunSummary | None:
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def rowCount(self, parent: Index = QtCore.QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QtCore.QModelIndex()) -> int:
        return 0 if parent.isValid() else len(RUN_COLUMNS)

    def data(self, index: Index, role: int = _ROLE.DisplayRole) -> object:
        r = self.run(index.row()) if index.isValid() else None
        if r is None or index.column() >= len(RUN_COLUMNS):
            return None
        col = index.column()
        if role == _ROLE.DisplayRole:
            return (str(r.id), r.strategy_name, f"{r.symbol} {r.timeframe}",
                    f"{short_time(r.start_ms)[:10]} → {short_time(r.end_ms)[:10]}",
                    "—" if r.return_pct is None else f"{r.return_pct:+.2f}", f"{r.trades:,}",
                    costs_text(r.commission, r.slippage), _params(r), short_time(r.created_ms))[col]
        if role == _ROLE.UserRole:
            return r.id
        if role == _ROLE.ToolTipRole:
            return (f"{r.exchange}:{r.symbol}:{r.timeframe}, {r.bars:,} bars; {costs_text(r.commission, r.slippage)}"
                    f"; {_params(r)}" + ("" if not r.overridden else " (open the run to see which)"))
        if role == _ROLE.ForegroundRole and col in (1, 7) and r.overridden:
            return OVERRIDDEN
        if role == _ROLE.TextAlignmentRole and col in (0, 4, 5):
            return RIGHT
        if role == _ROLE.ForegroundRole and col == 4 and r.return_pct is not None:
            return UP_BRUSH if r.return_pct >= 0 else DOWN_BRUSH
        return None

    def headerData(self, section: int, orientation: QtCore.Qt.Orientation, role: int = _ROLE.DisplayRole) -> object:
        if role == _ROLE.DisplayRole and orientation == QtCore.Qt.Orientation.Horizontal \
                and 0 <= section < len(RUN_COLUMNS):
            return RUN_COLUMNS[section]
        return None


def _params(r: RunSummary) -> str:
    if r.strategy_id is None:
        return "from a file"
    return f"{r.overridden} changed" if r.overridden else "as saved"


def run_title(run: StoredRun) -> str:
    s = run.summary
    return f"#{s.id} {s.strategy_name}"


def run_header(run: StoredRun) -> str:
    """What produced the run, in one rich-text line: strategy (changed values highlighted), market, timeframe,
    range, cash, fees, slippage and fill rule."""
    s, settings = run.summary, run.settings
    cash = settings.get("cash")
    quote = quote_currency(priced_as(s.exchange), s.symbol)
    money = "?" if cash is None else f"{cash:,.0f}" + (f" {quote}" if quote else "")
    changed = overrides_text(run.overrides)
    strategy = html.escape(f"#{s.id} {s.strategy_name}", quote=False)
    if changed:
        colour = OVERRIDDEN.color().name()
        strategy += f' <span style="color:{colour}">(changed: {html.escape(changed, quote=False)})</span>'

    details = (f"{s.exchange}:{s.symbol} {s.timeframe} · {short_time(s.start_ms)} → {short_time(s.end_ms)} · "
               f"cash {money} · {costs_text(settings.get('commission'), settings.get('slippage'))} · "
               f"fills {fill_rule(settings)}")
    return f"{strategy} · {html.escape(details, quote=False)}"


def run_label(run: StoredRun) -> str:
    """A column header: the run number (the title above names the strategy)."""
    return f"Run #{run.id}"
