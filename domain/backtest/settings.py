"""Backtest settings: starting cash, costs, lot size, fill options and the futures account (leverage, margin)."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

from domain.futures.brackets import BracketTable
from domain.futures.rates import FundingRates

MARGIN_MODES = ("isolated", "cross")


class InvalidSettings(ValueError):
    """A setting is out of range; the message names it."""


@dataclass(frozen=True, slots=True)
class BacktestSettings:
    """Account and fill model. `commission` and `slippage` are fractions (0.001 = 0.1 %) per fill.

    `lot_size` is the smallest quantity step: 1 for stocks, the exchange's step (1e-8 default) for crypto.
    `trade_on_close` fills market orders at the signal bar's close instead of the next bar's open.
    `finalize_trades` closes a position still open at the last bar's close (exit reason "end").
    Futures (Binance USDT-M): `brackets` is the symbol's maintenance-margin table (None = spot, no leverage,
    no liquidation), `leverage` 1..its maximum, `margin` "isolated" or "cross", `funding` the funding history
    to charge (None = none). See docs/backtest.md, "Futures model".
    """

    cash: float = 10_000.0
    commission: float = 0.0
    slippage: float = 0.0
    lot_size: float = 1e-8
    trade_on_close: bool = False
    finalize_trades: bool = False
    leverage: int = 1
    margin: str = "isolated"
    brackets: BracketTable | None = None
    funding: FundingRates | None = None

    @property
    def futures(self) -> bool:
        """A futures account (margin, liquidation, funding), run on the futures loop; spot otherwise."""
        return self.brackets is not None

    def problems(self) -> list[str]:
        """Every out-of-range setting as 'name: what is wrong'."""
        out = []
        if not (math.isfinite(self.cash) and self.cash > 0):
            out.append(f"cash: must be a positive amount, got {self.cash}")
        if not (math.isfinite(self.commission) and 0 <= self.commission < 0.1):
            out.append(f"commission: must be a fraction in [0, 0.1), got {self.commission}")
        if not (math.isfinite(self.slippage) and 0 <= self.slippage < 0.1):
            out.append(f"slippage: must be a fraction in [0, 0.1), got {self.slippage}")
        if not (math.isfinite(self.lot_size) and self.lot_size > 0):
            out.append(f"lot_size: must be > 0, got {self.lot_size}")
        out.extend(self._futures_problems())
        return out

    def _futures_problems(self) -> list[str]:
        out = []
        if self.margin not in MARGIN_MODES:
            out.append(f"margin: must be isolated or cross, got {self.margin!r}")
        if not isinstance(self.leverage, int) or self.leverage < 1:
            out.append(f"leverage: must be a whole number ≥ 1, got {self.leverage}")
        elif self.brackets is None and self.leverage != 1:
            out.append(f"leverage: {self.leverage}x needs a futures market (a bracket table); spot trades at 1x")
        elif self.brackets is not None and self.leverage > self.brackets.max_leverage:
            out.append(f"leverage: {self.brackets.symbol} allows 1..{self.brackets.max_leverage}, got {self.leverage}")
        if self.funding is not None and self.brackets is None:
            out.append("funding: applies to futures markets only (no bracket table given)")
        return out

    def check(self) -> None:
        issues = self.problems()
        if issues:
            raise InvalidSettings("; ".join(issues))

    def to_dict(self) -> dict[str, Any]:
        """Plain values; the bracket table and funding history are summarised (symbol, event count)."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("brackets", "funding")}
        if self.brackets is not None:
            out["brackets"] = self.brackets.symbol
        if self.funding is not None:
            out["funding_events"] = len(self.funding)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BacktestSettings:
        known = {f: data[f] for f in cls.__dataclass_fields__ if f in data and f not in ("brackets", "funding")}
        return cls(**known)
