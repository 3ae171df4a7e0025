"""Private websockets as async iterators: Binance's user-data stream, Upbit's myOrder / myAsset."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any

import aiohttp

from app.errors import ExchangeError
from infrastructure.exchanges.binance import BINANCE_URL
from infrastructure.exchanges.binance_private import BinancePrivateClient
from infrastructure.exchanges.binance_ws import BINANCE_WS_URL
from infrastructure.exchanges.signing import UpbitSigner
from infrastructure.exchanges.ws import ws_url


class _Socket:
    """One websocket on its own session; messages decoded from JSON text or binary frames."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None

    async def _open(self, url: str, headers: dict[str, str] | None = None) -> aiohttp.ClientWebSocketResponse:
        self._session = aiohttp.ClientSession()
        try:
            self._ws = await self._session.ws_connect(url, headers=headers, heartbeat=30.0)
        except aiohttp.WSServerHandshakeError as err:
            await self._session.close()
            raise ExchangeError(f"private stream refused (HTTP {err.status}): {err.message}") from None
        return self._ws

    async def _close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Every message until the socket closes."""
        assert self._ws is not None, "use `async with` first"
        async for msg in self._ws:
            if msg.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                yield json.loads(msg.data)
            elif msg.type == aiohttp.WSMsgType.ERROR:
                break


class BinanceUserStream(_Socket):
    """`async with BinanceUserStream(client) as s: async for e in s.events()`; the listen key is kept alive.

    A `listenKeyExpired` event ends the stream: reconnect (and reconcile through REST) after it.
    """

    def __init__(self, client: BinancePrivateClient, ws_base: str = "", keepalive_s: float = 30 * 60) -> None:
        super().__init__()
        self.client = client
        self.ws_base = ws_base or (BINANCE_WS_URL if client.base_url == BINANCE_URL else client.base_url)
        self.keepalive_s = keepalive_s
        self.listen_key = ""
        self._keeper: asyncio.Task[None] | None = None

    async def __aenter__(self) -> BinanceUserStream:
        self.listen_key = await self.client.listen_key("POST")
        await self._open(ws_url(self.ws_base, f"/ws/{self.listen_key}"))
        self._keeper = asyncio.create_task(self._keep_alive())
        return self

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(self.keepalive_s)
            await self.client.listen_key("PUT")

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        async for event in super().events():
            yield event
            if event.get("e") == "listenKeyExpired":
                return

    async def __aexit__(self, et: type[BaseException] | None, e: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._keeper is not None:
            self._keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keeper
        await self._close()


class UpbitPrivateStream(_Socket):
    """myOrder (optionally only `codes`) and myAsset messages, authenticated with a JWT header."""

    def __init__(self, signer: UpbitSigner, base_url: str, codes: tuple[str, ...] = (),
                 kinds: tuple[str, ...] = ("myOrder", "myAsset")) -> None:
        super().__init__()
        self.signer = signer
        self.url = ws_url(base_url, "/websocket/v1/private")
        self.codes = codes
        self.kinds = kinds

    async def __aenter__(self) -> UpbitPrivateStream:
        ws = await self._open(self.url, self.signer.headers())
        request: list[dict[str, Any]] = [{"ticket": f"quantdesk-{id(self)}"}]
        for kind in self.kinds:
            request.append({"type": kind, "codes": list(self.codes)} if kind == "myOrder" and self.codes
                           else {"type": kind})
        await ws.send_str(json.dumps(request))
        return self

    async def __aexit__(self, et: type[BaseException] | None, e: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self._close()
