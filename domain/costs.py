"""One costs model (maker/taker fees, slippage) with defaults per exchange; fractions inside, percent at the edges."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum


class InvalidCosts(ValueError):
    """A fee or slippage is out of range; the message names it."""


class MarketKind(Enum):
    """What an exchange trades: spot (no leverage) or USDT-margined perpetual futures."""

    SPOT = "spot"
    USDT_FUTURES = "usdt_futures"


_KINDS = {"upbit": MarketKind.SPOT, "demo": MarketKind.SPOT, "binance": MarketKind.USDT_FUTURES}
_MAX_FRACTION = 0.1  # 10 % per fill: anything above is a typo (a percent typed as a fraction, or worse)


def pct_to_fraction(pct: float) -> float:
    """0.05 (percent) -> 0.0005; rounded to 15 significant digits so 0.05 % reads back exactly."""
    return float(f"{pct / 100.0:.15g}")


def fraction_to_pct(fraction: float) -> float:
    """0.0005 -> 0.05 (percent), without the float noise of a bare `* 100`."""
    return float(f"{fraction * 100.0:.15g}")


@dataclass(frozen=True, slots=True)
class Costs:
    """Fees and slippage as fractions of traded value / price (0.0005 = 0.05 %). Market orders pay taker."""

    taker_fee: float = 0.0
    maker_fee: float = 0.0
    slippage: float = 0.0

    def fee(self, market_order: bool = True) -> float:
        """The fee fraction of one fill: taker for market orders (and stops), maker for resting limit orders."""
        return self.taker_fee if market_order else self.maker_fee

    def problems(self) -> list[str]:
        """Every out-of-range field as 'name: what is wrong', in percent as the user typed it."""
        out = []
        for name in ("taker_fee", "maker_fee", "slippage"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0.0 <= value < _MAX_FRACTION):
                out.append(f"{name}: must be in [0 %, {fraction_to_pct(_MAX_FRACTION):g} %), "
                           f"got {fraction_to_pct(value) if math.isfinite(value) else value} %")
        return out

    def check(self) -> Costs:
        issues = self.problems()
        if issues:
            raise InvalidCosts("; ".join(issues))
        return self

    def to_percent(self) -> dict[str, float]:
        """The form's view: {taker_fee_pct, maker_fee_pct, slippage_pct}."""
        return {"taker_fee_pct": fraction_to_pct(self.taker_fee), "maker_fee_pct": fraction_to_pct(self.maker_fee),
                "slippage_pct": fraction_to_pct(self.slippage)}

    @classmethod
    def from_percent(cls, taker_fee_pct: float, maker_fee_pct: float | None = None,
                     slippage_pct: float = 0.0) -> Costs:
        """Costs typed in percent; a missing maker fee equals the taker fee (one fee for every fill)."""
        maker = taker_fee_pct if maker_fee_pct is None else maker_fee_pct
        return cls(pct_to_fraction(taker_fee_pct), pct_to_fraction(maker), pct_to_fraction(slippage_pct)).check()


UPBIT_SPOT = Costs(taker_fee=0.0005, maker_fee=0.0005)
BINANCE_USDT_FUTURES = Costs(taker_fee=0.0005, maker_fee=0.0002)
_DEFAULTS = {"upbit": UPBIT_SPOT, "demo": UPBIT_SPOT, "binance": BINANCE_USDT_FUTURES}
DEFAULT_CASH = {"KRW": 10_000_000.0, "USDT": 10_000.0}
_BINANCE_QUOTES = ("USDT", "USDC", "FDUSD", "BUSD")


def priced_as(exchange: str) -> str:
    """The exchange whose costs and market kind apply to candles stored under `exchange`: itself when QuantDesk
    knows it, else "csv" (candles imported from a file under a label of the user's own choosing)."""
    return exchange if exchange in _KINDS else "csv"


def market_kind(exchange: str) -> MarketKind | None:
    """Spot for Upbit and the Demo exchange, USDT-M futures for Binance, None for a CSV (unknown)."""
    if exchange == "csv":
        return None
    try:
        return _KINDS[exchange]
    except KeyError:
        raise ValueError(f"unknown exchange {exchange!r}; choose one of upbit, binance, demo, csv") from None


def default_costs(exchange: str) -> Costs | None:
    """The exchange's published fees (Demo = Upbit's); None for CSV data and for candles stored under a name the
    model does not know (imported with `--exchange mydata`): the user gives them (or the last used)."""
    return _DEFAULTS.get(exchange)


def quote_currency(exchange: str, symbol: str) -> str | None:
    """The currency money is counted in: KRW-BTC -> KRW, BTCUSDT -> USDT; None for CSV data, an exchange the model
    does not know, or an unknown quote."""
    if _KINDS.get(exchange) is MarketKind.SPOT:
        quote, dash, base = symbol.partition("-")
        return quote.upper() if dash and quote and base else None
    if exchange == "binance":
        upper = symbol.upper()
        return next((q for q in _BINANCE_QUOTES if upper.endswith(q) and len(upper) > len(q)), None)
    return None


def default_cash(quote: str | None) -> float | None:
    """Starting cash for a quote currency (10,000,000 KRW, 10,000 USDT); None when there is no sensible default."""
    return DEFAULT_CASH.get(quote) if quote else None
