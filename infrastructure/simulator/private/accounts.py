"""Simulated private accounts: balances, one-way positions, orders by id and client id, fills, subscribers."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

ACTIVE = ("NEW", "PARTIALLY_FILLED")
FEES = {"binance": (0.0002, 0.0005), "upbit": (0.0005, 0.0005)}  # (maker, taker)
STREAM_QUEUE = 10_000


@dataclass(frozen=True)
class AccountSpec:
    """An account to provision: its API key and secret (both exchanges) and starting balances."""

    api_key: str = field(repr=False)
    secret: str = field(repr=False)
    balances: dict[str, float] = field(default_factory=lambda: {"USDT": 10_000.0, "KRW": 10_000_000.0})


@dataclass
class Order:
    """One order on either exchange; `type` uses the exchange's own words (MARKET, limit, price...)."""

    exchange: str
    order_id: int
    uuid: str
    client_id: str
    symbol: str
    side: str  # BUY / SELL
    type: str
    quantity: float  # 0 for closePosition and Upbit market buys (funds instead)
    price: float = 0.0
    stop_price: float = 0.0
    reduce_only: bool = False
    close_position: bool = False
    funds: float = 0.0  # Upbit ord_type=price: KRW to spend
    time_in_force: str = "GTC"
    status: str = "NEW"
    executed: float = 0.0
    quote: float = 0.0  # cumulative executed quote
    fee: float = 0.0
    locked: float = 0.0  # Upbit: funds or volume held for this order
    triggered: bool = False
    created_ms: int = 0
    updated_ms: int = 0
    trades: int = 0

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def remaining(self) -> float:
        return max(0.0, self.quantity - self.executed)

    @property
    def avg_price(self) -> float:
        return self.quote / self.executed if self.executed else 0.0

    @property
    def is_stop(self) -> bool:
        return self.type in ("STOP_MARKET", "TAKE_PROFIT_MARKET")


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of an order."""

    exchange: str
    trade_id: int
    order_id: int
    client_id: str
    symbol: str
    side: str
    price: float
    quantity: float
    fee: float
    fee_asset: str
    maker: bool
    realized: float
    ts: int

    def as_dict(self) -> dict[str, Any]:
        return {"exchange": self.exchange, "trade_id": self.trade_id, "order_id": self.order_id,
                "client_id": self.client_id, "symbol": self.symbol, "side": self.side, "price": self.price,
                "quantity": self.quantity, "fee": self.fee, "fee_asset": self.fee_asset, "maker": self.maker,
                "realized": self.realized, "ts": self.ts}


@dataclass
class Position:
    """A one-way (BOTH) futures position: signed amount, average entry price."""

    symbol: str
    amount: float = 0.0
    entry_price: float = 0.0


@dataclass
class Account:
    """Everything the exchange knows about one API key."""

    api_key: str = field(repr=False)
    secret: str = field(repr=False)
    balances: dict[str, float]
    locked: dict[str, float] = field(default_factory=dict)
    avg_buy: dict[str, float] = field(default_factory=dict)
    positions: dict[str, Position] = field(default_factory=dict)
    leverage: dict[str, int] = field(default_factory=dict)
    margin_type: dict[str, str] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    fills: list[Fill] = field(default_factory=list)
    nonces: set[str] = field(default_factory=set)
    identifiers: set[str] = field(default_factory=set)  # Upbit: every identifier ever used
    subscribers: list[tuple[str, asyncio.Queue[dict[str, Any]]]] = field(default_factory=list)

    def position(self, symbol: str) -> Position:
        return self.positions.setdefault(symbol, Position(symbol))

    def find(self, exchange: str, order_id: int | None = None, client_id: str | None = None,
             uuid: str | None = None) -> Order | None:
        for o in reversed(self.orders.values()):
            if o.exchange != exchange:
                continue
            if (order_id is not None and o.order_id == order_id) or (client_id and o.client_id == client_id) \
                    or (uuid and o.uuid == uuid):
                return o
        return None

    def open_orders(self, exchange: str, symbol: str | None = None) -> list[Order]:
        return [o for o in self.orders.values()
                if o.exchange == exchange and o.active and (symbol is None or o.symbol == symbol)]

    def free(self, currency: str) -> float:
        return self.balances.get(currency, 0.0) - self.locked.get(currency, 0.0)

    def publish(self, exchange: str, message: dict[str, Any]) -> None:
        for ex, queue in self.subscribers:
            if ex == exchange and queue.qsize() < STREAM_QUEUE:
                queue.put_nowait(message)

    def snapshot(self) -> dict[str, Any]:
        """The shape GET /_sim/state answers."""
        return {
            "balances": {c: round(v, 8) for c, v in self.balances.items()},
            "positions": [{"symbol": p.symbol, "amount": p.amount, "entry_price": p.entry_price}
                          for p in self.positions.values() if p.amount],
            "open_orders": [{"client_id": o.client_id, "symbol": o.symbol, "side": o.side, "type": o.type,
                             "reduce_only": o.reduce_only or o.close_position, "stop_price": o.stop_price or None,
                             "quantity": o.quantity}
                            for o in self.orders.values() if o.active],
            "orders": [{"client_id": o.client_id, "status": o.status, "exchange": o.exchange, "symbol": o.symbol,
                        "side": o.side, "type": o.type, "quantity": o.quantity, "executed": o.executed,
                        "avg_price": o.avg_price, "price": o.price, "stop_price": o.stop_price,
                        "reduce_only": o.reduce_only or o.close_position, "order_id": o.order_id}
                       for o in self.orders.values()],
            "fills": [f.as_dict() for f in self.fills],
        }


class AccountBook:
    """Accounts by API key, and the id sequences shared by both exchanges."""

    def __init__(self, specs: tuple[AccountSpec, ...] = ()) -> None:
        self.accounts: dict[str, Account] = {}
        self.order_ids = itertools.count(1_000_001)
        self.trade_ids = itertools.count(5_000_001)
        for spec in specs:
            self.provision(spec)

    def provision(self, spec: AccountSpec) -> Account:
        if not spec.api_key or not spec.secret:
            raise ValueError("a simulator account needs both an API key and a secret")
        account = Account(spec.api_key, spec.secret, dict(spec.balances))
        self.accounts[spec.api_key] = account
        return account

    def get(self, api_key: str) -> Account | None:
        return self.accounts.get(api_key)
