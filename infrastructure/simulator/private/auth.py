"""The simulator's own, independent checks of signed requests: Binance HMAC + recvWindow, Upbit JWT + nonce."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from aiohttp import web

from infrastructure.simulator.private.accounts import Account, AccountBook


class Refused(Exception):
    """A request the exchange answers with an error: HTTP status and the exchange's JSON body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(json.dumps(body))
        self.status = status
        self.body = body

    def response(self) -> web.Response:
        return web.json_response(self.body, status=self.status)


def binance_refusal(status: int, code: int, msg: str) -> Refused:
    return Refused(status, {"code": code, "msg": msg})


def upbit_refusal(status: int, name: str, message: str) -> Refused:
    return Refused(status, {"error": {"name": name, "message": message}})


@dataclass
class AuthClock:
    """The exchange's wall time: what /fapi/v1/time answers, and (off by `skew_ms`, the clock-skew fault)
    what recvWindow is checked against, so that synchronising with the server time cannot help."""

    skew_ms: int = 0

    def now_ms(self) -> int:
        return int(time.time() * 1000)

    def check_ms(self) -> int:
        return self.now_ms() + self.skew_ms


def _strip_signature(text: str) -> tuple[str, str | None]:
    """`text` without its signature=… pair, and the signature (None when absent)."""
    parts = text.split("&") if text else []
    signature = next((p[len("signature="):] for p in parts if p.startswith("signature=")), None)
    return "&".join(p for p in parts if not p.startswith("signature=")), signature


def binance_account(request: web.Request, book: AccountBook) -> Account:
    key = request.headers.get("X-MBX-APIKEY", "")
    if not key:
        raise binance_refusal(401, -2014, "API-key format invalid.")
    account = book.get(key)
    if account is None:
        raise binance_refusal(401, -2015, "Invalid API-key, IP, or permissions for action.")
    return account


async def verify_binance(request: web.Request, book: AccountBook, clock: AuthClock) -> tuple[Account, dict[str, str]]:
    """The account and the parameters of a SIGNED request, or Refused (-2014/-2015/-1022/-1021/-1102)."""
    account = binance_account(request, book)
    query, q_sig = _strip_signature(request.rel_url.raw_query_string)
    body, b_sig = _strip_signature(await request.text() if request.can_read_body else "")
    signature = q_sig or b_sig
    if not signature:
        raise binance_refusal(400, -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.")
    expected = hmac.new(account.secret.encode(), (query + body).encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.lower()):
        raise binance_refusal(400, -1022, "Signature for this request is not valid.")
    params = dict(parse_qsl(query, keep_blank_values=True)) | dict(parse_qsl(body, keep_blank_values=True))
    _check_window(params, clock.check_ms())
    return account, params


def _check_window(params: dict[str, str], server_ms: int) -> None:
    try:
        timestamp = int(params["timestamp"])
        window = int(params.get("recvWindow", "5000"))
    except KeyError:
        raise binance_refusal(400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, "
                                          "or malformed.") from None
    except ValueError:
        raise binance_refusal(400, -1100, "Illegal characters found in parameter 'timestamp' or "
                                          "'recvWindow'.") from None
    if not 0 < window <= 60000:
        raise binance_refusal(400, -1131, "recvWindow must be less than 60000")
    if timestamp >= server_ms + 1000:
        raise binance_refusal(400, -1021, "Timestamp for this request was 1000ms ahead of the server's time.")
    if server_ms - timestamp > window:
        raise binance_refusal(400, -1021, "Timestamp for this request is outside of the recvWindow.")


def upbit_params_text(request: web.Request, body: Any) -> str:
    """The text whose SHA512 the JWT must carry: the query, or the JSON body's parameters encoded alike."""
    if isinstance(body, dict) and body:
        pairs: list[str] = []
        for key, value in body.items():
            if isinstance(value, list):
                name = key if key.endswith("[]") else f"{key}[]"
                pairs.extend(f"{name}={v}" for v in value)
            else:
                pairs.append(f"{key}={value}")
        return "&".join(pairs)
    return unquote(request.rel_url.raw_query_string)


def verify_upbit(request: web.Request, book: AccountBook, body: Any = None) -> Account:
    """The account behind `Authorization: Bearer <JWT>`, or Refused with Upbit's 401 error names."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise upbit_refusal(401, "jwt_verification", "Authorization: Bearer <JWT> is required")
    token = header[len("Bearer "):]
    import jwt  # here: PyJWT loads the cryptography bindings (~17 MB) that only private-API requests need

    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise upbit_refusal(401, "jwt_verification", "the JWT cannot be decoded") from None
    account = book.get(str(unverified.get("access_key", "")))
    if account is None:
        raise upbit_refusal(401, "invalid_access_key", "the access key is not registered")
    try:
        payload = jwt.decode(token, account.secret, algorithms=["HS256", "HS512"])
    except jwt.PyJWTError:
        raise upbit_refusal(401, "jwt_verification", "the JWT signature does not verify") from None
    nonce = str(payload.get("nonce", ""))
    if not nonce:
        raise upbit_refusal(401, "jwt_verification", "the JWT carries no nonce")
    if nonce in account.nonces:
        raise upbit_refusal(401, "nonce_used", "this nonce was used before")
    text = upbit_params_text(request, body)
    if text:
        expected = hashlib.sha512(text.encode()).hexdigest()
        if payload.get("query_hash_alg", "SHA512") != "SHA512" or payload.get("query_hash") != expected:
            raise upbit_refusal(401, "invalid_query_payload", "query_hash does not match the parameters")
    account.nonces.add(nonce)
    return account
