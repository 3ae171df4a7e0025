"""Market (instrument) value object: where it trades and how finely it can be sized and priced."""

from __future__ import annotations

from dataclasses import dataclass

EXCHANGES = ("upbit", "binance", "demo", "csv")


@dataclass(frozen=True, slots=True)
class Market:
    """An instrument on an exchange. `lot_size` is the smallest quantity step, `tick_size` the price step."""

    exchange: str
    symbol: str
    lot_size: float = 1e-8
    tick_size: float = 0.0

    def __post_init__(self) -> None:
        if not self.exchange or not self.symbol:
            raise ValueError("a market needs an exchange and a symbol")
        if self.lot_size <= 0:
            raise ValueError(f"lot size must be > 0, got {self.lot_size}")
        if self.tick_size < 0:
            raise ValueError(f"tick size must be ≥ 0, got {self.tick_size}")

    @property
    def key(self) -> str:
        return f"{self.exchange}:{self.symbol}"
