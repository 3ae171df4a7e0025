"""Pre-trade risk limits shared by paper and live sessions: a breached limit halts the session until reset."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

MINUTE_MS = 60_000
DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """Limits on one session; None switches a limit off. Money is in the market's quote currency."""

    max_order_notional: float | None = None
    max_position_notional: float | None = None
    max_open_orders: int | None = None
    max_orders_per_minute: int | None = None
    max_leverage: int | None = None
    daily_loss_limit: float | None = None  # a positive amount: halt once the UTC day's loss reaches it

    def problems(self) -> list[str]:
        """What is wrong with these limits, each naming its field."""
        out = []
        for name in ("max_order_notional", "max_position_notional", "daily_loss_limit"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                out.append(f"{name}: must be a positive amount, got {value}")
        for name in ("max_open_orders", "max_orders_per_minute", "max_leverage"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                out.append(f"{name}: must be a whole number of at least 1, got {value}")
        return out


@dataclass(frozen=True, slots=True)
class OrderCheck:
    """What the risk engine needs to know of an order about to be sent."""

    notional: float  # quantity × price of this order
    position_after: float  # the position's notional if it fills (absolute)
    reduces: bool  # closes or shrinks the position: never blocked by the size limits
    open_orders: int  # orders already open for the session
    leverage: int = 1


@dataclass
class RiskEngine:
    """Checks orders against `limits` and keeps the state the limits need (order times, the day's PnL)."""

    limits: RiskLimits
    halted: str = ""  # why the session is halted ("" = trading)
    _sent: deque[int] = field(default_factory=deque)
    _day: int = -1
    _day_start_equity: float = 0.0

    def check(self, order: OrderCheck, now_ms: int) -> str:
        """Why `order` must not be sent ("" = it may). A breach halts the session; reductions stay allowed."""
        if order.reduces:
            return ""
        if self.halted:
            return f"session halted: {self.halted}"
        lim = self.limits
        reason = ""
        if lim.max_leverage is not None and order.leverage > lim.max_leverage:
            reason = f"leverage {order.leverage}x is above the limit of {lim.max_leverage}x"
        elif lim.max_order_notional is not None and order.notional > lim.max_order_notional:
            reason = f"order notional {order.notional:,.2f} is above the limit of {lim.max_order_notional:,.2f}"
        elif lim.max_position_notional is not None and order.position_after > lim.max_position_notional:
            reason = (f"position notional {order.position_after:,.2f} would be above the limit of "
                      f"{lim.max_position_notional:,.2f}")
        elif lim.max_open_orders is not None and order.open_orders >= lim.max_open_orders:
            reason = f"{order.open_orders} orders are open; the limit is {lim.max_open_orders}"
        elif lim.max_orders_per_minute is not None and self._recent(now_ms) >= lim.max_orders_per_minute:
            reason = f"{lim.max_orders_per_minute} orders were sent in the last minute; that is the limit"
        if reason:
            self.halted = reason
        return reason

    def sent(self, now_ms: int) -> None:
        """Count an order that was sent (for the per-minute limit)."""
        self._sent.append(now_ms)

    def mark(self, equity: float, now_ms: int) -> str:
        """Follow the account's equity; halts (and says why) once the UTC day's loss reaches the daily limit."""
        day = now_ms // DAY_MS
        if day != self._day:
            self._day, self._day_start_equity = day, equity
        limit = self.limits.daily_loss_limit
        loss = self._day_start_equity - equity
        if limit is not None and loss >= limit and not self.halted:
            self.halted = f"the day's loss {loss:,.2f} reached the daily loss limit of {limit:,.2f}"
            return self.halted
        return ""

    def reset(self) -> None:
        """The user read why and lets the session trade again."""
        self.halted = ""
        self._sent.clear()

    def _recent(self, now_ms: int) -> int:
        while self._sent and self._sent[0] <= now_ms - MINUTE_MS:
            self._sent.popleft()
        return len(self._sent)
