"""Leverage, margin mode and funding for Binance futures runs, beside the costs form (Backtests and Optimize)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Protocol

from PyQt6 import QtCore, QtWidgets

from app.market_data.funding import FundingCoverage
from app.timeparse import format_ms
from domain.backtest import BacktestSettings
from domain.costs import MarketKind, market_kind
from domain.futures import BracketTable, FundingRates
from presentation.widgets.forms import column, hbox

COVERED, PARTLY, NONE = "covered", "partly", "none"


class FuturesAccess(Protocol):
    """What the fields read and run: bracket tables, stored funding, its coverage, a funding collection."""

    def brackets(self, symbol: str) -> BracketTable | None: ...

    def funding_coverage(self, exchange: str, symbol: str, start_ms: int, end_ms: int) -> FundingCoverage: ...

    def funding_rates(self, exchange: str, symbol: str, start_ms: int, end_ms: int) -> FundingRates: ...

    async def collect_funding(self, exchange: str, symbol: str, start_ms: int, end_ms: int) -> int: ...


def coverage_state(cov: FundingCoverage) -> str:
    """covered, partly (some of the range proven or some events stored) or none."""
    if cov.covered:
        return COVERED
    missing = sum(b - a for a, b in cov.missing)
    return PARTLY if cov.events or missing < cov.end_ms - cov.start_ms else NONE


class FuturesFields(QtCore.QObject):
    """Leverage (1..the symbol's maximum, its initial margin shown in percent), margin mode, funding on or off
    and the funding data indicator with a one-click collect. Enabled for Binance USDT-M markets with known
    brackets; otherwise disabled with the reason shown. `collected(text)` fires when a collect ends."""

    collected = QtCore.pyqtSignal(str)

    def __init__(self, access: FuturesAccess | None = None) -> None:
        super().__init__()
        self.access = access
        self.leverage = QtWidgets.QSpinBox()
        self.leverage.setRange(1, 125)
        self.leverage.setSuffix("×")
        self.leverage.setToolTip("Leverage: notional = margin × leverage; the share of equity a trade uses is "
                                 "its margin")
        self.margin = QtWidgets.QComboBox()
        self.margin.addItem("isolated", "isolated")
        self.margin.addItem("cross", "cross")
        self.margin.setToolTip("Isolated: a liquidation loses the position's margin; cross: the whole wallet backs "
                               "every position")
        self.initial = QtWidgets.QLabel()
        self.initial.setObjectName("hint")
        self.funding = QtWidgets.QCheckBox("Apply funding")
        self.funding.setChecked(True)
        self.funding.setToolTip("Charge stored funding at funding times (rate > 0: longs pay shorts)")
        self.state = QtWidgets.QLabel()
        self.state.setObjectName("hint")
        self.collect_btn = QtWidgets.QPushButton("Collect funding")
        self.collect_btn.setToolTip("Fetch the missing funding history of this market and range from the exchange")
        self.collect_btn.clicked.connect(self.start_collect)
        self.reason = QtWidgets.QLabel()
        self.reason.setObjectName("hint")
        self.reason.setWordWrap(True)
        self.leverage_label, self.funding_label = QtWidgets.QLabel("Leverage"), QtWidgets.QLabel("Funding")
        self.leverage.valueChanged.connect(self._show_initial)
        self.market: tuple[str, str] | None = None
        self.table: BracketTable | None = None
        self.range: tuple[int, int] | None = None
        self.coverage: FundingCoverage | None = None
        self.task: asyncio.Future[None] | None = None
        self._funding_box = column(self.funding, self.state, self.collect_btn, spacing=2)
        self._show_initial()
        self.apply_market(None, None)

    # ---- layout helpers --------------------------------------------------------------------------------
    def leverage_row(self) -> QtWidgets.QWidget:
        """Leverage, margin mode and initial margin; on other markets only the reason they do not apply."""
        return column(hbox(self.leverage, self.margin, self.initial), self.reason, spacing=2)

    def funding_row(self) -> QtWidgets.QWidget:
        """Funding on or off, the collect button and the funding data indicator (hidden on spot markets)."""
        return self._funding_box

    # ---- state ----------------------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        """The chosen market trades as USDT-M futures (brackets known): leverage and funding apply."""
        return self.table is not None

    def apply_market(self, exchange: str | None, symbol: str | None) -> None:
        """Enable the fields for a Binance futures market, else disable them and say why."""
        self.market = (exchange, symbol) if exchange and symbol else None
        try:
            kind = market_kind(exchange) if exchange else None
        except ValueError:
            kind = None
        self.table = self.access.brackets(symbol) if (kind is MarketKind.USDT_FUTURES and symbol and
                                                      self.access is not None) else None
        if self.table is not None:
            self.leverage.setMaximum(self.table.max_leverage)
            reason, short = "", ""
        elif kind is MarketKind.USDT_FUTURES:
            reason = f"No maintenance-margin brackets known for {symbol}: it trades at 1× without funding."
            short = "1× (no brackets known)"
        elif exchange == "csv":
            reason, short = "CSV data trades as spot: 1×, no margin, no funding.", "1× (spot data)"
        elif exchange:
            reason = f"{exchange.capitalize()} trades spot only: 1×, no margin, no funding."
            short = f"1× ({exchange.capitalize()} is spot)"
        else:
            reason, short = "Leverage and funding apply to Binance futures markets.", "1× (spot)"
        if not self.active:
            self.leverage.setValue(1)
            self.margin.setCurrentIndex(0)
        for w in (self.leverage, self.margin, self.funding, self.collect_btn):
            w.setEnabled(self.active)
            w.setToolTip(w.toolTip().split("\n\n")[0] + (f"\n\n{reason}" if reason else ""))
        for w in (self.leverage, self.margin, self.initial, self.funding_label, self._funding_box):
            w.setHidden(not self.active)
        self.reason.setText(short)  # one line in the form; the whole reason on hover
        self.reason.setToolTip(reason)
        self.reason.setHidden(not reason)
        self.refresh_funding()

    def set_range(self, start_ms: int, end_ms: int) -> None:
        self.range = (start_ms, end_ms) if end_ms > start_ms else None
        self.refresh_funding()

    def refresh_funding(self) -> None:
        """The funding data indicator for the market and range: covered, partly or none."""
        self.coverage = None
        if not self.active or self.market is None or self.range is None or self.access is None:
            self.state.setText("")
            self.state.setVisible(False)
            return
        cov = self.coverage = self.access.funding_coverage(*self.market, *self.range)
        state = coverage_state(cov)
        self.state.setText(f"Funding data: {state} ({cov.events} events)")
        gaps = [f"{format_ms(a)[:16]} .. {format_ms(b)[:16]}" for a, b in cov.missing[:5]]
        self.state.setToolTip("Missing (UTC): " + "; ".join(gaps) + (" …" if len(cov.missing) > 5 else "")
                              if gaps else "Stored funding covers the whole range")
        self.state.setProperty("funding", state)
        self.state.setVisible(True)
        self.collect_btn.setEnabled(state != COVERED and (self.task is None or self.task.done()))

    def _show_initial(self) -> None:
        self.initial.setText(f"margin {100.0 / self.leverage.value():.4g} %")

    # ---- collect --------------------------------------------------------------------------------------
    def start_collect(self) -> asyncio.Future[None] | None:
        """Collect the range's missing funding on the running (qasync) loop; the UI keeps running."""
        if self.market is None or self.range is None or self.access is None or not self.active:
            return None
        if self.task is not None and not self.task.done():
            return self.task
        self.collect_btn.setEnabled(False)
        self.state.setText("Collecting funding …")
        self.task = asyncio.ensure_future(self._collect(*self.market, *self.range))
        return self.task

    async def _collect(self, exchange: str, symbol: str, start_ms: int, end_ms: int) -> None:
        assert self.access is not None
        try:
            stored = await self.access.collect_funding(exchange, symbol, start_ms, end_ms)
            text = f"Collected {stored} funding events."
        except Exception as err:  # shown inline; the form stays usable
            text = f"Funding collect failed: {err}"
        self.refresh_funding()
        if text.startswith("Funding collect failed"):
            self.state.setText(text)
            self.collect_btn.setEnabled(True)
        self.collected.emit(text)

    # ---- settings -------------------------------------------------------------------------------------
    def settings(self, base: BacktestSettings) -> BacktestSettings:
        """`base` with the futures account (leverage, margin, brackets, stored funding over the range)."""
        if not self.active or self.market is None:
            return base
        funding = None
        if self.funding.isChecked() and self.range is not None and self.access is not None:
            funding = self.access.funding_rates(*self.market, *self.range)
        return replace(base, leverage=self.leverage.value(), margin=str(self.margin.currentData()),
                       brackets=self.table, funding=funding)

    def load(self, settings: BacktestSettings) -> None:
        """Show a stored run's leverage and margin mode."""
        self.leverage.setValue(int(settings.leverage))
        self.margin.setCurrentIndex(max(0, self.margin.findData(settings.margin)))


