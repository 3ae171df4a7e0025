"""Paper orders and their life cycle, as a lookup table of allowed transitions."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


class OrderState(Enum):
    NEW = "new"
    ACCEPTED = "accepted"
    FILLED = "filled"
    REJECTED = "rejected"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


class OrderEvent(Enum):
    ACCEPT = "accept"
    FILL = "fill"
    REJECT = "reject"
    CANCEL = "cancel"


TERMINAL = frozenset({OrderState.FILLED, OrderState.REJECTED, OrderState.CANCELLED})

# (state, event) -> next state. Anything missing is not allowed.
TRANSITIONS: dict[tuple[OrderState, OrderEvent], OrderState] = {
    (OrderState.NEW, OrderEvent.ACCEPT): OrderState.ACCEPTED,
    (OrderState.NEW, OrderEvent.REJECT): OrderState.REJECTED,
    (OrderState.NEW, OrderEvent.CANCEL): OrderState.CANCELLED,
    (OrderState.ACCEPTED, OrderEvent.FILL): OrderState.FILLED,
    (OrderState.ACCEPTED, OrderEvent.REJECT): OrderState.REJECTED,
    (OrderState.ACCEPTED, OrderEvent.CANCEL): OrderState.CANCELLED,
}


class InvalidTransition(ValueError):
    """An order was asked to do something its state does not allow."""


def next_state(state: OrderState, event: OrderEvent) -> OrderState:
    """The state after `event`, or InvalidTransition naming both."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise InvalidTransition(f"an order that is {state.value} cannot {event.value}") from None


# Why an order was sent (also the exit reasons of the backtest's trade table, plus flatten).
REASONS = ("signal", "stop", "take_profit", "trailing", "flatten")


@dataclass(slots=True)
class PaperOrder:
    """A market order of a paper session. `action` is "open" or "close"; `side` +1 buy / -1 sell."""

    id: str
    side: int
    action: str
    reason: str
    created_ts: int
    state: OrderState = OrderState.NEW
    quantity: float = 0.0
    price: float = 0.0
    commission: float = 0.0
    filled_ts: int = 0
    note: str = ""

    def apply(self, event: OrderEvent) -> None:
        self.state = next_state(self.state, event)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "side": self.side, "action": self.action, "reason": self.reason,
                "created_ts": self.created_ts, "state": self.state.value, "quantity": self.quantity,
                "price": self.price, "commission": self.commission, "filled_ts": self.filled_ts, "note": self.note}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PaperOrder:
        return cls(str(d["id"]), int(d["side"]), str(d["action"]), str(d["reason"]),
                   int(d["created_ts"]), OrderState(d["state"]), float(d["quantity"]),
                   float(d["price"]), float(d["commission"]), int(d["filled_ts"]), str(d.get("note", "")))
