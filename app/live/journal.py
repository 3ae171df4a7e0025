"""Persistence of live sessions: checkpoints, orders and fills written to the PaperStore in worker threads."""

from __future__ import annotations

from app.live.bus import EventBus
from app.live.events import OrderFilled, OrderRequested, SessionCheckpoint
from app.live.ports import PaperStore


class StoreJournal:
    """Subscribes blocking (worker-thread) handlers to the bus's order queue: never on the event loop,
    never dropped, in the order the engine produced them."""

    def __init__(self, store: PaperStore) -> None:
        self.store = store

    def attach(self, bus: EventBus) -> None:
        bus.subscribe(SessionCheckpoint, self.checkpoint, blocking=True)
        bus.subscribe(OrderFilled, self.fill, blocking=True)
        bus.subscribe(OrderRequested, self.order, blocking=True)

    def checkpoint(self, e: SessionCheckpoint) -> None:
        self.store.save_state(e.session_id, e.status, e.state, e.last_bar_ts, e.ts)

    def fill(self, e: OrderFilled) -> None:
        self.store.add_fill(e.session_id, {"order_id": e.order_id, "side": e.side, "quantity": e.quantity,
                                           "price": e.price, "commission": e.commission, "reason": e.reason,
                                           "ts": e.ts, "realized_pnl": e.realized_pnl})

    def order(self, e: OrderRequested) -> None:
        self.store.add_order(e.session_id, {"order_id": e.order_id, "side": e.side, "action": e.action,
                                            "reason": e.reason, "ts": e.ts})
