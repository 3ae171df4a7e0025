"""Wiring of the private side into the simulator app: routes, the private gate, and the test-only state view."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from infrastructure.simulator.private import binance_routes, streams, upbit_routes
from infrastructure.simulator.private.exchange import PRIVATE, PrivateExchange
from infrastructure.simulator.state import STATE

_PATHS = frozenset({
    "/fapi/v1/order", "/fapi/v1/openOrders", "/fapi/v1/allOpenOrders", "/fapi/v1/leverage", "/fapi/v1/marginType",
    "/fapi/v1/leverageBracket", "/fapi/v1/listenKey", "/fapi/v1/time",
    "/v1/accounts", "/v1/orders", "/v1/order", "/v1/orders/chance", "/v1/orders/open",
})


def is_private(path: str) -> bool:
    """Exact paths (so that e.g. a quotation /v1/orderbook stays public) and everything under /fapi/v2/."""
    return path in _PATHS or path.startswith("/fapi/v2/")


async def private_gate(request: web.Request, handler: Any) -> web.StreamResponse:
    """Private routes skip the public fault injection; Binance's still count against the IP's weight."""
    state = request.app[STATE]
    route = "binance.private" if request.path.startswith("/fapi/") else "upbit.private"
    header: dict[str, str] = {}
    if route == "binance.private":
        verdict = state.binance_limits.check(request.remote or "?", 1)
        header = {"X-MBX-USED-WEIGHT-1M": str(verdict.used_weight)}
        if verdict.status in (418, 429):
            header["Retry-After"] = str(verdict.retry_after_s)
            msg = "Way too many requests; IP banned." if verdict.status == 418 else "Too many requests."
            resp: web.StreamResponse = web.json_response({"code": -1003, "msg": msg}, status=verdict.status,
                                                         headers=header)
            state.log.record(route, resp.status)
            return resp
    resp = await handler(request)
    if not resp.prepared:
        resp.headers.update(header)
    state.log.record(route, resp.status)
    return resp


async def sim_state(request: web.Request) -> web.Response:
    """Test-only: the exchange's side of one account (balances, positions, open orders, orders, fills)."""
    ex = request.app[PRIVATE]
    account = ex.book.get(request.query.get("api_key", ""))
    if account is None:
        return web.json_response({"error": "unknown api_key"}, status=404)
    ex.engine.advance()
    return web.json_response(account.snapshot())


def add_routes(app: web.Application) -> None:
    """Register before the public websocket routes: /ws/<listenKey> must win over /ws/<stream>."""
    state = app[STATE]
    app[PRIVATE] = PrivateExchange(state, state.config.accounts)
    app.router.add_get("/ws/{key:[A-Za-z0-9]{64}}", streams.binance_user_stream)
    app.router.add_get("/websocket/v1/private", streams.upbit_private_stream)
    app.router.add_get("/_sim/state", sim_state)
    binance_routes.add_routes(app)
    upbit_routes.add_routes(app)
