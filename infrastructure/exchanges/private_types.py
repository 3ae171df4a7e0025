"""What the private clients answer, in one shape for both exchanges: orders, positions, balances, filters."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal
from typing import Any

STATUSES = ("NEW", "PARTIALLY_FILLED", "FILLED", "CANCELED", "EXPIRED", "REJECTED")


@dataclass(frozen=True, slots=True)
class OrderState:
    """An order as the exchange reports it; `status` in Binance's words (Upbit's states are mapped)."""

    exchange: str
    symbol: str
    client_id: str
    order_id: str
    side: str  # BUY / SELL
    type: str
    status: str
    quantity: float
    executed: float
    avg_price: float
    price: float
    stop_price: float
    reduce_only: bool
    updated_ms: int
    raw: dict[str, Any]

    @property
    def is_open(self) -> bool:
        return self.status in ("NEW", "PARTIALLY_FILLED")


@dataclass(frozen=True, slots=True)
class PositionState:
    """A one-way futures position: signed amount (negative = short)."""

    symbol: str
    amount: float
    entry_price: float
    mark_price: float
    unrealized: float
    leverage: int
    margin_type: str
    liquidation_price: float = 0.0  # 0 = none


@dataclass(frozen=True, slots=True)
class Balance:
    currency: str
    free: float
    locked: float


@dataclass(frozen=True, slots=True)
class SymbolFilters:
    """An instrument's grid: price tick, quantity step, smallest quantity and order value."""

    symbol: str
    tick: Decimal
    step: Decimal
    min_qty: Decimal
    min_notional: Decimal

    def round_price(self, price: float, direction: str = "nearest") -> Decimal:
        """`price` on the tick grid: nearest, or 'down' / 'up' (e.g. a buy limit never above what was asked)."""
        mode = {"nearest": ROUND_HALF_UP, "down": ROUND_DOWN, "up": ROUND_UP}[direction]
        return (Decimal(repr(price)) / self.tick).quantize(Decimal(1), rounding=mode) * self.tick

    def round_qty(self, qty: float) -> Decimal:
        """`qty` floored to the step: never more than was asked."""
        return (Decimal(repr(qty)) / self.step).quantize(Decimal(1), rounding=ROUND_DOWN) * self.step


def text(value: Decimal) -> str:
    """A decimal as an exchange parameter: plain notation, no trailing zeros."""
    out = format(value.normalize(), "f")
    return out if out not in ("-0", "") else "0"


def krw_price_unit(price: float) -> Decimal:
    """Upbit's KRW order price unit at `price`'s level (the documented table; verify against tick_size)."""
    for floor, unit in ((2_000_000, "1000"), (1_000_000, "500"), (500_000, "100"), (100_000, "50"),
                        (10_000, "10"), (1_000, "1"), (100, "0.1"), (10, "0.01"), (1, "0.001"), (0.1, "0.0001"),
                        (0.01, "0.00001"), (0.001, "0.000001"), (0.0001, "0.0000001")):
        if price >= floor:
            return Decimal(unit)
    return Decimal("0.00000001")
