"""Sans-IO request signing for the exchanges' private APIs: Binance HMAC-SHA256 and Upbit JWT (HS256)."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

Params = Sequence[tuple[str, str | Sequence[str]]] | Mapping[str, str | Sequence[str]]
DEFAULT_RECV_WINDOW_MS = 5000
MAX_RECV_WINDOW_MS = 60000


def _pairs(params: Params) -> list[tuple[str, str]]:
    """Flatten parameters to (key, value) pairs in order; a list value becomes `key[]=v` pairs (Upbit's arrays)."""
    items: Iterable[tuple[str, str | Sequence[str]]] = params.items() if isinstance(params, Mapping) else params
    out: list[tuple[str, str]] = []
    for key, value in items:
        if isinstance(value, str):
            out.append((key, value))
        else:
            name = key if key.endswith("[]") else f"{key}[]"
            out.extend((name, str(v)) for v in value)
    return out


def encode_query(params: Params) -> str:
    """The exact query string to send: values percent-encoded, `[]` in array keys kept literal."""
    return "&".join(f"{quote(k, safe='[]')}={quote(v, safe='')}" for k, v in _pairs(params))


def hmac_sha256_hex(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


class ServerClock:
    """The exchange's time as an offset from ours, learnt from one round trip of GET /fapi/v1/time."""

    def __init__(self, local_ms: Callable[[], int]) -> None:
        self.local_ms = local_ms
        self.offset_ms = 0

    def learn(self, server_ms: int, sent_ms: int, received_ms: int) -> None:
        """The server stamped its time half-way through the round trip (the usual NTP assumption)."""
        self.offset_ms = server_ms - (sent_ms + received_ms) // 2

    def now_ms(self) -> int:
        return self.local_ms() + self.offset_ms


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """What to put on the wire: the query string and form body (signature included) and the headers."""

    query: str
    body: str
    headers: dict[str, str]


@dataclass(frozen=True)
class BinanceSigner:
    """SIGNED endpoints: `signature` = hex HMAC-SHA256 of the query string followed by the body."""

    api_key: str = field(repr=False)
    secret: str = field(repr=False)
    recv_window_ms: int = DEFAULT_RECV_WINDOW_MS

    def __post_init__(self) -> None:
        if not 0 < self.recv_window_ms <= MAX_RECV_WINDOW_MS:
            raise ValueError(f"recvWindow must be between 1 and {MAX_RECV_WINDOW_MS} ms, not {self.recv_window_ms}")

    def __repr__(self) -> str:
        return f"BinanceSigner(api_key={mask(self.api_key)}, recv_window_ms={self.recv_window_ms})"

    def sign(self, params: Params, timestamp_ms: int, in_body: bool = False) -> SignedRequest:
        """Add recvWindow, timestamp and signature; parameters go in the form body when `in_body`."""
        pairs = [*_pairs(params), ("recvWindow", str(self.recv_window_ms)), ("timestamp", str(timestamp_ms))]
        total = encode_query(pairs)
        signed = f"{total}&signature={hmac_sha256_hex(self.secret, total)}"
        headers = {"X-MBX-APIKEY": self.api_key}
        if in_body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            return SignedRequest("", signed, headers)
        return SignedRequest(signed, "", headers)

    def key_only(self) -> dict[str, str]:
        """USER_STREAM endpoints (listenKey) take the API key header and no signature."""
        return {"X-MBX-APIKEY": self.api_key}


def upbit_query_hash_text(params: Params) -> str:
    """The text Upbit hashes: the URL-encoded parameters, unquoted (so `key[]=v` and plain values)."""
    return unquote(encode_query(params))


@dataclass(frozen=True)
class UpbitSigner:
    """`Authorization: Bearer <JWT>`: HS256 over access_key, a fresh nonce, and the query's SHA512 when any."""

    access_key: str = field(repr=False)
    secret: str = field(repr=False)
    new_nonce: Callable[[], str] = lambda: str(uuid.uuid4())

    def __repr__(self) -> str:
        return f"UpbitSigner(access_key={mask(self.access_key)})"

    def token(self, params: Params | None = None) -> str:
        payload: dict[str, str] = {"access_key": self.access_key, "nonce": self.new_nonce()}
        if params:
            text = upbit_query_hash_text(params)
            payload["query_hash"] = hashlib.sha512(text.encode()).hexdigest()
            payload["query_hash_alg"] = "SHA512"
        import jwt  # here: PyJWT loads the cryptography bindings (~17 MB) that only a signed Upbit request needs

        return jwt.encode(payload, self.secret, algorithm="HS256")

    def headers(self, params: Params | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(params)}"}


def mask(key: str) -> str:
    """A key as it may be shown: its first and last 4 characters of a long key, nothing of a short one."""
    if len(key) < 16:
        return "****"
    return f"{key[:4]}…{key[-4:]}"
