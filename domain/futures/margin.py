"""Leverage and margin settings, their validation per exchange, and position sizing from a share of equity."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

from domain.costs import MarketKind, market_kind
from domain.futures.brackets import BracketTable


class InvalidLeverage(ValueError):
    """Leverage or margin mode the market cannot take; the message says why and what is allowed."""


class MarginMode(Enum):
    """Isolated: each position risks only its own margin. Cross: the whole wallet backs every position."""

    ISOLATED = "isolated"
    CROSS = "cross"

    @classmethod
    def parse(cls, text: str) -> MarginMode:
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise InvalidLeverage(f"margin: must be isolated or cross, got {text!r}") from None


def check_leverage(exchange: str, symbol: str, leverage: float, table: BracketTable | None = None) -> int:
    """The leverage as a whole number, if the market allows it: 1 on spot markets (Upbit, Demo), 1..the bracket
    table's maximum on Binance USDT-M futures (1..125 when no table is known)."""
    if not (math.isfinite(leverage) and leverage == int(leverage)):
        raise InvalidLeverage(f"leverage: must be a whole number, got {leverage}")
    lev = int(leverage)
    kind = market_kind(exchange)
    if kind is not MarketKind.USDT_FUTURES:
        if lev != 1:
            where = "CSV data is traded as spot" if kind is None else f"{exchange} trades spot only"
            raise InvalidLeverage(f"leverage: {where}, so leverage must be 1 (got {lev})")
        return 1
    top = table.max_leverage if table is not None else 125
    if not 1 <= lev <= top:
        raise InvalidLeverage(f"leverage: {exchange} {symbol} allows 1..{top}, got {lev}")
    return lev


@dataclass(frozen=True, slots=True)
class Sizing:
    """A position's size: margin put up, notional (= margin × leverage) and quantity floored to the step."""

    quantity: float
    notional: float
    margin: float
    capped: bool = False  # the bracket table's max notional at this leverage cut the size down


def floor_to_step(quantity: float, step: float) -> float:
    """Largest multiple of `step` ≤ quantity, tolerant of float noise (0.3 / 0.1 is 2.9999…)."""
    if step <= 0:
        raise ValueError(f"step must be > 0, got {step}")
    units = math.floor(quantity / step + 1e-9)
    return round(max(units, 0) * step, 12)


def position_size(equity: float, size_pct: float, leverage: int, price: float, step: float,
                  table: BracketTable | None = None) -> Sizing:
    """`size_pct` % of equity as margin, times leverage as notional, floored to `step` at `price`.

    With a bracket table the notional is capped at what the table allows for that leverage (Binance
    refuses larger positions). Margin is recomputed from the floored quantity.
    """
    if not (equity > 0 and 0 < size_pct <= 100 and leverage >= 1 and price > 0):
        raise ValueError(f"cannot size: equity {equity}, size {size_pct} %, leverage {leverage}, price {price}")
    notional = equity * size_pct / 100.0 * leverage
    capped = False
    if table is not None:
        limit = table.max_notional(leverage)
        if notional > limit:
            notional, capped = limit, True
    qty = floor_to_step(notional / price, step)
    return Sizing(qty, qty * price, qty * price / leverage, capped)
