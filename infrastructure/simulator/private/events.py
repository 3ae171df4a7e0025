"""User-data stream messages in each exchange's format: Binance order/account updates, Upbit myOrder/myAsset."""

from __future__ import annotations

from typing import Any

from infrastructure.simulator.binance import num
from infrastructure.simulator.private.accounts import Account, Fill, Order

_UPBIT_STATE = {"NEW": "wait", "PARTIALLY_FILLED": "wait", "FILLED": "done", "CANCELED": "cancel",
                "EXPIRED": "cancel", "REJECTED": "cancel"}


def upbit_state(order: Order) -> str:
    if order.is_stop and not order.triggered and order.active:
        return "watch"
    return _UPBIT_STATE[order.status]


def binance_order_event(order: Order, fill: Fill | None, execution: str, now: int) -> dict[str, Any]:
    o = {
        "s": order.symbol, "c": order.client_id, "S": order.side, "o": order.type, "f": order.time_in_force,
        "q": num(order.quantity), "p": num(order.price), "ap": num(order.avg_price), "sp": num(order.stop_price),
        "x": execution, "X": order.status, "i": order.order_id, "l": num(fill.quantity if fill else 0.0),
        "z": num(order.executed), "L": num(fill.price if fill else 0.0), "n": num(fill.fee if fill else 0.0),
        "N": "USDT", "T": fill.ts if fill else now, "t": fill.trade_id if fill else 0, "b": "0", "a": "0",
        "m": bool(fill and fill.maker), "R": order.reduce_only, "wt": "CONTRACT_PRICE", "ot": order.type,
        "ps": "BOTH", "cp": order.close_position, "rp": num(fill.realized if fill else 0.0),
    }
    return {"e": "ORDER_TRADE_UPDATE", "E": now, "T": now, "o": o}


def binance_account_event(account: Account, symbol: str, mark: float, reason: str, now: int) -> dict[str, Any]:
    pos = account.position(symbol)
    wallet = account.balances.get("USDT", 0.0)
    lev = account.leverage.get(symbol, 20)
    balances = [{"a": "USDT", "wb": num(round(wallet, 8)), "cw": num(round(wallet, 8)), "bc": "0"}]
    positions = [{"s": symbol, "pa": num(pos.amount), "ep": num(pos.entry_price), "cr": "0",
                  "up": num(round((mark - pos.entry_price) * pos.amount, 8)),
                  "mt": "isolated" if account.margin_type.get(symbol) == "ISOLATED" else "cross",
                  "iw": num(round(abs(pos.amount) * pos.entry_price / lev, 8)), "ps": "BOTH"}]
    return {"e": "ACCOUNT_UPDATE", "E": now, "T": now, "a": {"m": reason, "B": balances, "P": positions}}


def upbit_order_rest(order: Order, created: str) -> dict[str, Any]:
    """GET /v1/order and POST /v1/orders answer this shape."""
    ord_type = order.type
    return {
        "uuid": order.uuid, "side": "bid" if order.side == "BUY" else "ask", "ord_type": ord_type,
        "price": _text(order.funds if ord_type == "price" else order.price), "state": upbit_state(order),
        "market": order.symbol, "created_at": created, "volume": _text(order.quantity) if order.quantity else None,
        "remaining_volume": _text(order.remaining) if order.quantity else None,
        "reserved_fee": _text(order.locked), "remaining_fee": "0", "paid_fee": _text(order.fee),
        "locked": _text(order.locked), "executed_volume": _text(order.executed), "trades_count": order.trades,
        "identifier": order.client_id or None, "avg_price": _text(order.avg_price),
        "executed_funds": _text(order.quote),
    }


def upbit_order_event(order: Order, fill: Fill | None, now: int) -> dict[str, Any]:
    state = "trade" if fill is not None and order.active else upbit_state(order)
    return {
        "type": "myOrder", "code": order.symbol, "uuid": order.uuid, "ask_bid": "BID" if order.side == "BUY" else "ASK",
        "order_type": order.type, "state": state, "trade_uuid": str(fill.trade_id) if fill else None,
        "price": order.funds if order.type == "price" else order.price, "avg_price": order.avg_price,
        "volume": order.quantity, "remaining_volume": order.remaining, "executed_volume": order.executed,
        "trades_count": order.trades, "reserved_fee": 0.0, "remaining_fee": 0.0, "paid_fee": order.fee,
        "locked": order.locked, "executed_funds": order.quote, "trade_fee": fill.fee if fill else None,
        "is_maker": fill.maker if fill else None, "identifier": order.client_id or None,
        "trade_timestamp": fill.ts if fill else None, "order_timestamp": order.created_ms, "timestamp": now,
        "stream_type": "REALTIME",
    }


def upbit_asset_event(account: Account, currencies: list[str], now: int) -> dict[str, Any]:
    assets = [{"currency": c, "balance": account.free(c), "locked": account.locked.get(c, 0.0)} for c in currencies]
    return {"type": "myAsset", "asset_uuid": f"asset-{now}", "assets": assets, "asset_timestamp": now,
            "timestamp": now, "stream_type": "REALTIME"}


def _text(x: float) -> str:
    return num(round(x, 8))
