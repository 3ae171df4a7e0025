"""The ExchangeGateway port: candles and markets from an exchange (or the simulator), already parsed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from domain.market import CandleSeries, Market, Timeframe
from domain.market.planning import Geometry


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A row the exchange sent that could not be used; `row` is its index in the answer."""

    row: int
    reason: str


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One answered request: good bars (ascending), how many rows came back, what was rejected, retries."""

    series: CandleSeries
    returned: int
    rejected_rows: tuple[RejectedRow, ...] = ()
    retries: int = 0
    throttled: int = 0  # 429/418 answers seen on the way (a well-paced client sees none)


class ExchangeGateway(Protocol):
    """Public market data of one exchange. Implementations pace themselves and retry transient failures;
    anything else raises app.errors.ExchangeError with the exchange's own message."""

    name: str
    geometry: Geometry
    timeframes: frozenset[Timeframe]

    async def fetch_candles(self, symbol: str, timeframe: Timeframe, window: tuple[int, int]) -> FetchResult:
        """Bars opening in [start, end) at most `geometry.max_candles` of them; a backward exchange may
        also return older bars when the window had quiet periods."""
        ...

    async def first_candle(self, symbol: str, timeframe: Timeframe) -> FetchResult | None:
        """The market's first candle where the exchange answers that question (Binance: startTime=0, limit=1);
        None where it cannot be asked (Upbit pages backwards: its first candle shows on a short page instead)."""
        ...

    async def list_markets(self) -> list[Market]: ...

    async def aclose(self) -> None: ...


GatewayFactory = Callable[[str], ExchangeGateway]
