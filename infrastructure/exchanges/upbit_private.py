"""Upbit private REST: accounts, order chance, orders by identifier, open orders; KRW units applied before sending."""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Any

from app.errors import ExchangeError
from infrastructure.exchanges.http import RetryPolicy
from infrastructure.exchanges.pacing import UpbitPacer
from infrastructure.exchanges.private_errors import upbit_explain
from infrastructure.exchanges.private_http import ExchangeRejected, OutcomeUnknown, SignedHttp, Wire
from infrastructure.exchanges.private_types import Balance, OrderState, krw_price_unit, text
from infrastructure.exchanges.signing import Params, UpbitSigner, encode_query
from infrastructure.exchanges.upbit import UPBIT_URL

log = logging.getLogger("quantdesk.exchange")
MIN_TOTAL_KRW = Decimal(5000)
_STATUS = {"wait": "NEW", "watch": "NEW", "done": "FILLED", "cancel": "CANCELED"}


@dataclass(frozen=True, slots=True)
class SpotOrder:
    """limit (price + volume), price (market buy: `funds` KRW), market (market sell: volume)."""

    market: str
    side: str  # bid / ask
    ord_type: str
    volume: float = 0.0
    price: float = 0.0
    funds: float = 0.0
    identifier: str = ""


def krw_price(price: float, side: str) -> Decimal:
    """`price` on the KRW unit of its level: a bid rounds down, an ask up (never worse than asked)."""
    unit = krw_price_unit(price)
    mode = ROUND_DOWN if side == "bid" else ROUND_UP
    return (Decimal(repr(price)) / unit).quantize(Decimal(1), rounding=mode) * unit


def parse_order(data: dict[str, Any]) -> OrderState:
    executed = float(data.get("executed_volume") or 0)
    status = _STATUS.get(str(data.get("state")), "NEW")
    if status == "NEW" and executed > 0:
        status = "PARTIALLY_FILLED"
    funds = float(data.get("executed_funds") or 0)
    return OrderState("upbit", str(data["market"]), str(data.get("identifier") or ""), str(data["uuid"]),
                      "BUY" if data["side"] == "bid" else "SELL", str(data["ord_type"]), status,
                      float(data.get("volume") or 0), executed, funds / executed if executed else 0.0,
                      float(data.get("price") or 0), 0.0, False, 0, data)


_STREAM_STATUS = {"wait": "NEW", "watch": "NEW", "trade": "PARTIALLY_FILLED", "done": "FILLED", "cancel": "CANCELED"}


def parse_my_order(m: dict[str, Any]) -> OrderState:
    """A `myOrder` message of the private websocket as an OrderState; `raw` keeps the trade's fee (`trade_fee`).
    A market buy by amount has no volume: its size is what was executed."""
    executed = float(m.get("executed_volume") or 0)
    status = _STREAM_STATUS.get(str(m.get("state")), "NEW")
    if status == "NEW" and executed > 0:
        status = "PARTIALLY_FILLED"
    avg = float(m.get("avg_price") or 0)
    if not avg and executed:
        avg = float(m.get("executed_funds") or 0) / executed
    volume = float(m.get("volume") or 0) or executed
    return OrderState("upbit", str(m["code"]), str(m.get("identifier") or ""), str(m.get("uuid") or ""),
                      "BUY" if str(m.get("ask_bid")).upper() == "BID" else "SELL", str(m.get("order_type") or ""),
                      status, volume, executed, avg, float(m.get("price") or 0), 0.0, False,
                      int(m.get("timestamp") or 0), m)


def parse_my_asset(m: dict[str, Any]) -> list[Balance]:
    """A `myAsset` message: every currency it names, free and locked."""
    return [Balance(str(a["currency"]), float(a.get("balance") or 0), float(a.get("locked") or 0))
            for a in m.get("assets") or ()]


class UpbitPrivateClient:
    """JWT-signed endpoints against `base_url`; new orders in Upbit's `order` rate group (8/s), the rest in
    `default` (30/s)."""

    def __init__(self, access_key: str, secret: str, base_url: str = UPBIT_URL,
                 policy: RetryPolicy | None = None) -> None:
        self.signer = UpbitSigner(access_key, secret)
        self.order_pacer = UpbitPacer(8)
        self.default_pacer = UpbitPacer(30)
        self._http = SignedHttp("upbit", base_url, upbit_explain, policy)

    def __repr__(self) -> str:
        return f"UpbitPrivateClient({self._http.base_url}, {self.signer!r})"

    @property
    def base_url(self) -> str:
        return self._http.base_url

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(self, method: str, path: str, params: dict[str, Any] | None = None, *, order_group: bool = False,
                      changes_state: bool = False, what: str = "") -> Any:
        """GET/DELETE parameters travel in the query, POST's as a JSON body; the JWT hashes them either way."""
        items: Params = params or {}

        def build() -> Wire:
            headers = self.signer.headers(items or None)
            if method == "POST":
                return Wire("", json.dumps(params).encode(), {**headers, "Content-Type": "application/json"})
            return Wire(encode_query(items), None, headers)

        pacer = self.order_pacer if order_group else self.default_pacer
        return await self._http.send(method, path, build, (pacer,), changes_state=changes_state, what=what)

    async def balances(self) -> list[Balance]:
        data = await self.request("GET", "/v1/accounts", what="accounts")
        return [Balance(a["currency"], float(a["balance"]), float(a["locked"])) for a in data]

    async def chance(self, market: str) -> dict[str, Any]:
        data: dict[str, Any] = await self.request("GET", "/v1/orders/chance", {"market": market},
                                                  what=f"order chance of {market}")
        return data

    def order_params(self, order: SpotOrder, identifier: str) -> dict[str, str]:
        """The order on the KRW price unit, refused here when under the 5,000 KRW minimum."""
        params = {"market": order.market, "side": order.side, "ord_type": order.ord_type}
        if order.ord_type == "limit":
            price, volume = krw_price(order.price, order.side), Decimal(repr(order.volume)).quantize(
                Decimal("1e-8"), rounding=ROUND_DOWN)
            total = price * volume
            params.update(price=text(price), volume=text(volume))
        elif order.ord_type == "price" and order.side == "bid":
            total = Decimal(repr(order.funds)).quantize(Decimal(1), rounding=ROUND_DOWN)
            params["price"] = text(total)
        elif order.ord_type == "market" and order.side == "ask":
            volume = Decimal(repr(order.volume)).quantize(Decimal("1e-8"), rounding=ROUND_DOWN)
            total = volume * Decimal(repr(order.price)) if order.price else MIN_TOTAL_KRW
            params["volume"] = text(volume)
        else:
            raise ExchangeError(f"upbit: ord_type {order.ord_type!r} with side {order.side!r} is not supported; "
                                "use limit, price (bid) or market (ask)")
        if total < MIN_TOTAL_KRW:
            raise ExchangeError(f"upbit: {order.market} order total {text(total)} KRW is below Upbit's minimum of "
                                "5,000 KRW")
        params["identifier"] = identifier
        return params

    async def place_order(self, order: SpotOrder) -> OrderState:
        """Place once. Every attempt carries the same identifier, Upbit's idempotency key: after a lost answer the
        order is looked up by it, and a resend that Upbit refuses as a duplicate means an earlier attempt arrived
        (then that order is returned) — so a late-arriving first attempt can never become a second order."""
        identifier = order.identifier or f"qd-{uuid.uuid4().hex[:24]}"
        params = self.order_params(order, identifier)
        what = f"{order.side} {order.ord_type} {order.market} order {identifier}"
        for attempt in range(3):
            try:
                return parse_order(await self.request("POST", "/v1/orders", params, order_group=True,
                                                      changes_state=True, what=what))
            except OutcomeUnknown as err:
                found = await self.find_order(identifier=identifier)
                if found is not None:
                    return found
                log.warning("%s; not at the exchange yet, so it is sent again under the same identifier", err)
            except ExchangeRejected as err:
                if err.code != "duplicate_identifier" or attempt == 0:  # a first send: the caller reused it
                    raise
                found = await self.find_order(identifier=identifier)
                if found is None:  # burned by an earlier refused attempt: no order exists
                    raise
                return found
        raise OutcomeUnknown(f"upbit: {order.market} order {identifier}: no answer after 3 attempts and not found")

    async def get_order(self, identifier: str = "", uuid_: str = "") -> OrderState:
        params = {"identifier": identifier} if identifier else {"uuid": uuid_}
        return parse_order(await self.request("GET", "/v1/order", params, what=f"order {identifier or uuid_}"))

    async def find_order(self, identifier: str = "", uuid_: str = "") -> OrderState | None:
        """The order, or None when the exchange has never seen it (order_not_found)."""
        try:
            return await self.get_order(identifier, uuid_)
        except ExchangeRejected as err:
            if err.code == "order_not_found":
                return None
            raise

    async def cancel_order(self, identifier: str = "", uuid_: str = "") -> OrderState:
        params = {"identifier": identifier} if identifier else {"uuid": uuid_}
        with contextlib.suppress(OutcomeUnknown):  # whether it arrived or not, the order's state says
            await self.request("DELETE", "/v1/order", params, changes_state=True,
                               what=f"cancel of order {identifier or uuid_}")
        return await self.get_order(identifier, uuid_)

    async def open_orders(self, market: str = "") -> list[OrderState]:
        data = await self.request("GET", "/v1/orders/open", {"market": market} if market else None,
                                  what="open orders")
        return [parse_order(o) for o in data]
