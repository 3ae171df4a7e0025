"""Reconciliation of balances: the exchange's quote balance against what the session's own fills explain."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

from app.live.trading.ports import OrderReport, Position

FUNDING_PERIOD_MS = 8 * 3_600_000


class BalanceSource(Protocol):
    """The account's balances as the exchange reports them: currency -> total (free + locked; futures: the
    wallet balance, without unrealised profit)."""

    async def balances(self) -> dict[str, float]: ...


def _apply(position: float, entry: float, signed_qty: float, price: float) -> tuple[float, float, float]:
    """One fill on a one-way position: (realised profit, new position, new average entry)."""
    if position == 0 or (position > 0) == (signed_qty > 0):
        size = position + signed_qty
        return 0.0, size, (abs(position) * entry + abs(signed_qty) * price) / abs(size)
    closed = min(abs(position), abs(signed_qty))
    realised = (price - entry) * closed * (1 if position > 0 else -1)
    size = position + signed_qty
    if abs(size) < 1e-12:
        return realised, 0.0, 0.0
    return realised, size, entry if (size > 0) == (position > 0) else price


@dataclass
class BalanceLedger:
    """What the session expects the quote balance to be: the balance when it started (or was reset) plus the cash
    of its own fills since — spot: minus what buys spent, plus what sells brought; futures: plus realised profit.
    Fees (and on futures, funding) are allowed for as a tolerance: `fee_rate` of the traded value, `funding_rate`
    of the largest position's value per started funding period. A difference beyond it has no explanation in the
    journal (a transfer, a trade outside the session) and halts the session."""

    source: BalanceSource
    currency: str  # the quote currency: KRW (Upbit) or USDT (Binance USDT-M)
    futures: bool
    fee_rate: float = 0.002
    funding_rate: float = 0.0075
    baseline: float = math.nan
    since_ms: int = 0
    counted: dict[str, float] = field(default_factory=dict)  # client id -> quantity already in the baseline
    start_position: float = 0.0
    start_entry: float = 0.0
    last: float = math.nan  # the balance last seen (REST or the account's stream)

    async def start(self, orders: list[OrderReport], position: Position, now_ms: int) -> None:
        """Take the exchange's balance as the baseline; fills already in the journal are in it."""
        self.baseline = self.last = (await self.source.balances()).get(self.currency, 0.0)
        self.counted = {o.client_id: o.executed for o in orders}
        self.start_position, self.start_entry = position.amount, position.entry_price
        self.since_ms = now_ms

    def expected(self, orders: list[OrderReport], now_ms: int) -> tuple[float, float]:
        """(the balance the journal explains, the tolerance for fees and funding)."""
        cash = traded = 0.0
        pos, entry = self.start_position, self.start_entry
        peak = abs(pos * entry)
        for o in orders:
            qty = o.executed - self.counted.get(o.client_id, 0.0)
            if qty <= 0 or not o.avg_price:
                continue
            signed = qty if o.side == "BUY" else -qty
            traded += qty * o.avg_price
            if self.futures:
                realised, pos, entry = _apply(pos, entry, signed, o.avg_price)
                cash += realised
                peak = max(peak, abs(pos * entry))
            else:
                cash -= signed * o.avg_price
        tolerance = traded * self.fee_rate + 1e-9 * max(abs(self.baseline), 1.0)
        if self.futures:
            tolerance += peak * self.funding_rate * (1 + max(0, now_ms - self.since_ms) // FUNDING_PERIOD_MS)
        return self.baseline + cash, tolerance

    async def check(self, orders: list[OrderReport], now_ms: int) -> str:
        """The difference nothing explains, in words ("" = the balance is explained)."""
        actual = self.last = (await self.source.balances()).get(self.currency, 0.0)
        expected, tolerance = self.expected(orders, now_ms)
        diff = actual - expected
        if abs(diff) <= tolerance:
            return ""
        return (f"balance of {self.currency} at the exchange is {actual:,.8g}, the session's fills explain "
                f"{expected:,.8g} (± {tolerance:,.4g} for fees): {diff:+,.8g} {self.currency} unexplained")
