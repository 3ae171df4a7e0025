"""Binance USDⓈ-M private REST routes: orders, account, positions, leverage, margin type, brackets, listen keys."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from infrastructure.simulator.binance import num
from infrastructure.simulator.private import binance_orders
from infrastructure.simulator.private.accounts import Account, Order
from infrastructure.simulator.private.auth import Refused, binance_account, binance_refusal, verify_binance
from infrastructure.simulator.private.exchange import PRIVATE, PrivateExchange

Handler = Callable[[web.Request, PrivateExchange, Account, dict[str, str]], Awaitable[web.StreamResponse]]


def signed(handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Verify the signature and window, bring the market up to now, then run `handler`; errors as Binance's."""
    async def route(request: web.Request) -> web.StreamResponse:
        ex = request.app[PRIVATE]
        try:
            account, params = await verify_binance(request, ex.book, ex.clock)
            ex.engine.advance()
            return await handler(request, ex, account, params)
        except Refused as refusal:
            return refusal.response()
    return route


def _spec_of(ex: PrivateExchange, params: dict[str, str]) -> Any:
    market = ex.state.market("binance", params.get("symbol", ""))
    if market is None:
        raise binance_refusal(400, -1121, "Invalid symbol.")
    return market.spec


async def server_time(request: web.Request) -> web.Response:
    return web.json_response({"serverTime": request.app[PRIVATE].clock.now_ms()})


async def post_order(request: web.Request, ex: PrivateExchange, account: Account,
                     params: dict[str, str]) -> web.StreamResponse:
    spec = _spec_of(ex, params)
    headers, over = ex.binance_order_counts(account, new_order=True)
    if over:
        return web.json_response({"code": -1015, "msg": "Too many new orders."}, status=429, headers=headers)
    order = binance_orders.new_order(params, account, spec, ex.engine, next(ex.book.order_ids), ex.state.now_ms())
    ex.engine.submit(account, order)
    fault = await ex.apply_fault(request, ex.next_fault())
    if fault is not None:
        return fault
    return web.json_response(binance_orders.order_answer(order), headers=headers)


def _lookup(account: Account, params: dict[str, str], cancelling: bool) -> Order:
    order_id, client_id = params.get("orderId"), params.get("origClientOrderId")
    if not order_id and not client_id:
        raise binance_refusal(400, -1102, "Either orderId or origClientOrderId must be sent.")
    order = account.find("binance", int(order_id) if order_id and order_id.isdigit() else None, client_id)
    if order is None or order.symbol != params.get("symbol"):
        if cancelling:
            raise binance_refusal(400, -2011, "Unknown order sent.")
        raise binance_refusal(400, -2013, "Order does not exist.")
    return order


async def get_order(request: web.Request, ex: PrivateExchange, account: Account,
                    params: dict[str, str]) -> web.StreamResponse:
    return web.json_response(binance_orders.order_answer(_lookup(account, params, False)))


async def delete_order(request: web.Request, ex: PrivateExchange, account: Account,
                       params: dict[str, str]) -> web.StreamResponse:
    order = _lookup(account, params, True)
    if not order.active:
        raise binance_refusal(400, -2011, "Unknown order sent.")
    ex.engine.cancel(account, order)
    return web.json_response(binance_orders.order_answer(order))


async def open_orders(request: web.Request, ex: PrivateExchange, account: Account,
                      params: dict[str, str]) -> web.StreamResponse:
    symbol = params.get("symbol") or None
    return web.json_response([binance_orders.order_answer(o) for o in account.open_orders("binance", symbol)])


async def cancel_all(request: web.Request, ex: PrivateExchange, account: Account,
                     params: dict[str, str]) -> web.StreamResponse:
    _spec_of(ex, params)
    for order in account.open_orders("binance", params["symbol"]):
        ex.engine.cancel(account, order)
    return web.json_response({"code": 200, "msg": "The operation of cancel all open order is done."})


def _position_row(ex: PrivateExchange, account: Account, symbol: str) -> dict[str, Any]:
    pos = account.position(symbol)
    mark = ex.engine.price("binance", symbol)
    lev = account.leverage.get(symbol, 20)
    isolated = account.margin_type.get(symbol, "CROSSED") == "ISOLATED"
    margin = abs(pos.amount) * pos.entry_price / lev if isolated else _cross_margin(ex, account, symbol)
    liquidation = binance_orders.liquidation_price(symbol, pos.amount, pos.entry_price, margin)
    return {"symbol": symbol, "positionAmt": num(pos.amount), "entryPrice": num(round(pos.entry_price, 8)),
            "markPrice": num(mark), "unRealizedProfit": num(round((mark - pos.entry_price) * pos.amount, 8)),
            "liquidationPrice": num(round(liquidation, 8)), "leverage": str(lev),
            "marginType": "isolated" if isolated else "cross",
            "isolatedMargin": num(round(abs(pos.amount) * pos.entry_price / lev, 8)) if isolated else "0",
            "positionSide": "BOTH", "notional": num(round(pos.amount * mark, 8)), "updateTime": ex.state.now_ms()}


def _cross_margin(ex: PrivateExchange, account: Account, symbol: str) -> float:
    """The wallet, plus the other positions' PnL, less their maintenance margin."""
    out = account.balances.get("USDT", 0.0)
    for other in account.positions.values():
        if other.symbol != symbol and other.amount:
            mark = ex.engine.price("binance", other.symbol)
            b = binance_orders.bracket_for(other.symbol, abs(other.amount) * mark)
            out += (mark - other.entry_price) * other.amount - (abs(other.amount) * mark * b["maintMarginRatio"]
                                                                - b["cum"])
    return out


async def position_risk(request: web.Request, ex: PrivateExchange, account: Account,
                        params: dict[str, str]) -> web.StreamResponse:
    symbols = [params["symbol"]] if params.get("symbol") else [s.symbol for s in ex.state.specs("binance")]
    if params.get("symbol"):
        _spec_of(ex, params)
    return web.json_response([_position_row(ex, account, s) for s in symbols])


async def account_info(request: web.Request, ex: PrivateExchange, account: Account,
                       params: dict[str, str]) -> web.StreamResponse:
    wallet = account.balances.get("USDT", 0.0)
    upnl = ex.engine.unrealized(account)
    available = ex.engine.available_margin(account)
    asset = {"asset": "USDT", "walletBalance": num(round(wallet, 8)), "unrealizedProfit": num(round(upnl, 8)),
             "marginBalance": num(round(wallet + upnl, 8)), "availableBalance": num(round(available, 8)),
             "maxWithdrawAmount": num(round(max(0.0, min(wallet, available)), 8))}
    rows = [_position_row(ex, account, s.symbol) for s in ex.state.specs("binance")]
    return web.json_response({
        "totalWalletBalance": asset["walletBalance"], "totalUnrealizedProfit": asset["unrealizedProfit"],
        "totalMarginBalance": asset["marginBalance"], "availableBalance": asset["availableBalance"],
        "maxWithdrawAmount": asset["maxWithdrawAmount"], "canTrade": True, "assets": [asset],
        "positions": [{"symbol": r["symbol"], "positionAmt": r["positionAmt"], "entryPrice": r["entryPrice"],
                       "unrealizedProfit": r["unRealizedProfit"], "leverage": r["leverage"],
                       "isolated": r["marginType"] == "isolated", "positionSide": "BOTH"} for r in rows],
    })


async def balance(request: web.Request, ex: PrivateExchange, account: Account,
                  params: dict[str, str]) -> web.StreamResponse:
    wallet, upnl = account.balances.get("USDT", 0.0), ex.engine.unrealized(account)
    available = ex.engine.available_margin(account)
    return web.json_response([{
        "accountAlias": "SimFutures", "asset": "USDT", "balance": num(round(wallet, 8)),
        "crossWalletBalance": num(round(wallet, 8)), "crossUnPnl": num(round(upnl, 8)),
        "availableBalance": num(round(available, 8)), "maxWithdrawAmount": num(round(max(0.0, available), 8)),
        "marginAvailable": True, "updateTime": ex.state.now_ms()}])


async def set_leverage(request: web.Request, ex: PrivateExchange, account: Account,
                       params: dict[str, str]) -> web.StreamResponse:
    spec = _spec_of(ex, params)
    text = params.get("leverage", "")
    top = binance_orders.max_leverage(spec.symbol)
    if not text.isdigit() or not 1 <= int(text) <= top:
        raise binance_refusal(400, -4028, f"Leverage {text or '(none)'} is not valid")
    account.leverage[spec.symbol] = int(text)
    cap = next(b["notionalCap"] for b in binance_orders.brackets(spec.symbol) if b["initialLeverage"] <= int(text))
    return web.json_response({"leverage": int(text), "maxNotionalValue": num(cap), "symbol": spec.symbol})


async def set_margin_type(request: web.Request, ex: PrivateExchange, account: Account,
                          params: dict[str, str]) -> web.StreamResponse:
    spec = _spec_of(ex, params)
    wanted = params.get("marginType", "")
    if wanted not in ("ISOLATED", "CROSSED"):
        raise binance_refusal(400, -1100, "Illegal characters found in parameter 'marginType'.")
    if account.margin_type.get(spec.symbol, "CROSSED") == wanted:
        raise binance_refusal(400, -4046, "No need to change margin type.")
    if account.position(spec.symbol).amount or account.open_orders("binance", spec.symbol):
        raise binance_refusal(400, -4048, "Margin type cannot be changed if there exists position or open orders.")
    account.margin_type[spec.symbol] = wanted
    return web.json_response({"code": 200, "msg": "success"})


async def leverage_bracket(request: web.Request, ex: PrivateExchange, account: Account,
                           params: dict[str, str]) -> web.StreamResponse:
    symbols = [_spec_of(ex, params).symbol] if params.get("symbol") else [s.symbol for s in ex.state.specs("binance")]
    return web.json_response([{"symbol": s, "brackets": binance_orders.brackets(s)} for s in symbols])


async def listen_key(request: web.Request) -> web.Response:
    """USER_STREAM: the API key header alone; POST opens (or returns the live key), PUT extends, DELETE closes."""
    ex = request.app[PRIVATE]
    try:
        account = binance_account(request, ex.book)
    except Refused as refusal:
        return refusal.response()
    if request.method == "POST":
        return web.json_response({"listenKey": ex.open_listen_key(account)})
    if request.method == "PUT":
        if not ex.keep_alive(account):
            return web.json_response({"code": -1125, "msg": "This listenKey does not exist."}, status=400)
        return web.json_response({})
    ex.close_listen_key(account)
    return web.json_response({})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/fapi/v1/time", server_time)
    app.router.add_post("/fapi/v1/order", signed(post_order))
    app.router.add_get("/fapi/v1/order", signed(get_order))
    app.router.add_delete("/fapi/v1/order", signed(delete_order))
    app.router.add_get("/fapi/v1/openOrders", signed(open_orders))
    app.router.add_delete("/fapi/v1/allOpenOrders", signed(cancel_all))
    app.router.add_get("/fapi/v2/account", signed(account_info))
    app.router.add_get("/fapi/v2/positionRisk", signed(position_risk))
    app.router.add_get("/fapi/v2/balance", signed(balance))
    app.router.add_post("/fapi/v1/leverage", signed(set_leverage))
    app.router.add_post("/fapi/v1/marginType", signed(set_margin_type))
    app.router.add_get("/fapi/v1/leverageBracket", signed(leverage_bracket))
    for method in ("POST", "PUT", "DELETE"):
        app.router.add_route(method, "/fapi/v1/listenKey", listen_key)
