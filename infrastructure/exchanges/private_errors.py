"""The exchanges' private-API error answers as messages a trader can act on."""

from __future__ import annotations

from typing import Any

BINANCE_CODES: dict[int, str] = {
    -1003: "too many requests: the request weight limit was reached (HTTP 429); wait before sending more",
    -1015: "too many new orders: the order rate limit was reached; wait before placing more",
    -1021: "the request's timestamp is outside the exchange's recvWindow: this computer's clock differs from the "
           "exchange's; synchronise the system clock",
    -1022: "the signature was refused: the API secret does not belong to this API key; store the right pair "
           "with `quantdesk keys set --exchange binance`",
    -2014: "the API key is malformed; store it again with `quantdesk keys set --exchange binance`",
    -2015: "the API key is invalid, lacks futures trading permission, or this IP is not allowed for it",
    -2011: "the order is unknown or no longer open, so it cannot be cancelled",
    -2013: "no such order",
    -2019: "margin is insufficient for this order at the current leverage",
    -2021: "the stop price would trigger immediately: it is on the wrong side of the current price",
    -2022: "the reduce-only order was rejected: there is no position it would reduce",
    -4014: "the price is not on the symbol's tick grid",
    -1111: "the quantity is not on the symbol's step grid",
    -4028: "the leverage is not allowed for this symbol",
    -4046: "the margin type is already set",
    -4048: "the margin type cannot change while a position or open orders exist",
    -4116: "an open order already uses this client order id",
    -4130: "an open closePosition stop or take-profit already exists in this direction; use reduce-only "
           "quantity stops and place the new one before cancelling the old",
    -5022: "the post-only (GTX) order would have traded at once, so it was rejected",
    -4164: "the order's notional value is below the symbol's minimum (reduce-only orders are exempt)",
}

UPBIT_NAMES: dict[str, str] = {
    "jwt_verification": "the request's signature (JWT) was refused: the secret does not belong to this access key; "
                        "store the right pair with `quantdesk keys set --exchange upbit`",
    "invalid_access_key": "the access key is not registered at the exchange",
    "expired_access_key": "the access key has expired; issue a new one on Upbit and store it",
    "no_authorization_ip": "this IP address is not allowed for the key; add it in Upbit's API key settings",
    "nonce_used": "the request's nonce was used before (a replayed request); it was refused",
    "invalid_query_payload": "the query_hash does not match the parameters sent",
    "under_min_total_bid": "the buy order is below Upbit's minimum order total of 5,000 KRW",
    "under_min_total_ask": "the sell order is below Upbit's minimum order total of 5,000 KRW",
    "invalid_price_bid": "the buy price is not on the KRW price unit for its level",
    "invalid_price_ask": "the sell price is not on the KRW price unit for its level",
    "insufficient_funds_bid": "not enough KRW for this buy order (fees included)",
    "insufficient_funds_ask": "not enough of the coin for this sell order",
    "order_not_found": "no such order (or it is no longer open)",
    "duplicate_identifier": "this identifier was used before; every order needs a new one",
    "too_many_requests": "too many requests (HTTP 429); wait before sending more",
    "market_does_not_exist": "no such market",
    "validation_error": "a parameter is missing or invalid",
}


def binance_explain(status: int, body: Any) -> tuple[int | str | None, str]:
    """(code, message) for a Binance error answer."""
    if status == 418:
        return -1003, "this IP is banned for ignoring rate limits (HTTP 418); wait for the ban to end"
    if isinstance(body, dict) and isinstance(body.get("code"), int):
        code = body["code"]
        meaning = BINANCE_CODES.get(code)
        said = body.get("msg", "")
        return code, f"{meaning} ({said} code {code})" if meaning else f"{said} (code {code}, HTTP {status})"
    if status == 429:
        return -1003, BINANCE_CODES[-1003]
    return None, f"HTTP {status}: {body}"


def upbit_explain(status: int, body: Any) -> tuple[int | str | None, str]:
    """(error name, message) for an Upbit error answer."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        name = str(error.get("name", ""))
        meaning = UPBIT_NAMES.get(name)
        said = error.get("message", "")
        return name, f"{meaning} ({name}: {said})" if meaning else f"{name}: {said} (HTTP {status})"
    if status == 429:
        return "too_many_requests", UPBIT_NAMES["too_many_requests"]
    if status == 418:
        return "blocked", "this IP is blocked for ignoring rate limits (HTTP 418); wait before sending more"
    return None, f"HTTP {status}: {body}"
