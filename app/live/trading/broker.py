"""The port a trading session drives, shared by the paper broker and the live broker: signals in, orders out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from domain.live.paper import CLOSE, PaperBroker
from domain.strategy import SignalRow

EXIT_REASONS = ("stop", "take_profit", "trailing")


@dataclass(frozen=True, slots=True)
class SentOrder:
    """An order a session's broker sent (or, on paper, filled itself): what parity tests compare."""

    client_id: str
    side: str  # BUY / SELL
    type: str  # MARKET, STOP_MARKET, ...
    reduce_only: bool
    reason: str  # signal, stop, take_profit, trailing, halt, ...

    @property
    def shape(self) -> tuple[str, str, bool]:
        return self.side, self.type, self.reduce_only


class SessionBroker(Protocol):
    """What a session needs from its broker. Paper fills by itself; live sends orders to an exchange."""

    @property
    def position(self) -> float:
        """The signed position (negative = short) as the broker knows it."""
        ...

    @property
    def halted(self) -> str:
        """Why the broker takes no new entries ("" = trading)."""
        ...

    async def on_signal(self, row: SignalRow, ts: int) -> list[SentOrder]:
        """A closed bar's signals: close and/or enter, by the backtest's rule (`domain.live.paper.decide`)."""
        ...

    async def on_price(self, ts: int, price: float) -> list[SentOrder]:
        """A trade price: fills on paper; a local guardian's exits and trailing-stop moves live."""
        ...

    async def halt(self, reason: str) -> None:
        """No new entries from now on; protective stops stay."""
        ...


class PaperSessionBroker:
    """The paper broker behind the session port: market orders fill at the next price it is shown."""

    def __init__(self, broker: PaperBroker) -> None:
        self.broker = broker

    @property
    def position(self) -> float:
        return self.broker.side * self.broker.size

    @property
    def halted(self) -> str:
        return "trading halted" if self.broker.halted else ""

    async def on_signal(self, row: SignalRow, ts: int) -> list[SentOrder]:
        orders = self.broker.on_signal(row.entry_long, row.exit_long, row.entry_short, row.exit_short, ts)
        return [SentOrder(o.id, "BUY" if o.side > 0 else "SELL", "MARKET", o.action == CLOSE, o.reason)
                for o in orders if o.state.value != "rejected"]

    async def on_price(self, ts: int, price: float) -> list[SentOrder]:
        fills = self.broker.on_trade(ts, price)
        return [SentOrder(f.order_id, "BUY" if f.side > 0 else "SELL", "MARKET", True, f.reason)
                for f in fills if f.reason in EXIT_REASONS]

    async def halt(self, reason: str) -> None:
        self.broker.halted = True
        self.broker.cancel_pending()
