"""A process that journals one order and sends it: the kill -9 tests kill it while it waits for the answer."""

from __future__ import annotations

import asyncio
import sys

from app.live.trading.ports import OrderGateway, OrderIntent
from app.live.trading.router import OrderRouter
from infrastructure.clock import SystemClock
from infrastructure.db.engine import create_sqlite_engine
from infrastructure.db.orders import SqlOrderJournal
from infrastructure.exchanges.binance_private import BinancePrivateClient
from infrastructure.exchanges.order_gateways import BinanceOrderGateway, UpbitOrderGateway
from infrastructure.exchanges.upbit_private import UpbitPrivateClient
from tests.integration.private_sim import API_KEY, SECRET

MARKETS = {"binance": "BTCUSDT", "upbit": "KRW-BTC"}


def gateway(exchange: str, url: str) -> tuple[OrderGateway, BinancePrivateClient | UpbitPrivateClient]:
    if exchange == "binance":
        bc = BinancePrivateClient(API_KEY, SECRET, url)
        return BinanceOrderGateway(bc, MARKETS[exchange]), bc
    uc = UpbitPrivateClient(API_KEY, SECRET, url)
    return UpbitOrderGateway(uc, MARKETS[exchange]), uc


def intent(exchange: str, client_id: str) -> OrderIntent:
    """A market buy: 0.01 BTC on Binance, 50,000 KRW of BTC on Upbit."""
    if exchange == "binance":
        return OrderIntent(client_id, MARKETS[exchange], "BUY", "MARKET", 0.01)
    return OrderIntent(client_id, MARKETS[exchange], "BUY", "MARKET", quote_amount=50_000)


async def main(exchange: str, url: str, db: str, session: str) -> None:
    gw, client = gateway(exchange, url)
    router = OrderRouter(gw, SqlOrderJournal(create_sqlite_engine(db)), SystemClock(), session)
    try:
        await router.submit(intent(exchange, router.new_client_id()))
    finally:
        await client.aclose()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
