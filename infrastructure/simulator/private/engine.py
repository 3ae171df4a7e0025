"""Matching against the simulator's own market: market orders at the current price, resting limits, stops."""

from __future__ import annotations

import math

import numpy as np

from domain.market import DAY_MS
from infrastructure.simulator.market import SimulatedMarket, Trades
from infrastructure.simulator.private import events
from infrastructure.simulator.private.accounts import FEES, Account, AccountBook, Fill, Order
from infrastructure.simulator.state import SimulatorState

LEVEL_NOTIONAL = {"binance": 250_000.0, "upbit": 50_000_000.0}  # book depth per price level
EPS = 1e-12
MAX_LEVELS = 1000  # an order deeper than this many levels is not filled further (it stays partially filled)


def quote_currency(exchange: str, symbol: str) -> tuple[str, str]:
    """(base, quote) of a symbol: KRW-BTC → (BTC, KRW), BTCUSDT → (BTC, USDT)."""
    if exchange == "upbit":
        quote, base = symbol.split("-", 1)
        return base, quote
    return symbol.removesuffix("USDT"), "USDT"


class MatchingEngine:
    """Fills orders of every account against the seeded market, trade by trade, up to the simulator's now."""

    def __init__(self, state: SimulatorState, book: AccountBook) -> None:
        self.state = state
        self.book = book
        self._cursor: dict[tuple[str, str], int] = {}

    def market(self, exchange: str, symbol: str) -> SimulatedMarket:
        market = self.state.market(exchange, symbol)
        if market is None:
            raise KeyError(symbol)
        return market

    def price(self, exchange: str, symbol: str, now: int | None = None) -> float:
        """The last trade at or before now."""
        now = self.state.now_ms() if now is None else now
        market = self.market(exchange, symbol)
        for day in range(now // DAY_MS, now // DAY_MS - 30, -1):
            t = market.trades(day).before(now + 1)
            if len(t.ts):
                return float(t.price[-1])
        return market.spec.base_price

    # -- accounts -----------------------------------------------------------------------------------------

    def unrealized(self, account: Account) -> float:
        return sum((self.price("binance", p.symbol) - p.entry_price) * p.amount
                   for p in account.positions.values() if p.amount)

    def available_margin(self, account: Account) -> float:
        """Wallet + unrealized PnL − position initial margin − open-order initial margin (USDT)."""
        used = sum(abs(p.amount) * self.price("binance", p.symbol) / account.leverage.get(p.symbol, 20)
                   for p in account.positions.values() if p.amount)
        for o in account.open_orders("binance"):
            if not (o.reduce_only or o.close_position):
                ref = o.price or o.stop_price or self.price("binance", o.symbol)
                used += o.remaining * ref / account.leverage.get(o.symbol, 20)
        return account.balances.get("USDT", 0.0) + self.unrealized(account) - used

    # -- orders -------------------------------------------------------------------------------------------

    def submit(self, account: Account, order: Order) -> None:
        """A new accepted order: take liquidity now if it can, else rest (limits) or wait for its trigger."""
        now = self.state.now_ms()
        account.orders[order.order_id] = order
        self._cursor.setdefault((order.exchange, order.symbol), now)
        self._publish(account, order, None, "NEW", now)
        price = self.price(order.exchange, order.symbol, now)
        if order.type in ("MARKET", "market", "price"):
            self._take(account, order, price, now)
        elif order.type in ("LIMIT", "limit") and _crosses(order, price):
            self._take(account, order, price, now, limit=order.price)
        if order.active and order.time_in_force in ("IOC", "FOK") and not order.is_stop:
            self.cancel(account, order, "EXPIRED")  # what could not trade at once does not rest

    def cancel(self, account: Account, order: Order, status: str = "CANCELED") -> None:
        now = self.state.now_ms()
        order.status, order.updated_ms = status, now
        self._release(account, order)
        self._publish(account, order, None, "EXPIRED" if status == "EXPIRED" else "CANCELED", now)

    def advance(self) -> None:
        """Run every trade since the last call past the resting and conditional orders."""
        now = self.state.now_ms()
        for (exchange, symbol), since in list(self._cursor.items()):
            waiting = [(a, o) for a in self.book.accounts.values() for o in a.open_orders(exchange, symbol)]
            if waiting and now > since:
                trades = _trades_between(self.market(exchange, symbol), since + 1, now + 1)
                for i in range(len(trades.ts)):
                    self._on_trade(waiting, float(trades.price[i]), float(trades.volume[i]), int(trades.ts[i]))
            self._cursor[(exchange, symbol)] = now

    def _on_trade(self, waiting: list[tuple[Account, Order]], price: float, volume: float, ts: int) -> None:
        for account, order in waiting:
            if not order.active:
                continue
            if order.is_stop and not order.triggered and _triggers(order, price):
                order.triggered = True
                self._take(account, order, price, ts)
            elif order.type in ("LIMIT", "limit") and _crosses(order, price, strict=True):
                self._fill(account, order, order.price, min(order.remaining, volume), True, ts)

    def _take(self, account: Account, order: Order, price: float, now: int, limit: float = 0.0) -> None:
        """Walk the book from `price`: each level holds LEVEL_NOTIONAL; a limit stops at its price."""
        spec = self.market(order.exchange, order.symbol).spec
        level_qty = LEVEL_NOTIONAL[order.exchange] / price
        step = spec.tick if order.side == "BUY" else -spec.tick
        level = 0
        while order.active and level < MAX_LEVELS:
            p = round(price + step * level, spec.price_decimals)
            if limit and ((order.side == "BUY" and p > limit) or (order.side == "SELL" and p < limit)):
                return  # the rest of a crossing limit order rests on the book
            qty = self._wanted(account, order, p)
            if qty <= EPS:  # nothing left to reduce: the exchange expires a reduce-only order
                if order.executed <= EPS:
                    self.cancel(account, order, "EXPIRED")
                else:
                    order.status = "FILLED"
                    self._release(account, order)
                return
            self._fill(account, order, p, min(qty, level_qty), False, now)
            level += 1

    def _wanted(self, account: Account, order: Order, price: float) -> float:
        if order.type == "price":  # Upbit market buy: by KRW amount, in whole satoshis
            return math.floor(max(0.0, order.funds - order.quote) / price * 1e8) / 1e8
        if order.reduce_only or order.close_position:
            pos = account.position(order.symbol).amount
            closable = -pos if order.side == "BUY" else pos
            if closable <= EPS:
                return 0.0
            return closable if order.close_position else min(order.remaining, closable)
        return order.remaining

    def _fill(self, account: Account, order: Order, price: float, qty: float, maker: bool, ts: int) -> None:
        qty = round(qty, 8)
        fee_rate = FEES[order.exchange][0 if maker else 1]
        fee = round(price * qty * fee_rate, 8)
        realized = (_futures_fill if order.exchange == "binance" else _spot_fill)(account, order, price, qty, fee)
        order.executed = round(order.executed + qty, 8)
        order.quote += price * qty
        order.fee += fee
        order.trades += 1
        order.updated_ms = ts
        flat = order.exchange == "binance" and abs(account.position(order.symbol).amount) <= EPS
        if order.type == "price":
            done = order.funds - order.quote < price * 1e-8
        else:
            done = order.remaining <= EPS and not order.close_position
            done = done or ((order.reduce_only or order.close_position) and flat)
        if done and (order.close_position or order.type == "price"):
            order.quantity = order.executed
        order.status = "FILLED" if done else "PARTIALLY_FILLED"
        if done:
            self._release(account, order)
        fill = Fill(order.exchange, next(self.book.trade_ids), order.order_id, order.client_id, order.symbol,
                    order.side, price, qty, fee, "USDT" if order.exchange == "binance" else "KRW", maker,
                    realized, ts)
        account.fills.append(fill)
        self._publish(account, order, fill, "TRADE", ts)

    def _release(self, account: Account, order: Order) -> None:
        if order.locked > 0:
            currency = _locked_currency(order)
            account.locked[currency] = max(0.0, account.locked.get(currency, 0.0) - order.locked)
            order.locked = 0.0

    def _publish(self, account: Account, order: Order, fill: Fill | None, execution: str, now: int) -> None:
        if order.exchange == "binance":
            account.publish("binance", events.binance_order_event(order, fill, execution, now))
            if fill is not None:
                mark = self.price("binance", order.symbol, now)
                account.publish("binance", events.binance_account_event(account, order.symbol, mark, "ORDER", now))
            return
        account.publish("upbit", events.upbit_order_event(order, fill, now))
        if fill is not None or execution in ("CANCELED", "EXPIRED"):
            account.publish("upbit", events.upbit_asset_event(account, list(quote_currency("upbit", order.symbol)),
                                                              now))


def _locked_currency(order: Order) -> str:
    base, quote = quote_currency(order.exchange, order.symbol)
    return quote if order.side == "BUY" else base


def _futures_fill(account: Account, order: Order, price: float, qty: float, fee: float) -> float:
    pos = account.position(order.symbol)
    signed = qty if order.side == "BUY" else -qty
    realized = 0.0
    if abs(pos.amount) <= EPS or (pos.amount > 0) == (signed > 0):
        new = round(pos.amount + signed, 8)
        pos.entry_price = (abs(pos.amount) * pos.entry_price + qty * price) / abs(new)
        pos.amount = new
    else:
        closing = min(abs(pos.amount), qty)
        realized = round((price - pos.entry_price) * closing * (1 if pos.amount > 0 else -1), 8)
        pos.amount = round(pos.amount + signed, 8)
        if qty - closing > EPS:
            pos.entry_price = price
        elif abs(pos.amount) <= EPS:
            pos.amount, pos.entry_price = 0.0, 0.0
    account.balances["USDT"] = round(account.balances.get("USDT", 0.0) + realized - fee, 8)
    return realized


def _spot_fill(account: Account, order: Order, price: float, qty: float, fee: float) -> float:
    base, quote = quote_currency("upbit", order.symbol)
    cost = price * qty
    if order.side == "BUY":
        held = account.balances.get(base, 0.0)
        avg = account.avg_buy.get(base, 0.0)
        account.avg_buy[base] = (held * avg + cost) / (held + qty)
        account.balances[base] = round(held + qty, 8)
        account.balances[quote] = round(account.balances.get(quote, 0.0) - cost - fee, 8)
        spent = min(order.locked, cost + fee)
    else:
        account.balances[base] = round(account.balances.get(base, 0.0) - qty, 8)
        account.balances[quote] = round(account.balances.get(quote, 0.0) + cost - fee, 8)
        spent = min(order.locked, qty)
    order.locked -= spent
    account.locked[_locked_currency(order)] = max(0.0, account.locked.get(_locked_currency(order), 0.0) - spent)
    return 0.0


def _crosses(order: Order, price: float, strict: bool = False) -> bool:
    """Would a limit order trade at `price`? Resting orders need the market to trade through (strict)."""
    if order.side == "BUY":
        return price < order.price if strict else price <= order.price
    return price > order.price if strict else price >= order.price


def _triggers(order: Order, price: float) -> bool:
    rising = (order.type == "STOP_MARKET") == (order.side == "BUY")
    return price >= order.stop_price if rising else price <= order.stop_price


def would_trigger(order: Order, price: float) -> bool:
    return _triggers(order, price)


def _trades_between(market: SimulatedMarket, start_ms: int, end_ms: int) -> Trades:
    parts = []
    for day in range(start_ms // DAY_MS, (end_ms - 1) // DAY_MS + 1):
        t = market.trades(day)
        lo, hi = t.ts.searchsorted([start_ms, end_ms])
        parts.append(Trades(t.ts[lo:hi], t.price[lo:hi], t.volume[lo:hi], t.buy[lo:hi]))
    return Trades(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("ts", "price", "volume", "buy")))
