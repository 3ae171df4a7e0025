"""Binance USDⓈ-M order checks in the exchange's order and with its error codes, and the order answer shape."""

from __future__ import annotations

import re
import uuid
from typing import Any

from infrastructure.simulator.binance import MIN_NOTIONAL, num
from infrastructure.simulator.market import SymbolSpec
from infrastructure.simulator.private.accounts import Account, Order
from infrastructure.simulator.private.auth import binance_refusal
from infrastructure.simulator.private.engine import MatchingEngine, would_trigger

TYPES = ("MARKET", "LIMIT", "STOP_MARKET", "TAKE_PROFIT_MARKET")
_CLIENT_ID = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")


def _number(params: dict[str, str], name: str) -> float:
    try:
        value = float(params[name])
    except KeyError:
        raise binance_refusal(400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or "
                                          "malformed.") from None
    except ValueError:
        raise binance_refusal(400, -1100, f"Illegal characters found in parameter '{name}'.") from None
    if value <= 0:
        raise binance_refusal(400, -1100, f"Parameter '{name}' must be positive.")
    return value


def _on_grid(value: float, step: float) -> bool:
    n = value / step
    return abs(n - round(n)) < 1e-6


def _flag(params: dict[str, str], name: str) -> bool:
    text = params.get(name, "false").lower()
    if text not in ("true", "false"):
        raise binance_refusal(400, -1100, f"Parameter '{name}' must be true or false.")
    return text == "true"


def new_order(params: dict[str, str], account: Account, spec: SymbolSpec, engine: MatchingEngine,
              order_id: int, now: int) -> Order:
    """The order POST /fapi/v1/order describes, after every check Binance makes; Refused otherwise."""
    side, kind = params.get("side", ""), params.get("type", "")
    if side not in ("BUY", "SELL"):
        raise binance_refusal(400, -1117, "Invalid side.")
    if kind not in TYPES:
        raise binance_refusal(400, -1116, "Invalid orderType.")
    if params.get("positionSide", "BOTH") != "BOTH":
        raise binance_refusal(400, -4061, "Order's position side does not match user's setting.")
    client_id = params.get("newClientOrderId") or f"sim_{uuid.uuid4().hex[:24]}"
    if not _CLIENT_ID.match(client_id):
        raise binance_refusal(400, -4015, "Client order id is not valid.")
    if any(o.client_id == client_id for o in account.open_orders("binance")):
        raise binance_refusal(400, -4116, "ClientOrderId is duplicated.")
    reduce_only, close = _flag(params, "reduceOnly"), _flag(params, "closePosition")
    order = Order("binance", order_id, str(uuid.uuid4()), client_id, spec.symbol, side, kind, 0.0,
                  reduce_only=reduce_only, close_position=close, time_in_force=params.get("timeInForce", "GTC"),
                  created_ms=now, updated_ms=now)
    _shape(params, order, spec, account)
    _position_rules(order, account)
    _money_rules(order, account, spec, engine)
    return order


def _shape(params: dict[str, str], order: Order, spec: SymbolSpec, account: Account) -> None:
    if order.close_position:
        if not order.is_stop:
            raise binance_refusal(400, -4136, "Target strategy invalid for orderType with closePosition.")
        if "quantity" in params or order.reduce_only:
            raise binance_refusal(400, -1106, "Parameter 'quantity' or 'reduceOnly' sent when not required.")
        if any(o.close_position and o.side == order.side and o.type == order.type
               for o in account.open_orders("binance", order.symbol)):
            raise binance_refusal(400, -4130, "An open stop or take profit order with GTE and closePosition in "
                                              "the direction is existing.")
    else:
        order.quantity = _number(params, "quantity")
        if not _on_grid(order.quantity, spec.lot):
            raise binance_refusal(400, -1111, "Precision is over the maximum defined for this asset.")
    if order.type == "LIMIT":
        order.price = _number(params, "price")
        if not _on_grid(order.price, spec.tick):
            raise binance_refusal(400, -4014, "Price not increased by tick size.")
        if order.time_in_force not in ("GTC", "IOC", "FOK", "GTX"):
            raise binance_refusal(400, -1115, "Invalid timeInForce.")
    if order.is_stop:
        order.stop_price = _number(params, "stopPrice")
        if not _on_grid(order.stop_price, spec.tick):
            raise binance_refusal(400, -4014, "Price not increased by tick size.")


def _position_rules(order: Order, account: Account) -> None:
    if order.reduce_only and not order.is_stop:  # conditional reduce-only orders are checked when they trigger
        pos = account.position(order.symbol).amount
        closable = -pos if order.side == "BUY" else pos
        if closable <= 0:
            raise binance_refusal(400, -2022, "ReduceOnly Order is rejected.")


def _money_rules(order: Order, account: Account, spec: SymbolSpec, engine: MatchingEngine) -> None:
    price = engine.price("binance", order.symbol)
    if order.type == "LIMIT" and order.time_in_force == "GTX" and (
            price <= order.price if order.side == "BUY" else price >= order.price):
        raise binance_refusal(400, -5022, "Due to the order could not be executed as maker, the Post Only order "
                                          "will be rejected.")
    if order.is_stop and would_trigger(order, price):
        raise binance_refusal(400, -2021, "Order would immediately trigger.")
    if order.reduce_only or order.close_position:
        return
    ref = order.price or order.stop_price or price
    minimum = MIN_NOTIONAL.get(spec.symbol, 5.0)
    if order.quantity * ref < minimum:
        raise binance_refusal(400, -4164, f"Order's notional must be no smaller than {num(minimum)} (unless you "
                                          "choose reduce only).")
    pos = account.position(order.symbol).amount
    closable = max(0.0, -pos if order.side == "BUY" else pos)
    opening = max(0.0, order.quantity - closable)
    needed = opening * ref / account.leverage.get(order.symbol, 20) + order.quantity * ref * 0.0005
    if needed > engine.available_margin(account):
        raise binance_refusal(400, -2019, "Margin is insufficient.")


def order_answer(o: Order) -> dict[str, Any]:
    return {
        "orderId": o.order_id, "symbol": o.symbol, "status": o.status, "clientOrderId": o.client_id,
        "price": num(o.price), "avgPrice": num(round(o.avg_price, 8)), "origQty": num(o.quantity),
        "executedQty": num(o.executed), "cumQuote": num(round(o.quote, 8)), "timeInForce": o.time_in_force,
        "type": o.type, "reduceOnly": o.reduce_only, "closePosition": o.close_position, "side": o.side,
        "positionSide": "BOTH", "stopPrice": num(o.stop_price), "workingType": "CONTRACT_PRICE",
        "priceProtect": False, "origType": o.type, "updateTime": o.updated_ms, "time": o.created_ms,
    }


def _bracket_table(symbol: str) -> list[tuple[float, int, float]]:
    if symbol == "BTCUSDT":
        return [(5e4, 125, 0.004), (2.5e5, 100, 0.005), (3e6, 50, 0.01), (1.5e7, 20, 0.025), (3e7, 10, 0.05),
                (8e7, 5, 0.1), (1e8, 4, 0.125), (2e8, 3, 0.15), (3e8, 2, 0.25), (5e8, 1, 0.5)]
    return [(1e4, 75, 0.005), (1e5, 50, 0.01), (5e5, 25, 0.02), (1e6, 10, 0.05), (5e6, 5, 0.1), (1e7, 1, 0.5)]


def brackets(symbol: str) -> list[dict[str, Any]]:
    """Maintenance-margin brackets; `cum` makes the maintenance margin continuous across bracket floors."""
    out, floor, cum, prev_rate = [], 0.0, 0.0, 0.0
    for i, (cap, lev, rate) in enumerate(_bracket_table(symbol), start=1):
        cum += floor * (rate - prev_rate)
        out.append({"bracket": i, "initialLeverage": lev, "notionalCap": cap, "notionalFloor": floor,
                    "maintMarginRatio": rate, "cum": round(cum, 8)})
        floor, prev_rate = cap, rate
    return out


def max_leverage(symbol: str) -> int:
    return _bracket_table(symbol)[0][1]


def bracket_for(symbol: str, notional: float) -> dict[str, Any]:
    rows = brackets(symbol)
    return next((b for b in rows if notional < b["notionalCap"]), rows[-1])


def liquidation_price(symbol: str, amount: float, entry: float, margin: float) -> float:
    """Binance's one-way formula: the price where margin + PnL meets maintenance margin (0 = none).

    `margin` is the isolated margin, or for cross the wallet less the other positions' needs.
    """
    if not amount:
        return 0.0
    side, size = (1.0 if amount > 0 else -1.0), abs(amount)
    b = bracket_for(symbol, size * entry)
    price = (margin + b["cum"] - side * size * entry) / (size * b["maintMarginRatio"] - side * size)
    return max(0.0, price)
