"""What live trading needs from an exchange account and from the local order journal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from app.errors import UserError

OPEN_STATUSES = ("NEW", "PARTIALLY_FILLED")


class OrderRefused(UserError):
    """The exchange answered and refused the order (margin, minimum notional, reduce-only …): nothing was placed."""


class OrderOutcomeUnknown(UserError):
    """No answer (timeout, dropped connection): the order may or may not exist; look it up by its client id."""


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """An order QuantDesk means to place. `client_id` is its idempotency key, journaled before sending."""

    client_id: str
    symbol: str
    side: str  # BUY / SELL
    type: str  # MARKET, LIMIT, STOP_MARKET, TAKE_PROFIT_MARKET
    quantity: float = 0.0
    price: float = 0.0
    stop_price: float = 0.0
    reduce_only: bool = False
    quote_amount: float = 0.0  # Upbit market buy: spend this much KRW


@dataclass(frozen=True, slots=True)
class OrderReport:
    """An order as the exchange reports it (Binance's status words; Upbit's are mapped)."""

    client_id: str
    order_id: str
    symbol: str
    side: str
    type: str
    status: str
    quantity: float
    executed: float
    avg_price: float
    stop_price: float = 0.0
    reduce_only: bool = False
    fee: float = 0.0  # the commission of the fill this report announces (account streams), in `fee_asset`
    fee_asset: str = ""

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(frozen=True, slots=True)
class Position:
    """The account's position in one market: signed amount (negative = short) and average entry price."""

    symbol: str
    amount: float
    entry_price: float


@dataclass(frozen=True, slots=True)
class BalanceUpdate:
    """Balances the account's private stream announced: (currency, total) pairs, total = free + locked (futures:
    the wallet balance)."""

    balances: tuple[tuple[str, float], ...]


class OrderGateway(Protocol):
    """One exchange account, for one market. The exchange's answers are the truth."""

    @property
    def exchange(self) -> str: ...

    @property
    def holds_stops(self) -> bool:
        """Whether the exchange keeps stop orders (Binance futures) or a local guardian must (Upbit spot)."""
        ...

    async def place(self, intent: OrderIntent) -> OrderReport:
        """Place once; OrderRefused when refused, OrderOutcomeUnknown when the answer was lost."""
        ...

    async def find(self, client_id: str) -> OrderReport | None:
        """The order with this client id, or None if the exchange never saw it."""
        ...

    async def cancel(self, client_id: str) -> OrderReport: ...

    async def open_orders(self) -> list[OrderReport]: ...

    async def position(self) -> Position: ...


class OrderJournal(Protocol):
    """The local record of every order, written before it is sent and updated from the exchange's answers."""

    def next_sequence(self, session_id: str) -> int: ...

    def intended(self, session_id: str, intent: OrderIntent, now_ms: int) -> None:
        """Record `intent` (durably) before it is sent."""
        ...

    def reported(self, report: OrderReport, now_ms: int) -> None: ...

    def unresolved(self, session_id: str) -> list[OrderIntent]:
        """Intents with no answer recorded: after a crash, each must be looked up before anything else."""
        ...

    def open_client_ids(self, session_id: str) -> list[str]:
        """Client ids the journal believes are open at the exchange."""
        ...

    def orders(self, session_id: str) -> list[OrderReport]:
        """Every answered order of the session, oldest first."""
        ...


class AccountView(Protocol):
    """The account's value as the exchange reports it (for the daily loss limit): the session's equity is the
    account's, not a local estimate."""

    async def equity(self, price: float) -> float:
        """Margin balance (futures) or quote cash plus the coin at `price` (spot), in the quote currency."""
        ...


def net_filled(orders: list[OrderReport]) -> float:
    """The position the journal's filled quantities add up to (buys positive, sells negative)."""
    return sum((o.executed if o.side == "BUY" else -o.executed) for o in orders)


class StoredKeys(Protocol):
    """An exchange's stored API keys; only the masked key is ever shown."""

    @property
    def masked_key(self) -> str: ...


class ApiKeyStore(Protocol):
    """Exchange API keys in the operating system's keyring (never a file, the database or a log)."""

    @property
    def backend_name(self) -> str: ...

    def set(self, exchange: str, key: str, secret: str) -> StoredKeys: ...

    def list(self) -> list[tuple[str, str]]:
        """(exchange, masked key) for every exchange with keys stored."""
        ...

    def delete(self, exchange: str) -> bool: ...
