"""Backtest settings: starting cash, costs, lot size and fill options."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any


class InvalidSettings(ValueError):
    """A setting is out of range; the message names it."""


@dataclass(frozen=True, slots=True)
class BacktestSettings:
    """Account and fill model. `commission` and `slippage` are fractions (0.001 = 0.1 %) per fill.

    `lot_size` is the smallest quantity step: 1 for stocks, the exchange's step (1e-8 default) for crypto.
    `trade_on_close` fills market orders at the signal bar's close instead of the next bar's open.
    `finalize_trades` closes a position still open at the last bar's close (exit reason "end").
    """

    cash: float = 10_000.0
    commission: float = 0.0
    slippage: float = 0.0
    lot_size: float = 1e-8
    trade_on_close: bool = False
    finalize_trades: bool = False

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
        return out

    def check(self) -> None:
        issues = self.problems()
        if issues:
            raise InvalidSettings("; ".join(issues))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BacktestSettings:
        known = {f: data[f] for f in cls.__dataclass_fields__ if f in data}
        return cls(**known)
