"""A paper broker that scales in by the backtest's rule and reports the open position's values to the rules.

Each closed bar: `position_at_close(close)` (the values `position_return_pct` and `bars_in_position` read), then
`on_signal(..., add=row.scale_in)`. An add is `size_pct` % of the initial entry's size, cut to what the equity
affords at the fill, at most `max_adds`, at least `min_bars_between` bars after the entry or the previous add;
the average entry moves and the stop and target are measured from it — as in `domain.backtest.kernel_v2`.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.live.orders import OrderEvent, PaperOrder
from domain.live.paper import Fill, PaperBroker, PaperSettings
from domain.market import Candle

ADD = "add"


@dataclass(frozen=True, slots=True)
class ScaleSettings:
    """The strategy's `scale_in` block, as numbers."""

    size_pct: float
    max_adds: int
    min_bars_between: int = 1


class ScalingPaperBroker(PaperBroker):
    """PaperBroker plus scaling in and position values; without `scale` it trades exactly as PaperBroker."""

    def __init__(self, settings: PaperSettings, scale: ScaleSettings | None = None, order_prefix: str = "o") -> None:
        super().__init__(settings, order_prefix)
        self.scale = scale
        self.bar = -1  # index of the last closed bar
        self.entry_bar = self.last_add_bar = self.adds = 0
        self.initial_size = 0.0

    def close_bar(self, bar: Candle) -> tuple[float, float] | None:
        """A bar closed: the open position's values at its close (what the rules read), or None when flat."""
        return self.position_at_close(bar.close)

    def position_at_close(self, close: float) -> tuple[float, float] | None:
        """Count one closed bar; the open position's (return % from the average entry, bars held), or None."""
        self.bar += 1
        if self.side == 0:
            return None
        return self.side * (close / self.entry_price - 1.0) * 100.0, float(self.bar - self.entry_bar)

    def on_signal(self, el: bool, xl: bool, es: bool, xs: bool, ts: int, add: bool = False) -> list[PaperOrder]:
        """The backtest's decisions, then an add when nothing else is due and the scale-in limits allow it."""
        orders = super().on_signal(el, xl, es, xs, ts)
        s = self.scale
        if (add and not orders and not self.pending and s is not None and self.side != 0
                and self.adds < s.max_adds and self.bar - self.last_add_bar >= s.min_bars_between):
            orders.append(self.submit(self.side, ADD, "scale_in", ts))
        return orders

    def _open(self, order: PaperOrder, ts: int, price: float) -> Fill | None:
        if order.action == ADD:
            return self._add(order, ts, price)
        fill = super()._open(order, ts, price)
        if fill is not None:
            self.entry_bar = self.last_add_bar = self.bar + 1  # filled in the bar after the last close
            self.adds, self.initial_size = 0, self.size
        return fill

    def _add(self, order: PaperOrder, ts: int, price: float) -> Fill | None:
        s, side, scale = self.settings, self.side, self.scale
        units = 0.0
        if scale is not None and side == order.side:
            lot = s.lot_size
            fill_price = price * (1.0 + side * s.slippage)
            equity = self.cash + side * self.size * (fill_price - self.entry_price)
            room = equity / (price * (1.0 + side * s.slippage) + price * s.commission) - self.size
            units = min((self.initial_size * (scale.size_pct / 100.0)) // lot * lot, max(room, 0.0) // lot * lot)
        if not units > 0.0:
            order.note = "no position to add to" if side != order.side else "not enough equity to add"
            order.apply(OrderEvent.REJECT)
            self.dropped_orders.append(order)
            return None
        self.entry_price = (self.entry_price * self.size + fill_price * units) / (self.size + units)
        self.size += units
        commission = units * fill_price * s.commission
        self.cash -= commission
        self.adds += 1
        self.last_add_bar = self.bar + 1
        self._remeasure()
        self._filled(order, units, fill_price, commission, ts)
        return Fill(order.id, side, ADD, units, fill_price, commission, order.reason, ts)

    def _remeasure(self) -> None:
        """Stop and target from the new average entry (the trail keeps following its own anchor)."""
        e, side = self.entry_price, self.side
        if self._sl_f:
            self._sl = e * (1 - side * self._sl_f)
        if self._tp_f:
            self._tp = e * (1 + side * self._tp_f)
