"""Private websockets: Binance's user-data stream at /ws/<listenKey>, Upbit's /websocket/v1/private."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from aiohttp import WSMsgType, web

from infrastructure.simulator.private.accounts import Account
from infrastructure.simulator.private.auth import Refused, verify_upbit
from infrastructure.simulator.private.exchange import PRIVATE, PrivateExchange


def _subscribe(account: Account, exchange: str) -> tuple[str, asyncio.Queue[dict[str, Any]]]:
    entry: tuple[str, asyncio.Queue[dict[str, Any]]] = (exchange, asyncio.Queue())
    account.subscribers.append(entry)
    return entry


async def _pump(ws: web.WebSocketResponse, ex: PrivateExchange, account: Account,
                entry: tuple[str, asyncio.Queue[dict[str, Any]]], send: Any, expires: Any = None) -> None:
    """Forward the account's events until the client leaves; keep the market moving meanwhile."""
    queue = entry[1]
    reader = asyncio.ensure_future(ws.receive())
    try:
        while not ws.closed and not reader.done():
            getter = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait([getter, reader], timeout=ex.state.config.stream_interval_s,
                                         return_when=asyncio.FIRST_COMPLETED)
            if getter in done:
                await send(getter.result())
            else:
                getter.cancel()
                ex.engine.advance()
            if expires is not None and await expires():
                break
    except (ConnectionResetError, RuntimeError):
        pass
    finally:
        reader.cancel()
        if entry in account.subscribers:
            account.subscribers.remove(entry)
    await ws.close()


async def binance_user_stream(request: web.Request) -> web.StreamResponse:
    ex = request.app[PRIVATE]
    key = request.match_info["key"]
    owner = ex.listen_key_owner(key)
    if owner is None:
        return web.json_response({"code": -1125, "msg": "This listenKey does not exist."}, status=400)
    account = owner[0]
    entry = _subscribe(account, "binance")  # before the handshake completes: no event can slip past
    ws = web.WebSocketResponse()
    try:
        await ws.prepare(request)
    except BaseException:
        account.subscribers.remove(entry)
        raise

    async def send(message: dict[str, Any]) -> None:
        await ws.send_str(json.dumps(message))

    async def expired() -> bool:
        hit = ex.listen_keys.get(key)
        if hit is not None and hit[1] > time.monotonic():
            return False
        ex.listen_keys.pop(key, None)
        now = ex.clock.now_ms()
        await send({"e": "listenKeyExpired", "E": now, "listenKey": key})
        return True

    await _pump(ws, ex, account, entry, send, expired)
    return ws


async def upbit_private_stream(request: web.Request) -> web.StreamResponse:
    ex = request.app[PRIVATE]
    try:
        account = verify_upbit(request, ex.book)
    except Refused as refusal:
        return refusal.response()
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    first = await ws.receive()
    kinds = _subscription(first.data) if first.type in (WSMsgType.TEXT, WSMsgType.BINARY) else None
    if not kinds:
        await ws.send_bytes(json.dumps({"error": {"name": "WRONG_FORMAT", "message": "subscribe to myOrder and/or "
                                                  "myAsset with a ticket"}}).encode())
        await ws.close()
        return ws
    codes = kinds.get("myOrder") or []

    async def send(message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind not in kinds or (kind == "myOrder" and codes and message.get("code") not in codes):
            return
        await ws.send_bytes(json.dumps(message).encode())  # Upbit sends binary frames

    await _pump(ws, ex, account, _subscribe(account, "upbit"), send)
    return ws


def _subscription(raw: str | bytes) -> dict[str, list[str]] | None:
    with contextlib.suppress(ValueError):
        req = json.loads(raw)
        if isinstance(req, list) and any(isinstance(x, dict) and "ticket" in x for x in req):
            out = {str(x["type"]): [str(c) for c in x.get("codes") or []]
                   for x in req if isinstance(x, dict) and x.get("type") in ("myOrder", "myAsset")}
            return out or None
    return None
