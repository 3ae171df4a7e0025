"""The kill switch: cancel every open order of QuantDesk's sessions on a market, flatten, confirm from the exchange."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from app.live.trading.ports import OrderGateway, OrderIntent, OrderOutcomeUnknown, OrderRefused, Position


@dataclass(frozen=True, slots=True)
class KillReport:
    """What the kill switch did and what the exchange says afterwards."""

    cancelled: tuple[str, ...]
    flatten_client_id: str | None
    open_orders: int  # left open at the exchange after the kill (0 when it worked)
    position: float  # left at the exchange after the kill (0 when it worked)
    problems: tuple[str, ...] = ()

    @property
    def clean(self) -> bool:
        return self.open_orders == 0 and self.position == 0 and not self.problems


def is_ours(client_id: str, prefixes: tuple[str, ...]) -> bool:
    return any(client_id.startswith(p) for p in prefixes)


async def kill(gateway: OrderGateway, prefixes: tuple[str, ...], flatten_id: str, timeout_s: float = 10.0,
               poll_s: float = 0.2) -> KillReport:
    """Cancel every open order whose client id starts with one of `prefixes`, close the position at market
    (reduce-only), then poll the exchange until it shows neither (or `timeout_s` passes)."""
    problems: list[str] = []
    cancelled: list[str] = []
    for order in await gateway.open_orders():
        if not is_ours(order.client_id, prefixes):
            continue
        try:
            await gateway.cancel(order.client_id)
            cancelled.append(order.client_id)
        except (OrderRefused, OrderOutcomeUnknown) as err:  # filled or gone meanwhile: the polling below says
            problems.append(f"cancel {order.client_id}: {err}")
    position = await gateway.position()
    sent: str | None = None
    if position.amount:
        sent = flatten_id
        try:
            await gateway.place(_close(position, flatten_id))
        except OrderOutcomeUnknown:
            if await gateway.find(flatten_id) is None:
                await gateway.place(_close(position, flatten_id))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        left = [o for o in await gateway.open_orders() if is_ours(o.client_id, prefixes)]
        amount = (await gateway.position()).amount
        if (not left and amount == 0) or loop.time() >= deadline:
            break
        await asyncio.sleep(poll_s)
    return KillReport(tuple(cancelled), sent, len(left), amount,
                      tuple(problems) if left or amount else ())


def _close(position: Position, client_id: str) -> OrderIntent:
    side = "SELL" if position.amount > 0 else "BUY"
    return OrderIntent(client_id, position.symbol, side, "MARKET", abs(position.amount), reduce_only=True)
