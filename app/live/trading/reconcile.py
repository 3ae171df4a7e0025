"""Reconciliation: the exchange's open orders and position against what the journal and the session expect."""

from __future__ import annotations

from dataclasses import dataclass

from app.live.trading.kill import is_ours
from app.live.trading.ports import OrderGateway, OrderJournal, OrderReport, Position


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """The exchange's state and every difference from what was expected; any difference halts the session."""

    position: Position
    open_orders: tuple[OrderReport, ...]
    differences: tuple[str, ...]
    at_ms: int = 0  # when the exchange was asked

    @property
    def clean(self) -> bool:
        return not self.differences


async def reconcile(gateway: OrderGateway, journal: OrderJournal, session_id: str, prefix: str,
                    expected_position: float, now_ms: int, step: float = 1e-12) -> Reconciliation:
    """Compare the exchange with the journal (open orders) and the session (position). The exchange is the truth:
    an order the journal thought open that the exchange reports filled or cancelled is recorded as such (explained);
    an order open at the exchange the journal never sent, one the exchange never saw, or a different position is
    a difference."""
    position = await gateway.position()
    orders = tuple(o for o in await gateway.open_orders() if is_ours(o.client_id, (prefix,)))
    believed = set(journal.open_client_ids(session_id))
    at_exchange = {o.client_id for o in orders}
    differences = [f"order {cid} is open at the exchange but not in the journal"
                   for cid in sorted(at_exchange - believed)]
    for cid in sorted(believed - at_exchange):
        found = await gateway.find(cid)
        if found is None:
            differences.append(f"order {cid} is in the journal but the exchange never saw it")
        else:
            journal.reported(found, now_ms)  # filled or cancelled meanwhile: the exchange's word is recorded
    if abs(position.amount - expected_position) > step / 2:
        differences.append(f"position at the exchange is {position.amount:g}, the session expects "
                           f"{expected_position:g}")
    return Reconciliation(position, orders, tuple(differences), now_ms)
