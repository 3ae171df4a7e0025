"""Upbit private REST routes: accounts, order chance, orders by uuid or identifier, open orders."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from infrastructure.simulator.private.accounts import FEES, Account, Order
from infrastructure.simulator.private.auth import Refused, upbit_refusal, verify_upbit
from infrastructure.simulator.private.engine import quote_currency
from infrastructure.simulator.private.events import upbit_order_rest
from infrastructure.simulator.private.exchange import PRIVATE, PrivateExchange

MIN_TOTAL_KRW = 5000.0
# KRW market price units by price level (Upbit's published table): (lowest price of the level, unit)
KRW_UNITS = ((2_000_000, 1000.0), (1_000_000, 500.0), (500_000, 100.0), (100_000, 50.0), (10_000, 10.0),
             (1_000, 1.0), (100, 0.1), (10, 0.01), (1, 0.001), (0.1, 0.0001), (0.01, 0.00001),
             (0.001, 0.000001), (0.0001, 0.0000001), (0, 0.00000001))
Handler = Callable[[web.Request, PrivateExchange, Account, dict[str, Any]], Awaitable[web.StreamResponse]]
_KST = timedelta(hours=9)


def krw_unit(price: float) -> float:
    return next(unit for floor, unit in KRW_UNITS if price >= floor)


def authed(group: str, handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Check the JWT (query_hash over the query or JSON body, nonce unused), the group's per-second limit."""
    async def route(request: web.Request) -> web.StreamResponse:
        ex = request.app[PRIVATE]
        header: dict[str, str] = {}
        try:
            body = await request.json() if request.method == "POST" and request.can_read_body else None
        except ValueError:
            return upbit_refusal(400, "validation_error", "the body must be JSON").response()
        try:
            account = verify_upbit(request, ex.book, body)
            left = ex.upbit_remaining(account, group)
            header = {"Remaining-Req": f"group={group}; min=1800; sec={max(left, 0)}"}
            if left < 0:
                raise upbit_refusal(429, "too_many_requests", "Too many API requests.")
            ex.engine.advance()
            params = body if isinstance(body, dict) else dict(request.query)
            resp = await handler(request, ex, account, params)
        except Refused as refusal:
            resp = refusal.response()
        if not resp.prepared:
            resp.headers.update(header)
        return resp
    return route


def _stamp(ms: int) -> str:
    return (datetime.fromtimestamp(ms / 1000, UTC) + _KST).strftime("%Y-%m-%dT%H:%M:%S+09:00")


def order_json(o: Order) -> dict[str, Any]:
    return upbit_order_rest(o, _stamp(o.created_ms))


async def accounts(request: web.Request, ex: PrivateExchange, account: Account,
                   params: dict[str, Any]) -> web.StreamResponse:
    rows = []
    for currency, balance in account.balances.items():
        if currency == "USDT" or (balance <= 0 and not account.locked.get(currency)):
            continue
        locked = account.locked.get(currency, 0.0)
        rows.append({"currency": currency, "balance": _text(balance - locked), "locked": _text(locked),
                     "avg_buy_price": _text(account.avg_buy.get(currency, 0.0)), "avg_buy_price_modified": False,
                     "unit_currency": "KRW"})
    return web.json_response(rows)


def _market(ex: PrivateExchange, params: dict[str, Any]) -> str:
    code = str(params.get("market", ""))
    if not code:
        raise upbit_refusal(400, "validation_error", "market: required")
    if ex.state.market("upbit", code) is None:
        raise upbit_refusal(404, "market_does_not_exist", f"market {code} does not exist")
    return code


async def chance(request: web.Request, ex: PrivateExchange, account: Account,
                 params: dict[str, Any]) -> web.StreamResponse:
    code = _market(ex, params)
    base, quote = quote_currency("upbit", code)
    fee = _text(FEES["upbit"][1])

    def acct(c: str) -> dict[str, Any]:
        return {"currency": c, "balance": _text(account.free(c)), "locked": _text(account.locked.get(c, 0.0)),
                "avg_buy_price": _text(account.avg_buy.get(c, 0.0)), "unit_currency": "KRW"}
    side = {"currency": quote, "min_total": str(int(MIN_TOTAL_KRW))}
    return web.json_response({
        "bid_fee": fee, "ask_fee": fee, "maker_bid_fee": fee, "maker_ask_fee": fee,
        "market": {"id": code, "name": f"{base}/{quote}", "order_types": ["limit"], "ord_types": ["limit"],
                   "bid_types": ["limit", "price"], "ask_types": ["limit", "market"], "order_sides": ["ask", "bid"],
                   "bid": side, "ask": {**side, "currency": base}, "max_total": "1000000000", "state": "active"},
        "bid_account": acct(quote), "ask_account": acct(base),
    })


def _number(params: dict[str, Any], name: str) -> float:
    try:
        value = float(params[name])
    except (KeyError, TypeError, ValueError):
        raise upbit_refusal(400, "validation_error", f"{name}: a positive number is required") from None
    if value <= 0:
        raise upbit_refusal(400, "validation_error", f"{name}: a positive number is required")
    return value


def _new_order(ex: PrivateExchange, account: Account, params: dict[str, Any]) -> Order:
    code = _market(ex, params)
    side, kind = params.get("side"), params.get("ord_type")
    if side not in ("bid", "ask"):
        raise upbit_refusal(400, "validation_error", "side: must be bid or ask")
    word = side
    now = ex.state.now_ms()
    order = Order("upbit", next(ex.book.order_ids), str(uuid.uuid4()), str(params.get("identifier") or ""), code,
                  "BUY" if side == "bid" else "SELL", str(kind), 0.0, created_ms=now, updated_ms=now)
    base, quote = quote_currency("upbit", code)
    price_now = ex.engine.price("upbit", code)
    fee = FEES["upbit"][1]
    if kind == "limit":
        order.quantity, order.price = _number(params, "volume"), _number(params, "price")
        unit = krw_unit(order.price)
        if abs(order.price / unit - round(order.price / unit)) > 1e-9:
            raise upbit_refusal(400, f"invalid_price_{word}", f"the price must be a multiple of {unit:g} KRW "
                                                              "at this level")
        total = order.price * order.quantity
    elif kind == "price" and side == "bid":
        order.funds = _number(params, "price")
        total = order.funds
    elif kind == "market" and side == "ask":
        order.quantity = _number(params, "volume")
        total = order.quantity * price_now
    else:
        raise upbit_refusal(400, "validation_error", "ord_type: limit, price (bid) or market (ask)")
    if total < MIN_TOTAL_KRW:
        raise upbit_refusal(400, f"under_min_total_{word}",
                            f"the order total must be at least {MIN_TOTAL_KRW:,.0f} KRW")
    need, currency = (total * (1 + fee), quote) if side == "bid" else (order.quantity, base)
    if need > account.free(currency) + 1e-9:
        raise upbit_refusal(400, f"insufficient_funds_{word}", f"not enough {currency} for this order")
    order.locked = need
    account.locked[currency] = account.locked.get(currency, 0.0) + need
    return order


async def post_order(request: web.Request, ex: PrivateExchange, account: Account,
                     params: dict[str, Any]) -> web.StreamResponse:
    identifier = str(params.get("identifier") or "")
    if identifier:
        if identifier in account.identifiers:  # unique across every order ever tried, placed or not
            raise upbit_refusal(400, "duplicate_identifier", f"identifier {identifier!r} was used before")
        account.identifiers.add(identifier)
    order = _new_order(ex, account, params)
    ex.engine.submit(account, order)
    fault = await ex.apply_fault(request, ex.next_fault())
    if fault is not None:
        return fault
    return web.json_response(order_json(order), status=201)


def _find(account: Account, params: dict[str, Any]) -> Order:
    uuid_, identifier = params.get("uuid"), params.get("identifier")
    if not uuid_ and not identifier:
        raise upbit_refusal(400, "validation_error", "uuid or identifier: one is required")
    order = account.find("upbit", client_id=str(identifier) if identifier else None,
                         uuid=str(uuid_) if uuid_ else None)
    if order is None:
        raise upbit_refusal(404, "order_not_found", "order not found")
    return order


async def get_order(request: web.Request, ex: PrivateExchange, account: Account,
                    params: dict[str, Any]) -> web.StreamResponse:
    order = _find(account, params)
    trades = [{"market": f.symbol, "uuid": str(f.trade_id), "price": _text(f.price), "volume": _text(f.quantity),
               "funds": _text(f.price * f.quantity), "side": "bid" if f.side == "BUY" else "ask",
               "created_at": _stamp(f.ts)} for f in account.fills if f.order_id == order.order_id]
    return web.json_response({**order_json(order), "trades": trades})


async def delete_order(request: web.Request, ex: PrivateExchange, account: Account,
                       params: dict[str, Any]) -> web.StreamResponse:
    order = _find(account, params)
    if not order.active:
        raise upbit_refusal(400, "order_not_found", "the order is no longer open")
    answer = order_json(order)  # Upbit answers the order as it stood when the cancel was accepted
    ex.engine.cancel(account, order)
    return web.json_response(answer)


async def open_orders(request: web.Request, ex: PrivateExchange, account: Account,
                      params: dict[str, Any]) -> web.StreamResponse:
    market = params.get("market") or None
    if market:
        _market(ex, params)
    return web.json_response([order_json(o) for o in account.open_orders("upbit", market)])


def _text(x: float) -> str:
    return json.dumps(round(float(x), 8))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/v1/accounts", authed("default", accounts))
    app.router.add_get("/v1/orders/chance", authed("default", chance))
    app.router.add_post("/v1/orders", authed("order", post_order))
    app.router.add_get("/v1/order", authed("default", get_order))
    app.router.add_delete("/v1/order", authed("default", delete_order))  # only new orders are in "order" (verify)
    app.router.add_get("/v1/orders/open", authed("default", open_orders))
