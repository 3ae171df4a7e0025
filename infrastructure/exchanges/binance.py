"""Binance USDⓈ-M futures market data as an ExchangeGateway."""

from __future__ import annotations

from typing import Any

from app.errors import ExchangeError
from app.market_data.exchange import FetchResult
from app.market_data.funding import FundingPage
from domain.market import Market, Timeframe
from domain.market.planning import BINANCE_GEOMETRY
from infrastructure.exchanges.http import HttpClient, RetryPolicy
from infrastructure.exchanges.pacing import WeightPacer
from infrastructure.exchanges.parsing import binance_row, parse_funding, parse_rows

BINANCE_URL = "https://fapi.binance.com"


def binance_error_text(status: int, body: Any) -> str:
    if isinstance(body, dict) and "msg" in body:
        return f"{body['msg']} (code {body.get('code')}, HTTP {status})"
    return f"HTTP {status}: {body}"


def kline_weight(limit: int) -> int:
    return 1 if limit < 100 else 2 if limit < 500 else 5 if limit <= 1000 else 10


class BinanceGateway:
    """Klines page forwards from `startTime`, 1500 a request, under a weight budget per minute."""

    geometry = BINANCE_GEOMETRY
    funding_limit = 1000
    timeframes = frozenset(tf for tf in Timeframe if tf.binance)

    def __init__(self, base_url: str = BINANCE_URL, name: str = "binance", policy: RetryPolicy | None = None,
                 weight_per_minute: int = 2400) -> None:
        self.name = name
        self.pacer = WeightPacer(weight_per_minute)
        self._http = HttpClient(name, base_url, self.pacer, binance_error_text, policy)

    async def fetch_candles(self, symbol: str, timeframe: Timeframe, window: tuple[int, int]) -> FetchResult:
        start, end = window
        limit = (end - start) // timeframe.ms
        if not 1 <= limit <= self.geometry.max_candles:
            raise ValueError(f"a Binance request covers 1..1500 bars, not {limit}")
        if not timeframe.binance:
            raise ExchangeError(f"{self.name} has no {timeframe.code} candles")
        params = {"symbol": symbol, "interval": timeframe.binance, "startTime": str(start),
                  "endTime": str(end - 1), "limit": str(limit)}
        reply = await self._http.get_json("/fapi/v1/klines", params, weight=kline_weight(limit),
                                          what=f"{timeframe.code} klines of {symbol}")
        try:
            series, rejected, returned = parse_rows(self.name, reply.data, timeframe, binance_row)
        except ValueError as err:
            raise ExchangeError(f"{self.name}: unexpected answer for {symbol}: {err}") from None
        return FetchResult(series, returned, rejected, reply.retries, reply.throttled)

    async def first_candle(self, symbol: str, timeframe: Timeframe) -> FetchResult:
        """The market's first kline: from startTime 0 Binance answers the oldest bars there are."""
        if not timeframe.binance:
            raise ExchangeError(f"{self.name} has no {timeframe.code} candles")
        params = {"symbol": symbol, "interval": timeframe.binance, "startTime": "0", "limit": "1"}
        reply = await self._http.get_json("/fapi/v1/klines", params, weight=kline_weight(1),
                                          what=f"the first {timeframe.code} kline of {symbol}")
        try:
            series, rejected, returned = parse_rows(self.name, reply.data, timeframe, binance_row)
        except ValueError as err:
            raise ExchangeError(f"{self.name}: unexpected answer for {symbol}: {err}") from None
        return FetchResult(series, returned, rejected, reply.retries, reply.throttled)

    async def fetch_funding(self, symbol: str, window: tuple[int, int]) -> FundingPage:
        """The oldest (at most 1000) funding events with start ≤ fundingTime < end."""
        start, end = window
        params = {"symbol": symbol, "startTime": str(start), "endTime": str(end - 1),
                  "limit": str(self.funding_limit)}
        reply = await self._http.get_json("/fapi/v1/fundingRate", params, what=f"funding rates of {symbol}")
        try:
            rates, rejected, returned = parse_funding(self.name, reply.data)
        except ValueError as err:
            raise ExchangeError(f"{self.name}: unexpected funding answer for {symbol}: {err}") from None
        return FundingPage(rates, returned, rejected, reply.retries, reply.throttled)

    async def list_markets(self) -> list[Market]:
        reply = await self._http.get_json("/fapi/v1/exchangeInfo")
        symbols = reply.data.get("symbols", []) if isinstance(reply.data, dict) else []
        out = []
        for s in symbols:
            filters = {f.get("filterType"): f for f in s.get("filters", [])}
            lot = float(filters.get("LOT_SIZE", {}).get("stepSize", 1e-8))
            tick = float(filters.get("PRICE_FILTER", {}).get("tickSize", 0.0))
            out.append(Market(self.name, str(s["symbol"]), lot_size=lot, tick_size=tick))
        return out

    async def aclose(self) -> None:
        await self._http.aclose()
