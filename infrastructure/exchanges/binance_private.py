"""Binance USDⓈ-M private REST: signed orders by client id, positions, account, leverage, listen keys."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.errors import ExchangeError
from infrastructure.exchanges.binance import BINANCE_URL
from infrastructure.exchanges.http import Pacer, RetryPolicy
from infrastructure.exchanges.pacing import OrderCountPacer, WeightPacer
from infrastructure.exchanges.private_errors import binance_explain
from infrastructure.exchanges.private_http import ExchangeRejected, OutcomeUnknown, SignedHttp, Wire
from infrastructure.exchanges.private_types import Balance, OrderState, PositionState, SymbolFilters, text
from infrastructure.exchanges.signing import BinanceSigner, ServerClock

log = logging.getLogger("quantdesk.exchange")
ORDER_TYPES = ("MARKET", "LIMIT", "STOP_MARKET", "TAKE_PROFIT_MARKET")


def wall_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True, slots=True)
class FuturesOrder:
    """An order to place: quantities and prices are rounded to the symbol's grid before sending."""

    symbol: str
    side: str  # BUY / SELL
    type: str  # MARKET, LIMIT, STOP_MARKET, TAKE_PROFIT_MARKET
    quantity: float = 0.0
    price: float = 0.0
    stop_price: float = 0.0
    reduce_only: bool = False
    close_position: bool = False
    client_id: str = ""
    time_in_force: str = "GTC"


def parse_order(data: dict[str, Any]) -> OrderState:
    return OrderState("binance", str(data["symbol"]), str(data["clientOrderId"]), str(data["orderId"]),
                      str(data["side"]), str(data["type"]), str(data["status"]), float(data.get("origQty", 0)),
                      float(data.get("executedQty", 0)), float(data.get("avgPrice", 0)), float(data.get("price", 0)),
                      float(data.get("stopPrice", 0)), bool(data.get("reduceOnly") or data.get("closePosition")),
                      int(data.get("updateTime", 0)), data)


def parse_order_update(event: dict[str, Any]) -> OrderState:
    """ORDER_TRADE_UPDATE of the user-data stream as an OrderState (raw keeps the fill: l, L, n, rp)."""
    o = event["o"]
    return OrderState("binance", o["s"], o["c"], str(o["i"]), o["S"], o["o"], o["X"], float(o["q"]), float(o["z"]),
                      float(o["ap"]), float(o["p"]), float(o["sp"]), bool(o["R"] or o.get("cp")), int(o["T"]), o)


def parse_account_update(event: dict[str, Any]) -> list[Balance]:
    """ACCOUNT_UPDATE of the user-data stream: each asset's wallet balance (`wb`) as `free` (no split is sent)."""
    return [Balance(str(b["a"]), float(b["wb"]), 0.0) for b in event.get("a", {}).get("B") or ()]


class BinancePrivateClient:
    """Signed USDⓈ-M endpoints against `base_url` (the simulator's URL offline)."""

    def __init__(self, api_key: str, secret: str, base_url: str = BINANCE_URL, recv_window_ms: int = 5000,
                 local_ms: Callable[[], int] = wall_ms, policy: RetryPolicy | None = None) -> None:
        self.signer = BinanceSigner(api_key, secret, recv_window_ms)
        self.clock = ServerClock(local_ms)
        self.weights: Pacer = WeightPacer(2400)
        self.order_rate: Pacer = OrderCountPacer()
        self._http = SignedHttp("binance", base_url, binance_explain, policy)
        self._filters: dict[str, SymbolFilters] = {}
        self._synced = False

    def __repr__(self) -> str:
        return f"BinancePrivateClient({self._http.base_url}, {self.signer!r})"

    @property
    def base_url(self) -> str:
        return self._http.base_url

    async def aclose(self) -> None:
        await self._http.aclose()

    async def sync_time(self) -> int:
        """Learn the exchange's clock offset from GET /fapi/v1/time; returns it in ms."""
        sent = self.clock.local_ms()
        data = await self._http.send("GET", "/fapi/v1/time", Wire, (self.weights,), what="server time")
        self.clock.learn(int(data["serverTime"]), sent, self.clock.local_ms())
        self._synced = True
        return self.clock.offset_ms

    async def signed(self, method: str, path: str, params: list[tuple[str, str]], *, weight: int = 1,
                     changes_state: bool = False, new_order: bool = False, what: str = "") -> Any:
        """A SIGNED request; a -1021 (clock) answer resynchronises the offset and tries once more."""
        if not self._synced:
            await self.sync_time()
        pacers = (self.weights, self.order_rate) if new_order else (self.weights,)
        for attempt in range(2):
            try:
                return await self._http.send(method, path, lambda: self._wire(params), pacers, weight=weight,
                                             changes_state=changes_state, what=what)
            except ExchangeRejected as err:
                if err.code != -1021:
                    raise
                if attempt == 1:
                    raise ExchangeRejected(f"{err}; the measured offset to the exchange is {self.clock.offset_ms} ms",
                                           err.status, err.code) from None
                await self.sync_time()
        raise AssertionError("unreachable")

    def _wire(self, params: list[tuple[str, str]]) -> Wire:
        signed = self.signer.sign(params, self.clock.now_ms())
        return Wire(signed.query, None, signed.headers)

    async def filters(self, symbol: str) -> SymbolFilters:
        """Tick, step and minimum notional from exchangeInfo (fetched once)."""
        if not self._filters:
            data = await self._http.send("GET", "/fapi/v1/exchangeInfo", Wire, (self.weights,), what="exchangeInfo")
            for s in data.get("symbols", []):
                f = {x.get("filterType"): x for x in s.get("filters", [])}
                self._filters[s["symbol"]] = SymbolFilters(
                    s["symbol"], Decimal(f["PRICE_FILTER"]["tickSize"]), Decimal(f["LOT_SIZE"]["stepSize"]),
                    Decimal(f["LOT_SIZE"]["minQty"]), Decimal(f.get("MIN_NOTIONAL", {}).get("notional", "0")))
        if symbol not in self._filters:
            raise ExchangeError(f"binance: no symbol {symbol!r} in exchangeInfo")
        return self._filters[symbol]

    async def order_params(self, order: FuturesOrder, client_id: str) -> list[tuple[str, str]]:
        """The order on the symbol's grid, checked against the minimums before it is sent."""
        if order.type not in ORDER_TYPES or order.side not in ("BUY", "SELL"):
            raise ExchangeError(f"binance: {order.side} {order.type} orders are not supported here")
        f = await self.filters(order.symbol)
        params = [("symbol", order.symbol), ("side", order.side), ("type", order.type),
                  ("newClientOrderId", client_id)]
        if order.close_position:
            params.append(("closePosition", "true"))
        else:
            qty = f.round_qty(order.quantity)
            if qty < f.min_qty:
                raise ExchangeError(f"binance: {order.symbol} quantity {order.quantity} is below the minimum "
                                    f"{text(f.min_qty)}")
            params.append(("quantity", text(qty)))
        if order.type == "LIMIT":
            price = f.round_price(order.price, "down" if order.side == "BUY" else "up")
            params += [("price", text(price)), ("timeInForce", order.time_in_force)]
        if order.stop_price:
            params.append(("stopPrice", text(f.round_price(order.stop_price))))
        if order.reduce_only and not order.close_position:
            params.append(("reduceOnly", "true"))
        value = f.round_qty(order.quantity) * Decimal(repr(order.price or order.stop_price))
        if value and not (order.reduce_only or order.close_position) and value < f.min_notional:
            raise ExchangeError(f"binance: {order.symbol} order value {text(value)} USDT is below the minimum "
                                f"notional {text(f.min_notional)} USDT")
        return params

    async def place_order(self, order: FuturesOrder) -> OrderState:
        """Place once: after a lost answer the order is looked up by its client id, and sent again only if absent."""
        client_id = order.client_id or f"qd-{uuid.uuid4().hex[:24]}"
        params = await self.order_params(order, client_id)
        what = f"{order.side} {order.type} {order.symbol} order {client_id}"
        for _ in range(3):
            try:
                return parse_order(await self.signed("POST", "/fapi/v1/order", params, changes_state=True,
                                                     new_order=True, what=what))
            except OutcomeUnknown as err:
                found = await self.find_order(order.symbol, client_id=client_id)
                if found is not None:
                    return found
                log.warning("%s; not at the exchange, so sending it again is safe", err)
        raise OutcomeUnknown(f"binance: {what}: no answer after 3 attempts and not found at the exchange")

    async def get_order(self, symbol: str, client_id: str = "", order_id: str = "") -> OrderState:
        ident = [("origClientOrderId", client_id)] if client_id else [("orderId", order_id)]
        data = await self.signed("GET", "/fapi/v1/order", [("symbol", symbol), *ident],
                                 what=f"order {client_id or order_id} of {symbol}")
        return parse_order(data)

    async def find_order(self, symbol: str, client_id: str = "", order_id: str = "") -> OrderState | None:
        """The order, or None when the exchange has never seen it (-2013)."""
        try:
            return await self.get_order(symbol, client_id, order_id)
        except ExchangeRejected as err:
            if err.code == -2013:
                return None
            raise

    async def cancel_order(self, symbol: str, client_id: str = "", order_id: str = "") -> OrderState:
        ident = [("origClientOrderId", client_id)] if client_id else [("orderId", order_id)]
        try:
            data = await self.signed("DELETE", "/fapi/v1/order", [("symbol", symbol), *ident], changes_state=True,
                                     what=f"cancel of order {client_id or order_id} of {symbol}")
        except OutcomeUnknown:
            return await self.get_order(symbol, client_id, order_id)
        return parse_order(data)

    async def open_orders(self, symbol: str = "") -> list[OrderState]:
        params = [("symbol", symbol)] if symbol else []
        data = await self.signed("GET", "/fapi/v1/openOrders", params, weight=1 if symbol else 40, what="open orders")
        return [parse_order(o) for o in data]

    async def cancel_all(self, symbol: str) -> None:
        await self.signed("DELETE", "/fapi/v1/allOpenOrders", [("symbol", symbol)], changes_state=True,
                          what=f"cancel of every open order of {symbol}")

    async def positions(self, symbol: str = "") -> list[PositionState]:
        params = [("symbol", symbol)] if symbol else []
        data = await self.signed("GET", "/fapi/v2/positionRisk", params, weight=5, what="positions")
        return [PositionState(p["symbol"], float(p["positionAmt"]), float(p["entryPrice"]), float(p["markPrice"]),
                              float(p["unRealizedProfit"]), int(p["leverage"]), str(p["marginType"]),
                              float(p.get("liquidationPrice", 0))) for p in data]

    async def account(self) -> dict[str, Any]:
        data: dict[str, Any] = await self.signed("GET", "/fapi/v2/account", [], weight=5, what="account")
        return data

    async def balances(self) -> list[Balance]:
        """Futures wallet per asset: `free` is what new orders may use, `locked` the rest of the wallet."""
        data = await self.signed("GET", "/fapi/v2/balance", [], weight=5, what="balances")
        return [Balance(b["asset"], float(b["availableBalance"]),
                        max(0.0, float(b["balance"]) - float(b["availableBalance"]))) for b in data]

    async def set_leverage(self, symbol: str, leverage: int) -> int:
        data = await self.signed("POST", "/fapi/v1/leverage", [("symbol", symbol), ("leverage", str(leverage))],
                                 what=f"leverage of {symbol}")
        return int(data["leverage"])

    async def set_margin_type(self, symbol: str, margin_type: str) -> bool:
        """ISOLATED or CROSSED; False when it already was (-4046)."""
        try:
            await self.signed("POST", "/fapi/v1/marginType", [("symbol", symbol), ("marginType", margin_type)],
                              what=f"margin type of {symbol}")
        except ExchangeRejected as err:
            if err.code == -4046:
                return False
            raise
        return True

    async def leverage_brackets(self, symbol: str) -> list[dict[str, Any]]:
        data = await self.signed("GET", "/fapi/v1/leverageBracket", [("symbol", symbol)], what="leverage brackets")
        rows = data if isinstance(data, list) else [data]
        return list(next(r for r in rows if r["symbol"] == symbol)["brackets"])

    async def listen_key(self, method: str = "POST") -> str:
        """POST opens the user-data stream key (or returns the live one), PUT extends it, DELETE closes it."""
        data = await self._http.send(method, "/fapi/v1/listenKey", lambda: Wire(headers=self.signer.key_only()),
                                     (self.weights,), what="listen key")
        return str(data.get("listenKey", ""))

