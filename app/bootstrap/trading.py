"""Builds live (real-order) sessions from concrete adapters: private clients, the SQL journal, streams, the store."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.clock import Clock
from app.live.bars import MarketBars
from app.live.history import gateway_bar_fetch, history_loader
from app.live.ports import MarketFeed
from app.live.trading.audited import AuditedGateway
from app.live.trading.driver import SessionDriver
from app.live.trading.live_broker import AuditSink, LiveBroker, LiveSettings
from app.live.trading.live_session import AccountStream, LiveTrader
from app.live.trading.ports import OrderGateway, OrderJournal, OrderReport
from app.live.trading.router import OrderRouter
from domain.live.risk import RiskEngine, RiskLimits
from domain.market import Timeframe
from domain.strategy import IncrementalEvaluator, Strategy, warmup_bars

if TYPE_CHECKING:
    from app.market_data.exchange import GatewayFactory
    from infrastructure.exchanges.binance_private import BinancePrivateClient
    from infrastructure.exchanges.upbit_private import UpbitPrivateClient
    from infrastructure.keys import ApiKeys

LIVE_EXCHANGES = ("binance", "upbit")


@dataclass
class TradingAccount:
    """One exchange account on one market: the order gateway, its value, its private stream; `aclose()` after."""

    exchange: str
    market: str
    gateway: OrderGateway
    client: BinancePrivateClient | UpbitPrivateClient

    async def equity(self, price: float) -> float:
        """Binance: the margin balance; Upbit: KRW plus the coin held at `price`."""
        from infrastructure.exchanges.binance_private import BinancePrivateClient

        if isinstance(self.client, BinancePrivateClient):
            return float((await self.client.account())["totalMarginBalance"])
        coin = self.market.partition("-")[2]
        total = 0.0
        for b in await self.client.balances():
            if b.currency == "KRW":
                total += b.free + b.locked
            elif b.currency == coin:
                total += (b.free + b.locked) * price
        return total

    def stream(self) -> AccountStream | None:
        """Order updates from Binance's user-data stream; Upbit's state is read over REST (reconciliation)."""
        from infrastructure.exchanges.binance_private import BinancePrivateClient

        client = self.client
        if not isinstance(client, BinancePrivateClient):
            return None

        async def updates() -> AsyncIterator[OrderReport]:
            from infrastructure.exchanges.binance_private import parse_order_update
            from infrastructure.exchanges.private_streams import BinanceUserStream

            async with BinanceUserStream(client) as s:
                async for event in s.events():
                    if event.get("e") == "ORDER_TRADE_UPDATE":
                        st = parse_order_update(event)
                        if st.symbol == self.market:
                            yield OrderReport(st.client_id, st.order_id, st.symbol, st.side, st.type, st.status,
                                              st.quantity, st.executed, st.avg_price, st.stop_price, st.reduce_only,
                                              float(st.raw.get("n") or 0.0), str(st.raw.get("N") or ""))

        return updates

    async def prepare(self, leverage: int | None, margin: str | None) -> None:
        """Binance: the leverage and margin mode the session asked for (set at the exchange before trading)."""
        from infrastructure.exchanges.binance_private import BinancePrivateClient

        if isinstance(self.client, BinancePrivateClient):
            if margin:
                await self.client.set_margin_type(self.market, "ISOLATED" if margin == "isolated" else "CROSSED")
            if leverage:
                await self.client.set_leverage(self.market, leverage)

    async def aclose(self) -> None:
        await self.client.aclose()


def open_account(exchange: str, market: str, keys: ApiKeys, base_url: str | None) -> TradingAccount:
    """The private client and order gateway for `exchange` (a base URL points them at a simulator)."""
    from infrastructure.exchanges.binance_private import BinancePrivateClient
    from infrastructure.exchanges.order_gateways import BinanceOrderGateway, UpbitOrderGateway
    from infrastructure.exchanges.upbit_private import UpbitPrivateClient

    if exchange == "binance":
        bc = BinancePrivateClient(keys.key, keys.secret, base_url) if base_url else BinancePrivateClient(
            keys.key, keys.secret)
        return TradingAccount(exchange, market, BinanceOrderGateway(bc, market), bc)
    if exchange == "upbit":
        uc = UpbitPrivateClient(keys.key, keys.secret, base_url) if base_url else UpbitPrivateClient(
            keys.key, keys.secret)
        return TradingAccount(exchange, market, UpbitOrderGateway(uc, market), uc)
    raise ValueError(f"no live trading on {exchange!r}; choose one of {', '.join(LIVE_EXCHANGES)}")


def live_session_id(strategy: str, market: str, timeframe: Timeframe) -> str:
    """A session id that is also a usable client-id prefix (letters, digits, '-', at most 24 characters)."""
    slug = re.sub(r"[^A-Za-z0-9]+", "", strategy)[:10] or "qd"
    return f"{slug}-{market.replace('-', '')}-{timeframe.code}"[:24]


@dataclass(frozen=True, slots=True)
class LiveSpec:
    """What a live session trades and under which limits."""

    session_id: str
    strategy: Strategy
    exchange: str
    market: str
    timeframe: Timeframe
    limits: RiskLimits
    leverage: int = 1


async def build_trader(spec: LiveSpec, account: TradingAccount, journal: OrderJournal, gateways: GatewayFactory,
                       clock: Clock, audit: AuditSink, feeds: Mapping[str, str],
                       history_bars: int = 500) -> tuple[LiveTrader, MarketFeed]:
    """A LiveTrader warmed up on REST history, and the market stream it will run on."""
    from app.bootstrap.live import stream_factory

    router = OrderRouter(AuditedGateway(account.gateway, audit), journal, clock, spec.session_id)
    r = spec.strategy.risk
    settings = LiveSettings(r.position_size_pct, r.stop_loss_pct, r.trailing_stop_pct,
                            spec.strategy.direction == "long_short", spec.leverage,
                            lot_size=1e-3 if spec.exchange == "binance" else 1e-8, spot=spec.exchange == "upbit")
    broker = LiveBroker(router, account, RiskEngine(spec.limits), settings, clock, audit)
    broker.bind(spec.market, 0.0)
    bars = max(history_bars, 3 * warmup_bars(spec.strategy, spec.timeframe) + 10)
    history = await history_loader(None, gateways, clock)(spec.exchange, spec.market, spec.timeframe, bars)
    evaluator = IncrementalEvaluator(spec.strategy, history)
    fetch = gateway_bar_fetch(gateways)(spec.exchange)

    async def follow_equity(_bar: object) -> None:
        await broker.mark()

    driver = SessionDriver(evaluator, MarketBars(spec.exchange, spec.market, fetch), broker, spec.timeframe,
                           after_bar=follow_equity)
    await driver.join(int(history.ts[-1]) if len(history) else -1)
    trader = LiveTrader(spec.session_id, driver, broker, account.stream())
    feed = stream_factory(feeds)(spec.exchange, spec.market)
    return trader, feed
