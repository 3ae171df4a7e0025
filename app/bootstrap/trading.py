"""Builds live (real-order) sessions from concrete adapters: private clients, the SQL journal, streams, the store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.clock import Clock
from app.live.bars import MarketBars
from app.live.history import gateway_bar_fetch, history_loader
from app.live.ports import MarketFeed
from app.live.trading.audited import AuditedGateway
from app.live.trading.balances import BalanceLedger
from app.live.trading.desk import LIVE_EXCHANGES, LiveSpec, OpenedTrader, live_session_id
from app.live.trading.driver import SessionDriver
from app.live.trading.live_broker import AuditSink, LiveBroker, LiveSettings
from app.live.trading.live_session import AccountStream, LiveTrader
from app.live.trading.ports import BalanceUpdate, OrderGateway, OrderJournal, OrderReport
from app.live.trading.router import OrderRouter
from domain.live.risk import RiskEngine
from domain.strategy import IncrementalEvaluator, warmup_bars

if TYPE_CHECKING:
    from app.bootstrap.container import Container
    from app.market_data.exchange import GatewayFactory
    from infrastructure.exchanges.binance_private import BinancePrivateClient
    from infrastructure.exchanges.private_types import OrderState
    from infrastructure.exchanges.upbit_private import UpbitPrivateClient
    from infrastructure.keys import ApiKeys

__all__ = ["LIVE_EXCHANGES", "DesktopTrading", "LiveSpec", "TradingAccount", "build_trader", "live_session_id",
           "open_account"]


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

    async def balances(self) -> dict[str, float]:
        """Each currency's total (free + locked) at the exchange; Binance: the futures wallet balance."""
        return {b.currency: b.free + b.locked for b in await self.client.balances()}

    @property
    def quote(self) -> str:
        return "USDT" if self.exchange == "binance" else self.market.partition("-")[0]

    def stream(self) -> AccountStream:
        """The account's private stream: Binance's user data (ORDER_TRADE_UPDATE, ACCOUNT_UPDATE), Upbit's
        myOrder and myAsset — fills, fees and balances as they happen, not at the next reconciliation."""
        from infrastructure.exchanges.binance_private import BinancePrivateClient

        client = self.client
        if isinstance(client, BinancePrivateClient):
            return lambda: self._binance_updates(client)
        return lambda: self._upbit_updates(client)

    async def _binance_updates(self, client: BinancePrivateClient) -> AsyncIterator[OrderReport | BalanceUpdate]:
        from infrastructure.exchanges.binance_private import parse_account_update, parse_order_update
        from infrastructure.exchanges.private_streams import BinanceUserStream

        async with BinanceUserStream(client) as s:
            async for event in s.events():
                if event.get("e") == "ORDER_TRADE_UPDATE":
                    st = parse_order_update(event)
                    if st.symbol == self.market:
                        yield _report(st, float(st.raw.get("n") or 0.0), str(st.raw.get("N") or ""))
                elif event.get("e") == "ACCOUNT_UPDATE":
                    yield BalanceUpdate(tuple((b.currency, b.free + b.locked) for b in parse_account_update(event)))

    async def _upbit_updates(self, client: UpbitPrivateClient) -> AsyncIterator[OrderReport | BalanceUpdate]:
        from infrastructure.exchanges.private_streams import UpbitPrivateStream
        from infrastructure.exchanges.upbit_private import parse_my_asset, parse_my_order

        async with UpbitPrivateStream(client.signer, client.base_url, codes=(self.market,)) as s:
            async for message in s.events():
                if message.get("type") == "myOrder" and message.get("code") == self.market:
                    st = parse_my_order(message)
                    yield _report(st, float(st.raw.get("trade_fee") or 0.0), self.quote)
                elif message.get("type") == "myAsset":
                    yield BalanceUpdate(tuple((b.currency, b.free + b.locked) for b in parse_my_asset(message)))

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


def _report(st: OrderState, fee: float, fee_asset: str) -> OrderReport:
    return OrderReport(st.client_id, st.order_id, st.symbol, st.side, st.type, st.status, st.quantity, st.executed,
                       st.avg_price, st.stop_price, st.reduce_only, fee, fee_asset)


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
    ledger = BalanceLedger(account, account.quote, futures=spec.exchange == "binance")
    trader = LiveTrader(spec.session_id, driver, broker, account.stream(), ledger=ledger)
    feed = stream_factory(feeds)(spec.exchange, spec.market)
    return trader, feed


class DesktopTrading:
    """The desktop's TraderFactory: keys from the keyring, private clients at the container's base URLs, the SQL
    order journal, the session store `quantdesk live status` and `live kill` read."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self._created: set[str] = set()

    def has_keys(self, exchange: str) -> bool:
        return any(ex == exchange for ex, _masked in self.container.keys.list())

    async def open(self, spec: LiveSpec, audit: AuditSink) -> OpenedTrader:
        from infrastructure.db.orders import SqlOrderJournal

        c = self.container
        account = open_account(spec.exchange, spec.market, c.keys.require(spec.exchange),
                               c.base_urls.get(spec.exchange))
        try:
            if spec.exchange == "binance":
                await account.prepare(spec.leverage, spec.margin or None)
            trader, feed = await build_trader(spec, account, SqlOrderJournal(c.engine), c.exchanges, c.clock, audit,
                                              dict(c.base_urls))
        except BaseException:
            await account.aclose()
            raise
        return OpenedTrader(trader, feed, account.aclose)

    def save(self, spec: LiveSpec, trader: LiveTrader, status: str) -> None:
        from domain.strategy import strategy_to_dict
        from infrastructure.db.paper import SqlPaperStore

        store, b = SqlPaperStore(self.container.engine), trader.broker
        now = self.container.clock.now_ms()
        if spec.session_id not in self._created:
            if store.get(spec.session_id) is not None:
                store.delete(spec.session_id)
            store.create(spec.session_id, {"mode": "live", "session_id": spec.session_id, "exchange": spec.exchange,
                                           "symbol": spec.market, "timeframe": spec.timeframe.code,
                                           "strategy": strategy_to_dict(spec.strategy), "prefix": b.router.prefix},
                         now)
            self._created.add(spec.session_id)
        clean = trader.last is not None and trader.last.clean
        store.save_state(spec.session_id, status, {**b.status(), "reconciled": clean}, trader.driver.last_bar_ts, now)
