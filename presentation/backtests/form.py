"""The backtest form: strategy, stored series (exchange, market, timeframe), range, cash and costs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from PyQt6 import QtCore, QtWidgets

from app.backtests.service import RunBacktest
from app.errors import UserError
from app.strategies.ports import StrategyQuery
from domain.backtest import BacktestSettings
from domain.market import SeriesKey, Timeframe
from domain.strategy import Strategy
from presentation.backtests.costs import CostsFields
from presentation.backtests.futures import FuturesFields
from presentation.services import EXCHANGE_LABELS
from presentation.widgets.forms import date_edit, group, ms_of

if TYPE_CHECKING:
    from app.strategies.service import StrategyService
    from presentation.services import Services

CHOICES = 200  # strategies offered at once; the search box narrows 100,000 down to these


class RunForm(QtWidgets.QWidget):
    """Collects a RunBacktest; `command()` raises UserError naming what is missing."""

    def __init__(self, strategies: StrategyService, services: Services,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.strategies, self.services = strategies, services
        self.stored: dict[SeriesKey, Any] = {}
        self.snapshot: tuple[int | None, Strategy] | None = None  # set by "Load these settings"
        self.find = QtWidgets.QLineEdit()
        self.find.setPlaceholderText("Filter strategies by name")
        self.find.setClearButtonEnabled(True)
        self.find_timer = QtCore.QTimer(self, singleShot=True, interval=200)
        self.find_timer.timeout.connect(self.refresh_strategies)
        self.find.textChanged.connect(lambda _: self.find_timer.start())
        self.strategy = QtWidgets.QComboBox()
        self.strategy.setMinimumContentsLength(20)
        self.strategy.activated.connect(lambda _: setattr(self, "snapshot", None))  # the user picked another
        self.exchange, self.market, self.timeframe = QtWidgets.QComboBox(), QtWidgets.QComboBox(), QtWidgets.QComboBox()
        # `activated` (user picks) rather than currentIndexChanged: a combo being torn down emits the latter
        self.exchange.activated.connect(lambda _: self._fill_markets())
        self.market.activated.connect(lambda _: self._fill_timeframes())
        self.timeframe.activated.connect(lambda _: self._fill_range())
        today = datetime.now(UTC).date()
        self.start, self.end = date_edit(today), date_edit(today)
        self.costs = CostsFields()
        self.cash, self.commission, self.slippage = self.costs.cash, self.costs.fee, self.costs.slippage
        self.futures = FuturesFields(services)
        self.range_timer = QtCore.QTimer(self, singleShot=True, interval=250)  # coverage reads the store: debounce
        self.range_timer.timeout.connect(self._range_changed)
        for edit in (self.start, self.end):
            edit.dateTimeChanged.connect(lambda _: self.range_timer.start())
        self.on_close = _choice((("next bar's open", False), ("signal bar's close", True)),
                                "Where market orders fill: the next bar's open (default) or the close of "
                                "the bar whose close produced the signal")
        self.finalize = _choice((("stays open", False), ("closed at the last close", True)),
                                "A position still open at the end: left open (not a trade), or closed and "
                                "counted with exit reason 'end' (backtesting.py's finalize_trades)")
        adjust = QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        for combo, chars in ((self.exchange, 5), (self.market, 9), (self.timeframe, 3)):  # "KRW-BTC", "BTCUSDT"
            combo.setSizeAdjustPolicy(adjust)
            combo.setMinimumContentsLength(chars)
        self.exchange.setToolTip("Exchange of the stored candles")
        self.market.setToolTip("Market of the stored candles")
        self.timeframe.setToolTip("Bar length of the stored candles")
        self.box = group("Backtest", [("Find", self.find), ("Strategy", self.strategy),
                                      ("Candles", _row((self.exchange, 2), (self.market, 3))),
                                      ("Timeframe", self.timeframe),
                                      ("From (UTC)", self.start), ("To (UTC, excl.)", self.end),
                                      ("Fills at", self.on_close), ("Open at end", self.finalize)])
        self._add_costs_rows(6)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.box)
        self.refresh_strategies()
        self.refresh_series()

    def _add_costs_rows(self, at: int) -> None:
        """Cash, fee and slippage under the range, with labels that follow the market ("Cash (KRW)")."""
        rows = self.box.layout()
        assert isinstance(rows, QtWidgets.QFormLayout)
        f = self.futures
        for i, (label, field) in enumerate(((self.costs.cash_label, self.cash), (self.costs.fee_label, self.commission),
                                            (self.costs.slippage_label, self.slippage),
                                            (f.leverage_label, f.leverage_row()), (f.funding_label, f.funding_row()))):
            rows.insertRow(at + i, label, field)

    # ---- strategies --------------------------------------------------------------------------------------
    def refresh_strategies(self) -> None:
        current = self.strategy.currentData()
        self.strategy.blockSignals(True)
        self.strategy.clear()
        query = StrategyQuery(name_contains=self.find.text().strip(), sort="updated", descending=True)
        for s in self.strategies.page(query, CHOICES).items:
            self.strategy.addItem(s.name, s.id)
        i = self.strategy.findData(current) if current is not None else 0
        self.strategy.setCurrentIndex(max(0, i))
        self.strategy.blockSignals(False)

    def set_strategy(self, strategy_id: int) -> bool:
        if self.strategy.findData(strategy_id) < 0:
            record = self.strategies.get(strategy_id)
            if record is None:
                return False
            self.strategy.insertItem(0, record.name, record.id)
        self.strategy.setCurrentIndex(self.strategy.findData(strategy_id))
        return True

    # ---- series -----------------------------------------------------------------------------------------
    def refresh_series(self) -> None:
        self.stored = {s.key: s for s in self.services.stored()}
        current = self.exchange.currentData()
        self.exchange.blockSignals(True)
        self.exchange.clear()
        for ex in dict.fromkeys(k.exchange for k in self.stored):
            self.exchange.addItem(EXCHANGE_LABELS.get(ex, ex), ex)
        self.exchange.setCurrentIndex(max(0, self.exchange.findData(current)))
        self.exchange.blockSignals(False)
        self._fill_markets()

    def set_series(self, key: SeriesKey) -> bool:
        if key not in self.stored:
            return False
        self.exchange.setCurrentIndex(self.exchange.findData(key.exchange))
        self._fill_markets()
        self.market.setCurrentIndex(self.market.findData(key.symbol))
        self._fill_timeframes()
        self.timeframe.setCurrentIndex(self.timeframe.findData(key.timeframe.code))
        self._fill_range()
        return True

    def _fill_markets(self) -> None:
        ex, current = self.exchange.currentData(), self.market.currentData()
        _refill(self.market, [(k.symbol, k.symbol) for k in self.stored if k.exchange == ex], current)
        self._fill_timeframes()

    def _fill_timeframes(self) -> None:
        ex, sym, current = self.exchange.currentData(), self.market.currentData(), self.timeframe.currentData()
        keys = sorted((k for k in self.stored if k.exchange == ex and k.symbol == sym), key=lambda k: k.timeframe.ms)
        _refill(self.timeframe, [(k.timeframe.code, k.timeframe.code) for k in keys], current)
        self._fill_range()

    def _fill_range(self) -> None:
        key = self.key()
        s = self.stored.get(key) if key is not None else None
        if key is None or s is None:
            return
        for edit, ms in ((self.start, s.first_ts), (self.end, s.last_ts + key.timeframe.ms)):
            edit.setDateTime(QtCore.QDateTime.fromMSecsSinceEpoch(int(ms), QtCore.QTimeZone.utc()))
        self.costs.apply_market(key.exchange, key.symbol)
        self.futures.apply_market(key.exchange, key.symbol)
        self._range_changed()

    def _range_changed(self) -> None:
        """The funding indicator follows the range, cut to the stored candles."""
        key = self.key()
        s = self.stored.get(key) if key is not None else None
        if key is None or s is None:
            return
        start, end = max(ms_of(self.start), s.first_ts), min(ms_of(self.end), s.last_ts + key.timeframe.ms)
        self.futures.set_range(start, end)

    def key(self) -> SeriesKey | None:
        ex, sym, tf = self.exchange.currentData(), self.market.currentData(), self.timeframe.currentData()
        if not (ex and sym and tf):
            return None
        return SeriesKey(ex, sym, Timeframe(tf))

    # ---- the command ----------------------------------------------------------------------------------
    def settings(self) -> BacktestSettings:
        """Costs and fills, and on Binance futures the leverage, margin mode and stored funding of the range."""
        self.range_timer.stop()
        self._range_changed()
        return self.futures.settings(self.costs.settings(bool(self.on_close.currentData()),
                                                         bool(self.finalize.currentData())))

    def command(self) -> RunBacktest:
        sid = self.strategy.currentData()
        if sid is None:
            raise UserError("choose a strategy (save one in the Builder first)")
        key = self.key()
        if key is None:
            raise UserError("choose stored candles: collect or import some in the Data tab first")
        start, end = ms_of(self.start), ms_of(self.end)
        if end <= start:
            raise UserError("the range must end after it starts")
        snapshot = self.snapshot
        strategy = snapshot[1] if snapshot and snapshot[0] == sid else self.strategies.strategy(int(sid))
        return RunBacktest(strategy, key, start, end, self.settings(), int(sid))

    def load_command(self, cmd: RunBacktest) -> list[str]:
        """Put a stored run's settings into the form; what could not be restored, in words."""
        missing = []
        self.snapshot = (cmd.strategy_id, cmd.strategy)  # the run's exact strategy, overridden values included
        if cmd.strategy_id is None or not self.set_strategy(cmd.strategy_id):
            missing.append("its strategy is no longer stored")
        if not self.set_series(cmd.key):
            missing.append(f"the candles {cmd.key} are no longer stored")
        for edit, ms in ((self.start, cmd.start_ms), (self.end, cmd.end_ms)):
            if ms is not None:
                edit.setDateTime(QtCore.QDateTime.fromMSecsSinceEpoch(int(ms), QtCore.QTimeZone.utc()))
        self.costs.load(cmd.settings)
        self.futures.load(cmd.settings)
        self.on_close.setCurrentIndex(self.on_close.findData(bool(cmd.settings.trade_on_close)))
        self.finalize.setCurrentIndex(self.finalize.findData(bool(cmd.settings.finalize_trades)))
        return missing


def _choice(items: tuple[tuple[str, bool], ...], tip: str) -> QtWidgets.QComboBox:
    combo = QtWidgets.QComboBox()
    for text, value in items:
        combo.addItem(text, value)
    combo.setToolTip(tip)
    return combo


def _row(*widgets: tuple[QtWidgets.QWidget, int]) -> QtWidgets.QHBoxLayout:
    """Widgets side by side, each (widget, stretch)."""
    row = QtWidgets.QHBoxLayout()
    row.setSpacing(6)
    for w, stretch in widgets:
        row.addWidget(w, stretch)
    return row


def _refill(combo: QtWidgets.QComboBox, items: list[tuple[str, str]], current: object) -> None:
    combo.blockSignals(True)
    combo.clear()
    for text, data in dict.fromkeys(items):
        combo.addItem(text, data)
    combo.setCurrentIndex(max(0, combo.findData(current)))
    combo.blockSignals(False)
