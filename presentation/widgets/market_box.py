"""An editable market picker for one exchange: stored markets first, then the exchange's own list, else defaults."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from PyQt6 import QtCore, QtWidgets

from app.errors import UserError

if TYPE_CHECKING:
    from presentation.services import Services

log = logging.getLogger("quantdesk.gui")
DEFAULT_MARKETS = {"demo": ["KRW-BTC", "KRW-ETH", "KRW-XRP", "KRW-SOL"], "upbit": ["KRW-BTC", "KRW-ETH", "KRW-XRP"],
                   "binance": ["BTCUSDT", "ETHUSDT", "SOLUSDT"]}
LIST_TIMEOUT_S = 5.0


class MarketBox(QtWidgets.QComboBox):
    """Call `set_exchange`; the exchange's market list is asked for in the background once the loop runs.
    `listed` says whether the exchange answered (the status bar shows it). Any symbol can still be typed."""

    listed = QtCore.pyqtSignal(str, object)  # exchange, True (answered) / False (failed)

    def __init__(self, services: Services, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.exchange = ""
        self.setEditable(True)
        self.setInsertPolicy(QtWidgets.QComboBox.InsertPolicy.NoInsert)

    def set_exchange(self, exchange: str) -> None:
        self.exchange = exchange
        self.fill()

    def symbol(self) -> str:
        return self.currentText().strip()

    def fill(self, listed: list[str] | None = None) -> None:
        """Stored markets first, then `listed` (the exchange's list) or the common defaults."""
        ex = self.exchange
        text = self.currentText()
        self.clear()
        stored_of = getattr(self.services, "stored", None)
        stored = sorted({s.key.symbol for s in stored_of() if s.key.exchange == ex}) if stored_of else []
        for sym in dict.fromkeys([*stored, *(listed or DEFAULT_MARKETS.get(ex, []))]):
            self.addItem(sym)
        if listed is not None and text:
            self.setCurrentText(text)
        if listed is None:
            self._ask(ex)

    def _ask(self, exchange: str) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop yet (tests, or before the app runs): defaults will do
            return
        loop.create_task(self._list(exchange))

    async def _list(self, exchange: str) -> None:
        ask = getattr(self.services, "market_symbols", None)
        if ask is None:
            return
        try:
            symbols = await ask(exchange, LIST_TIMEOUT_S)
        except (UserError, OSError, TimeoutError) as err:
            log.info("%s market list unavailable (%s); showing common markets", exchange, err or "timeout")
            self.listed.emit(exchange, False)
            return
        if symbols is None:  # this build cannot list markets
            return
        self.listed.emit(exchange, True)
        if self.exchange == exchange:
            self.fill(symbols)
