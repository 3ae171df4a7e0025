"""One gateway per exchange name for the whole app, so every collection shares one rate budget."""

from __future__ import annotations

from collections.abc import Mapping

from app.errors import UserError
from app.market_data.exchange import ExchangeGateway
from app.market_data.funding import FundingSource
from infrastructure.exchanges.binance import BinanceGateway
from infrastructure.exchanges.http import RetryPolicy
from infrastructure.exchanges.upbit import DEMO_URL, UpbitGateway

EXCHANGES = ("upbit", "binance", "demo")


class ExchangeGateways:
    """Builds gateways on first use; `base_urls` overrides where each exchange is reached."""

    def __init__(self, base_urls: Mapping[str, str] | None = None, policy: RetryPolicy | None = None) -> None:
        self.base_urls = dict(base_urls or {})
        self.policy = policy
        self._made: dict[str, ExchangeGateway] = {}

    def __call__(self, exchange: str) -> ExchangeGateway:
        gw = self._made.get(exchange)
        if gw is None:
            gw = self._made[exchange] = self._build(exchange)
        return gw

    def funding_source(self, exchange: str) -> FundingSource:
        """The exchange's shared gateway as a funding-history source; spot exchanges have none."""
        gw = self(exchange)
        if not isinstance(gw, BinanceGateway):
            raise UserError(f"{exchange} trades spot: it has no funding rates (only binance futures do)")
        return gw

    def _build(self, exchange: str) -> ExchangeGateway:
        url = self.base_urls.get(exchange)
        if exchange == "upbit":
            return UpbitGateway(url, policy=self.policy) if url else UpbitGateway(policy=self.policy)
        if exchange == "demo":
            return UpbitGateway(url or DEMO_URL, name="demo", policy=self.policy)
        if exchange == "binance":
            return BinanceGateway(url, policy=self.policy) if url else BinanceGateway(policy=self.policy)
        raise UserError(f"unknown exchange {exchange!r}; choose one of {', '.join(EXCHANGES)}")

    async def aclose(self) -> None:
        for gw in self._made.values():
            await gw.aclose()
        self._made.clear()
