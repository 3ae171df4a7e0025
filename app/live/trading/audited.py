"""Every request to the exchange account and its answer in the audit log (no keys: the port carries none)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any, TypeVar

from app.live.trading.live_broker import AuditSink
from app.live.trading.ports import OrderGateway, OrderIntent, OrderReport, Position

T = TypeVar("T")


class AuditedGateway:
    """An OrderGateway that writes each call (`ExchangeRequest`) and its answer or error (`ExchangeAnswer`)."""

    def __init__(self, inner: OrderGateway, audit: AuditSink) -> None:
        self.inner, self.audit = inner, audit

    @property
    def exchange(self) -> str:
        return self.inner.exchange

    @property
    def holds_stops(self) -> bool:
        return self.inner.holds_stops

    async def _call(self, what: str, request: dict[str, Any], work: Callable[[], Awaitable[T]],
                    answer: Callable[[T], Any]) -> T:
        self.audit("ExchangeRequest", exchange=self.inner.exchange, call=what, **request)
        try:
            result = await work()
        except Exception as err:
            self.audit("ExchangeAnswer", exchange=self.inner.exchange, call=what, error=f"{type(err).__name__}: {err}")
            raise
        self.audit("ExchangeAnswer", exchange=self.inner.exchange, call=what, answer=answer(result))
        return result

    async def place(self, intent: OrderIntent) -> OrderReport:
        return await self._call("place", asdict(intent), lambda: self.inner.place(intent), asdict)

    async def find(self, client_id: str) -> OrderReport | None:
        return await self._call("find", {"client_id": client_id}, lambda: self.inner.find(client_id),
                                lambda r: asdict(r) if r is not None else None)

    async def cancel(self, client_id: str) -> OrderReport:
        return await self._call("cancel", {"client_id": client_id}, lambda: self.inner.cancel(client_id), asdict)

    async def open_orders(self) -> list[OrderReport]:
        return await self._call("open_orders", {}, self.inner.open_orders, lambda rs: [r.client_id for r in rs])

    async def position(self) -> Position:
        return await self._call("position", {}, self.inner.position, asdict)
