"""Upbit quotation API (KRW spot) as an ExchangeGateway; also the Demo exchange against the simulator."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.errors import ExchangeError
from app.market_data.exchange import FetchResult
from domain.market import Market, Timeframe
from domain.market.planning import UPBIT_GEOMETRY
from infrastructure.exchanges.http import HttpClient, RetryPolicy
from infrastructure.exchanges.pacing import UpbitPacer
from infrastructure.exchanges.parsing import parse_rows, upbit_row

UPBIT_URL = "https://api.upbit.com"
DEMO_URL = "http://127.0.0.1:8765"


def upbit_error_text(status: int, body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        return f"{err.get('message', 'error')} ({err.get('name', status)}, HTTP {status})"
    return f"HTTP {status}: {body}"


def iso_z(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class UpbitGateway:
    """Candles page backwards from an exclusive `to`, 200 a request; 10 candle requests a second."""

    geometry = UPBIT_GEOMETRY
    timeframes = frozenset(Timeframe)

    def __init__(self, base_url: str = UPBIT_URL, name: str = "upbit", policy: RetryPolicy | None = None,
                 per_second: int = 10) -> None:
        self.name = name
        self.pacer = UpbitPacer(per_second)
        self._http = HttpClient(name, base_url, self.pacer, upbit_error_text, policy)

    async def fetch_candles(self, symbol: str, timeframe: Timeframe, window: tuple[int, int]) -> FetchResult:
        start, end = window
        count = (end - start) // timeframe.ms
        if not 1 <= count <= self.geometry.max_candles:
            raise ValueError(f"an Upbit request covers 1..200 bars, not {count}")
        params = {"market": symbol, "to": iso_z(end), "count": str(count)}
        reply = await self._http.get_json(f"/v1/candles/{timeframe.upbit_path}", params,
                                          what=f"{timeframe.code} candles of {symbol}")
        try:
            series, rejected, returned = parse_rows(self.name, reply.data, timeframe, upbit_row)
        except ValueError as err:
            raise ExchangeError(f"{self.name}: unexpected answer for {symbol}: {err}") from None
        return FetchResult(series, returned, rejected, reply.retries, reply.throttled)

    async def first_candle(self, symbol: str, timeframe: Timeframe) -> None:
        """Upbit cannot be asked for a market's first candle; a short backward page shows it instead."""
        return None

    async def list_markets(self) -> list[Market]:
        reply = await self._http.get_json("/v1/market/all")
        if not isinstance(reply.data, list):
            raise ExchangeError(f"{self.name}: unexpected market list")
        return [Market(self.name, str(m["market"])) for m in reply.data if isinstance(m, dict) and "market" in m]

    async def aclose(self) -> None:
        await self._http.aclose()
