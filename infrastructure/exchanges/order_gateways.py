"""The private clients behind app.live.trading.ports.OrderGateway: one exchange account, one market."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from app.live.trading.ports import OrderIntent, OrderOutcomeUnknown, OrderRefused, OrderReport, Position
from infrastructure.exchanges.binance_private import BinancePrivateClient, FuturesOrder
from infrastructure.exchanges.private_http import ExchangeRejected, OutcomeUnknown
from infrastructure.exchanges.private_types import OrderState
from infrastructure.exchanges.upbit_private import SpotOrder, UpbitPrivateClient

T = TypeVar("T")


async def _call(work: Callable[[], Awaitable[T]]) -> T:
    """The exchange's refusals and lost answers in the port's words."""
    try:
        return await work()
    except ExchangeRejected as err:
        raise OrderRefused(str(err)) from None
    except OutcomeUnknown as err:
        raise OrderOutcomeUnknown(str(err)) from None


def _report(state: OrderState, client_id: str | None = None) -> OrderReport:
    return OrderReport(client_id or state.client_id, state.order_id, state.symbol, state.side, state.type,
                       state.status, state.quantity, state.executed, state.avg_price, state.stop_price,
                       state.reduce_only)


class BinanceOrderGateway:
    """Binance USDT-M futures, one-way mode: stops are held by the exchange."""

    exchange = "binance"
    holds_stops = True

    def __init__(self, client: BinancePrivateClient, symbol: str) -> None:
        self.client, self.symbol = client, symbol

    async def place(self, intent: OrderIntent) -> OrderReport:
        order = FuturesOrder(intent.symbol, intent.side, intent.type, intent.quantity, intent.price,
                             intent.stop_price, intent.reduce_only, client_id=intent.client_id)
        return _report(await _call(lambda: self.client.place_order(order)))

    async def find(self, client_id: str) -> OrderReport | None:
        state = await _call(lambda: self.client.find_order(self.symbol, client_id=client_id))
        return _report(state) if state is not None else None

    async def cancel(self, client_id: str) -> OrderReport:
        return _report(await _call(lambda: self.client.cancel_order(self.symbol, client_id=client_id)))

    async def open_orders(self) -> list[OrderReport]:
        return [_report(s) for s in await _call(lambda: self.client.open_orders(self.symbol))]

    async def position(self) -> Position:
        for p in await _call(lambda: self.client.positions(self.symbol)):
            if p.symbol == self.symbol:
                return Position(self.symbol, p.amount, p.entry_price)
        return Position(self.symbol, 0.0, 0.0)


class UpbitOrderGateway:
    """Upbit KRW spot: no exchange-held stops (a local guardian sends the exit); the position is the coin held."""

    exchange = "upbit"
    holds_stops = False

    def __init__(self, client: UpbitPrivateClient, market: str) -> None:
        self.client, self.market = client, market
        self.coin = market.partition("-")[2]

    async def place(self, intent: OrderIntent) -> OrderReport:
        if intent.type not in ("MARKET", "LIMIT"):
            raise OrderRefused(f"upbit holds no {intent.type} orders: its stops are watched locally")
        side = "bid" if intent.side == "BUY" else "ask"
        if intent.type == "LIMIT":
            order = SpotOrder(self.market, side, "limit", intent.quantity, intent.price, identifier=intent.client_id)
        elif side == "bid":
            order = SpotOrder(self.market, side, "price", funds=intent.quote_amount, identifier=intent.client_id)
        else:
            order = SpotOrder(self.market, side, "market", intent.quantity, identifier=intent.client_id)
        return _report(await _call(lambda: self.client.place_order(order)), intent.client_id)

    async def find(self, client_id: str) -> OrderReport | None:
        state = await _call(lambda: self.client.find_order(identifier=client_id))
        return _report(state) if state is not None else None

    async def cancel(self, client_id: str) -> OrderReport:
        return _report(await _call(lambda: self.client.cancel_order(identifier=client_id)))

    async def open_orders(self) -> list[OrderReport]:
        return [_report(s) for s in await _call(lambda: self.client.open_orders(self.market))]

    async def position(self) -> Position:
        for b in await _call(self.client.balances):
            if b.currency == self.coin:
                return Position(self.market, b.free + b.locked, 0.0)
        return Position(self.market, 0.0, 0.0)
