"""The one costs form (fee and slippage in percent, cash in the quote currency) shared by Backtests and Optimize."""

from __future__ import annotations

from PyQt6 import QtWidgets

from domain.backtest import BacktestSettings
from domain.costs import default_cash, default_costs, fraction_to_pct, pct_to_fraction, priced_as, quote_currency
from presentation.settings import app_settings

LAST_FEE, LAST_SLIPPAGE = "costs/last_fee_pct", "costs/last_slippage_pct"  # CSV data: the last used values
FALLBACK_CASH = 10_000.0


def percent_box(value: float, tip: str) -> QtWidgets.QDoubleSpinBox:
    box = QtWidgets.QDoubleSpinBox()
    box.setRange(0, 9.99)
    box.setDecimals(3)
    box.setSingleStep(0.01)
    box.setValue(value)
    box.setSuffix(" %")
    box.setToolTip(tip)
    return box


class CostsFields:
    """Cash, fee % and slippage % with defaults for the chosen market: the exchange's published fee (CSV data:
    the last used), the quote currency's usual cash, and the cash label naming that currency ("Cash (KRW)")."""

    def __init__(self) -> None:
        self.cash = QtWidgets.QDoubleSpinBox()
        self.cash.setRange(1, 1e12)
        self.cash.setDecimals(0)
        self.cash.setGroupSeparatorShown(True)
        self.cash.setValue(FALLBACK_CASH)
        self.cash.setToolTip("Starting cash in the market's quote currency")
        self.cash_label = QtWidgets.QLabel("Cash")
        self.cash_label.setBuddy(self.cash)
        self.fee = percent_box(0.05, "Fee per fill, percent of traded value (Upbit 0.05 %, Binance futures "
                                     "taker 0.05 %); defaults to the exchange's fee")
        self.slippage = percent_box(0.0, "Price moved against you on every fill, percent")
        self.fee_label, self.slippage_label = QtWidgets.QLabel("Fee"), QtWidgets.QLabel("Slippage")
        self.exchange: str | None = None
        self.quote: str | None = None

    def apply_market(self, exchange: str | None, symbol: str | None) -> None:
        """Defaults for a newly chosen market (the user may still type other values); the same exchange and
        quote currency again keep what is shown."""
        if not exchange or not symbol:
            return
        exchange = priced_as(exchange)  # candles imported under a label of the user's own cost like CSV data
        quote = quote_currency(exchange, symbol) if exchange != "csv" else None
        if (exchange, quote) == (self.exchange, self.quote):
            return
        if self.exchange == "csv" and exchange != "csv":
            self.remember()
        self.exchange = exchange
        costs = default_costs(exchange) if exchange != "csv" else None
        if costs is not None:
            self.fee.setValue(fraction_to_pct(costs.taker_fee))
            self.slippage.setValue(fraction_to_pct(costs.slippage))
        else:
            stored = app_settings()
            self.fee.setValue(float(stored.value(LAST_FEE, self.fee.value())))
            self.slippage.setValue(float(stored.value(LAST_SLIPPAGE, self.slippage.value())))
        if quote != self.quote:
            cash = default_cash(quote)
            self.cash.setValue(cash if cash is not None else FALLBACK_CASH)
        self.quote = quote
        self.cash_label.setText(f"Cash ({quote})" if quote else "Cash")

    def remember(self) -> None:
        """Keep the values used on CSV data as next time's defaults for CSV data."""
        if self.exchange == "csv":
            stored = app_settings()
            stored.setValue(LAST_FEE, self.fee.value())
            stored.setValue(LAST_SLIPPAGE, self.slippage.value())

    def settings(self, trade_on_close: bool = False, finalize_trades: bool = False) -> BacktestSettings:
        """The account settings as fractions (what the engine takes); remembers CSV values."""
        self.remember()
        return BacktestSettings(cash=self.cash.value(), commission=pct_to_fraction(self.fee.value()),
                                slippage=pct_to_fraction(self.slippage.value()), trade_on_close=trade_on_close,
                                finalize_trades=finalize_trades)

    def load(self, settings: BacktestSettings) -> None:
        """Show a stored run's values."""
        self.cash.setValue(settings.cash)
        self.fee.setValue(fraction_to_pct(settings.commission))
        self.slippage.setValue(fraction_to_pct(settings.slippage))
