"""Paper broker: market orders fill at the next trade price; stops, targets and trailing run on live prices.

The accounting mirrors the backtest engine (domain.backtest.kernel) so one strategy gives the same
trades in both: orders decided on a bar's close fill at the next price seen (the backtest's next open),
slippage moves the fill price against the trader, commission is a fraction of traded value paid on
every fill, entry size is `position_size_pct` of cash floored to the lot size, a stop beats a target,
a price through a stop fills at that price, and equity is cash plus the open trade's gross PnL.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from domain.live.orders import OrderEvent, OrderState, PaperOrder

OPEN, CLOSE = "open", "close"
KEEP_ORDERS = 500


@dataclass(frozen=True, slots=True)
class PaperSettings:
    """Account, costs and risk of one paper session; percentages as in the strategy's risk block."""

    cash: float = 10_000.0
    commission: float = 0.0
    slippage: float = 0.0
    lot_size: float = 1e-8
    position_size_pct: float = 100.0
    stop_loss_pct: float | None = None
    take_profit_pct: float | None = None
    trailing_stop_pct: float | None = None
    reverse: bool = True  # long_short: an opposite entry closes and reverses

    def problems(self) -> list[str]:
        out = []
        if not (math.isfinite(self.cash) and self.cash > 0):
            out.append(f"cash: must be a positive amount, got {self.cash}")
        for name in ("commission", "slippage"):
            v = getattr(self, name)
            if not (math.isfinite(v) and 0 <= v < 0.1):
                out.append(f"{name}: must be a fraction in [0, 0.1), got {v}")
        if not 0 < self.position_size_pct <= 100:
            out.append(f"position_size_pct: must be in (0, 100], got {self.position_size_pct}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Fill:
    """One executed paper order. `realized_pnl` is set on closes (net of both commissions)."""

    order_id: str
    side: int
    action: str
    quantity: float
    price: float
    commission: float
    reason: str
    ts: int
    realized_pnl: float = 0.0


def decide(side: int, el: bool, xl: bool, es: bool, xs: bool, reverse: bool) -> tuple[bool, int]:
    """(close the open trade?, side to open or 0) on a bar's signals — the backtest's rule."""
    if el and es:  # contradictory entries cancel each other
        el = es = False
    if side > 0:
        return (True, -1) if es and reverse else (xl, 0)
    if side < 0:
        return (True, 1) if el and reverse else (xs, 0)
    return False, 1 if el else -1 if es else 0


def _frac(pct: float | None) -> float:
    return 0.0 if not pct else float(pct) / 100.0


class PaperBroker:
    """Positions, cash and orders of one paper session. Feed every trade to `on_trade`."""

    def __init__(self, settings: PaperSettings, order_prefix: str = "o") -> None:
        self.settings = settings
        self.cash = settings.cash
        self.side = 0
        self.size = 0.0
        self.entry_price = 0.0
        self.entry_ts = 0
        self.realized = 0.0
        self.last_price = math.nan
        self.last_ts = 0
        self.halted = False
        self.orders: dict[str, PaperOrder] = {}
        self.pending: list[PaperOrder] = []
        self.dropped_orders: list[PaperOrder] = []  # rejected or cancelled while filling; the caller drains it
        self._prefix = order_prefix
        self._seq = 0
        self._sl = self._tp = self._trail = self._peak = 0.0
        self._sl_f, self._tp_f = _frac(settings.stop_loss_pct), _frac(settings.take_profit_pct)
        self._trail_f = _frac(settings.trailing_stop_pct)

    # ----- orders
    def effective_side(self) -> int:
        """The position once every pending order has filled."""
        side = self.side
        for o in self.pending:
            side = 0 if o.action == CLOSE else o.side
        return side

    def on_signal(self, el: bool, xl: bool, es: bool, xs: bool, ts: int) -> list[PaperOrder]:
        """Turn a bar's signals into market orders (accepted, pending until the next trade)."""
        close, open_side = decide(self.effective_side(), el, xl, es, xs, self.settings.reverse)
        orders = []
        if close:
            orders.append(self.submit(-self.effective_side(), CLOSE, "signal", ts))
        if open_side:
            orders.append(self.submit(open_side, OPEN, "signal", ts))
        return orders

    def submit(self, side: int, action: str, reason: str, ts: int) -> PaperOrder:
        """Queue a market order; a halted broker rejects everything but closes."""
        self._seq += 1
        order = PaperOrder(f"{self._prefix}-{self._seq}", side, action, reason, ts)
        self._remember(order)
        if self.halted and action == OPEN:
            order.note = "trading halted"
            order.apply(OrderEvent.REJECT)
            return order
        order.apply(OrderEvent.ACCEPT)
        self.pending.append(order)
        return order

    def _remember(self, order: PaperOrder) -> None:
        self.orders[order.id] = order
        if len(self.orders) > 2 * KEEP_ORDERS:  # keep memory flat in long sessions: forget old finished orders
            done = [k for k, o in self.orders.items() if o.state.terminal]
            for k in done[: len(self.orders) - KEEP_ORDERS]:
                del self.orders[k]

    def cancel_pending(self) -> list[PaperOrder]:
        out = self.pending
        for o in out:
            o.apply(OrderEvent.CANCEL)
        self.pending = []
        return out

    # ----- prices
    def on_trade(self, ts: int, price: float) -> list[Fill]:
        """A trade printed at `price`: fill pending orders there, then check stops, targets and trailing."""
        self.last_price, self.last_ts = price, ts
        fills: list[Fill] = []
        if self.pending:
            fills.extend(self._fill_pending(ts, price))
        if self.side != 0:
            fill = self._check_exits(ts, price)
            if fill is not None:
                fills.append(fill)
        return fills

    def flatten(self, ts: int, reason: str = "flatten") -> list[Fill]:
        """Emergency: halt, cancel pending orders and close the position now at the last price."""
        self.halted = True
        self.cancel_pending()
        if self.side == 0 or math.isnan(self.last_price):
            return []
        order = self.submit(-self.side, CLOSE, reason, ts)
        self.pending.remove(order)
        fill = self._close(order, ts, self.last_price)
        return [fill]

    def _fill_pending(self, ts: int, price: float) -> list[Fill]:
        fills = []
        pending, self.pending = self.pending, []
        for order in pending:
            if order.action == CLOSE:
                if self.side == 0:
                    order.note = "no position to close"
                    order.apply(OrderEvent.CANCEL)
                    self.dropped_orders.append(order)
                    continue
                fills.append(self._close(order, ts, price))
            else:
                fill = self._open(order, ts, price)
                if fill is not None:
                    fills.append(fill)
        return fills

    def _open(self, order: PaperOrder, ts: int, price: float) -> Fill | None:
        s = self.settings
        side = order.side
        if self.side != 0:
            order.note = "a position is already open"
            order.apply(OrderEvent.REJECT)
            self.dropped_orders.append(order)
            return None
        frac = s.position_size_pct / 100.0
        cost = price * (1.0 + side * s.slippage) + price * s.commission
        units = ((max(self.cash, 0.0) * frac) // (cost * s.lot_size)) * s.lot_size
        if not units > 0.0:
            order.note = "not enough cash for one lot"
            order.apply(OrderEvent.REJECT)
            self.dropped_orders.append(order)
            return None
        fill_price = price * (1.0 + side * s.slippage)
        commission = units * fill_price * s.commission
        self.cash -= commission
        self.side, self.size, self.entry_price, self.entry_ts = side, units, fill_price, ts
        self._set_levels()
        self._filled(order, units, fill_price, commission, ts)
        return Fill(order.id, side, OPEN, units, fill_price, commission, order.reason, ts)

    def _close(self, order: PaperOrder, ts: int, raw_price: float) -> Fill:
        s = self.settings
        side, size = self.side, self.size
        price = raw_price * (1.0 - side * s.slippage)
        exit_comm = size * price * s.commission
        entry_comm = size * self.entry_price * s.commission
        gross = side * size * (price - self.entry_price)
        self.cash += gross - exit_comm
        pnl = gross - exit_comm - entry_comm
        self.realized += pnl
        self.side, self.size, self.entry_price = 0, 0.0, 0.0
        self._filled(order, size, price, exit_comm, ts)
        return Fill(order.id, -side, CLOSE, size, price, exit_comm, order.reason, ts, pnl)

    def _filled(self, order: PaperOrder, qty: float, price: float, commission: float, ts: int) -> None:
        order.quantity, order.price, order.commission, order.filled_ts = qty, price, commission, ts
        order.apply(OrderEvent.FILL)

    def _set_levels(self) -> None:
        e, side = self.entry_price, self.side
        if side > 0:
            self._sl = e * (1 - self._sl_f) if self._sl_f else 0.0
            self._trail = e * (1 - self._trail_f) if self._trail_f else 0.0
        else:
            self._sl = e * (1 + self._sl_f) if self._sl_f else math.inf
            self._trail = e * (1 + self._trail_f) if self._trail_f else math.inf
        self._tp = e * (1 + side * self._tp_f) if self._tp_f else 0.0
        self._peak = e

    def _check_exits(self, ts: int, price: float) -> Fill | None:
        side = self.side
        reason = ""
        if side > 0:
            level = max(self._sl, self._trail)
            if level > 0 and price <= level:
                reason = "trailing" if self._trail > self._sl else "stop"
            elif self._tp > 0 and price >= self._tp:
                reason = "take_profit"
        else:
            level = min(self._sl, self._trail)
            if level < math.inf and price >= level:
                reason = "trailing" if self._trail < self._sl else "stop"
            elif self._tp > 0 and price <= self._tp:
                reason = "take_profit"
        if reason:
            order = self.submit(-side, CLOSE, reason, ts)
            self.pending.remove(order)
            return self._close(order, ts, price)
        if self._trail_f:
            self._peak = max(self._peak, price) if side > 0 else min(self._peak, price)
            self._trail = self._peak * (1 - side * self._trail_f)
        return None

    # ----- valuation and persistence
    def unrealized(self, price: float | None = None) -> float:
        p = self.last_price if price is None else price
        if self.side == 0 or math.isnan(p):
            return 0.0
        return self.side * self.size * (p - self.entry_price)

    def equity(self, price: float | None = None) -> float:
        return self.cash + self.unrealized(price)

    def snapshot(self) -> dict[str, Any]:
        """Everything needed to resume after a restart (JSON-safe)."""
        return {"cash": self.cash, "side": self.side, "size": self.size, "entry_price": self.entry_price,
                "entry_ts": self.entry_ts, "realized": self.realized,
                "last_price": None if math.isnan(self.last_price) else self.last_price, "last_ts": self.last_ts,
                "halted": self.halted, "seq": self._seq, "levels": [self._sl, self._tp, self._trail, self._peak],
                "pending": [o.to_dict() for o in self.pending]}

    def restore(self, snap: dict[str, Any]) -> None:
        """Resume from `snapshot()` output (a KeyError names a missing field)."""
        self.cash, self.side, self.size = float(snap["cash"]), int(snap["side"]), float(snap["size"])
        self.entry_price, self.entry_ts = float(snap["entry_price"]), int(snap["entry_ts"])
        self.realized, self.last_ts = float(snap["realized"]), int(snap["last_ts"])
        lp = snap["last_price"]
        self.last_price = math.nan if lp is None else float(lp)
        self.halted, self._seq = bool(snap["halted"]), int(snap["seq"])
        self._sl, self._tp, self._trail, self._peak = (float(x) for x in snap["levels"])
        self.pending = [PaperOrder.from_dict(d) for d in snap["pending"]]
        for o in self.pending:
            self.orders[o.id] = o

    def open_orders(self) -> list[PaperOrder]:
        return [o for o in self.orders.values() if o.state is OrderState.ACCEPTED]
