"""A paper broker whose stops, take-profit levels, trailing stop and scale-ins are the backtest loop's own rules."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from domain.backtest import kernel_v2 as k2
from domain.backtest.engine import FULL_EQUITY
from domain.backtest.kernel import N_COLS, SIGNAL, T_PNL, T_REASON, T_SIZE, T_XPRICE
from domain.backtest.risk_arrays import StreamingDistances, risk_vectors
from domain.backtest.trades import EXIT_REASONS
from domain.live.orders import OrderEvent, PaperOrder
from domain.live.paper import CLOSE, Fill, PaperSettings
from domain.live.paper_scale import ADD, ScaleSettings, ScalingPaperBroker
from domain.market import Candle, CandleSeries
from domain.strategy.risk import Risk

F64 = npt.NDArray[np.float64]


class _Slot:
    """An attribute of the base brokers (side, size, average entry, bar counts) read from and written to the
    rules' state vector, so the position has one home."""

    def __init__(self, at: int, cast: Callable[[float], Any]) -> None:
        self.at, self.cast = at, cast

    def __get__(self, broker: RiskPaperBroker, owner: type | None = None) -> Any:
        return self.cast(broker._p[self.at])

    def __set__(self, broker: RiskPaperBroker, value: float) -> None:
        broker._p[self.at] = value


class RiskPaperBroker(ScalingPaperBroker):
    """ScalingPaperBroker whose position, stops, targets and trailing are `kernel_v2`'s. Feed it every closed
    bar through `close_bar` (the session does), after warming its ATR on the history with `warm`.

    One set of rules: the position is `kernel_v2`'s state vector and level rows, and every rule is the compiled
    helper the backtest loop calls — `_open` (levels from the fill, ATR distances of the signal bar), `_add`
    (the average entry moves, levels re-measured), `_exits` (stop first, closing everything; else each level
    reached, closing its share of the peak size), `_trail` (after each closed bar: from the best extreme or from
    the close, only tightening) and `_close`. This class only feeds them prices and turns their rows into fills.

    Prices: the backtest sees a bar as open, high, low, close. Here each trade is checked as it prints, with the
    bar's open (its first trade) as the gap price: a stop crossed mid-bar fills at its level, one the bar opened
    through fills at the open, as in the backtest. The one case without a common path: a bar that opens beyond
    a target and then reaches the stop — the backtest takes the stop (as backtesting.py), this the target.
    """

    def __init__(self, settings: PaperSettings, risk: Risk, scale: ScaleSettings | None = None,
                 order_prefix: str = "o") -> None:
        self._p = np.zeros(k2.P_LEN)  # before the base classes set side, size, ... through the properties
        super().__init__(settings, scale, order_prefix)
        self.risk = risk
        self._r, self._levels = risk_vectors(risk, scale)
        self._lv = self._levels.copy()
        self._cfg = np.array([min(settings.position_size_pct / 100.0, FULL_EQUITY), 0.0, 0.0, 0.0,
                              settings.commission, settings.slippage, settings.lot_size])
        self._dist = StreamingDistances(risk)
        self._rows = np.full((len(self._levels) + 2, 1), np.nan)  # the last closed bar's distances
        self._out = np.empty((len(self._levels) + 2, N_COLS))  # trade rows the rules write
        self._bar_open = math.nan  # first trade of the forming bar
        self._stop, self._target = 0.0, math.inf

    # ----- the position lives in the rules' state vector
    side = _Slot(k2.P_SIDE, int)
    size = _Slot(k2.P_SIZE, float)
    entry_price = _Slot(k2.P_AVG, float)
    entry_bar = _Slot(k2.P_EBAR, int)
    last_add_bar = _Slot(k2.P_LAST_ADD, int)
    adds = _Slot(k2.P_ADDS, int)
    initial_size = _Slot(k2.P_INIT, float)

    # ----- bars
    def warm(self, history: CandleSeries) -> None:
        """Run the ATR distances over bars seen before the session started (no trading on them)."""
        for i in range(len(history)):
            bar = history.candle(i)
            self._push(bar)

    def close_bar(self, bar: Candle) -> tuple[float, float] | None:
        """A bar closed: its ATR distances, the trailing stop moved by it, then the position at its close."""
        self._push(bar)
        if self.side != 0:
            k2._trail(self._p, self._r, 0, bar.high, bar.low, bar.close, self._rows[1])
            self._refresh()
        self._bar_open = math.nan
        return self.position_at_close(bar.close)

    def _push(self, bar: Candle) -> None:
        self._rows[:, 0] = self._dist.push(bar.open, bar.high, bar.low, bar.close, bar.volume)

    # ----- prices
    def on_trade(self, ts: int, price: float) -> list[Fill]:
        if math.isnan(self._bar_open):
            self._bar_open = price
        self.last_price, self.last_ts = price, ts
        fills: list[Fill] = self._fill_pending(ts, price) if self.pending else []
        side = self.side
        if side != 0 and ((price <= self._stop or price >= self._target) if side > 0
                          else (price >= self._stop or price <= self._target)):
            fills.extend(self._exits(ts, price))
        return fills

    def _exits(self, ts: int, price: float) -> list[Fill]:
        side = self.side
        k, self.cash = k2._exits(self._out, 0, self.cash, self._p, self._lv, self.bar + 1, self._bar_open, price,
                                 price, self._cfg)
        fills = [self._row_fill(self.submit(-side, CLOSE, EXIT_REASONS[int(row[T_REASON])], ts), side, row, ts)
                 for row in self._out[:k]]
        self._refresh()
        return fills

    def _row_fill(self, order: PaperOrder, side: int, row: F64, ts: int) -> Fill:
        """The fill of one trade row the rules wrote (a partial or a whole close)."""
        if order in self.pending:
            self.pending.remove(order)
        units, price, pnl = float(row[T_SIZE]), float(row[T_XPRICE]), float(row[T_PNL])
        commission = units * price * self.settings.commission
        self.realized += pnl
        self._filled(order, units, price, commission, ts)
        if self.side == 0:
            self._p[k2.P_AVG] = 0.0
        return Fill(order.id, -side, CLOSE, units, price, commission, order.reason, ts, pnl)

    def _refresh(self) -> None:
        _, _, _, self._stop, self._target = k2._state(self._p, self._lv)

    # ----- fills of market orders
    def _open(self, order: PaperOrder, ts: int, price: float) -> Fill | None:
        if order.action == ADD:
            return self._add(order, ts, price)
        side = order.side
        units = 0.0 if self.side != 0 else float(k2._entry_units(self.cash, price, side, self._cfg))
        if not units > 0.0:
            return self._refuse(order, "a position is already open" if self.side != 0 else
                                "not enough cash for one lot")
        fill_price = price * (1.0 + side * self.settings.slippage)
        k2._open(self._p, self._lv, self._r, side, units, fill_price, self.bar + 1, 0, self._rows[0],
                 self._rows[1], self._rows[2:])
        commission = units * fill_price * self.settings.commission
        self.cash -= commission
        self.entry_ts = ts
        self._refresh()
        self._filled(order, units, fill_price, commission, ts)
        return Fill(order.id, side, order.action, units, fill_price, commission, order.reason, ts)

    def _add(self, order: PaperOrder, ts: int, price: float) -> Fill | None:
        side = self.side
        if self.scale is None or side != order.side:
            return self._refuse(order, "no position to add to")
        cash, units = k2._add(self._p, self._lv, self._r, self.cash, price, self.bar + 1, self._cfg)
        if not units > 0.0:
            return self._refuse(order, "not enough equity to add")
        fill_price = price * (1.0 + side * self.settings.slippage)
        commission = units * fill_price * self.settings.commission
        self.cash = cash
        self._refresh()
        self._filled(order, units, fill_price, commission, ts)
        return Fill(order.id, side, ADD, units, fill_price, commission, order.reason, ts)

    def _close(self, order: PaperOrder, ts: int, raw_price: float) -> Fill:
        side = self.side
        price = raw_price * (1.0 - side * self.settings.slippage)
        _, change = k2._close(self._out, 0, self._p, self.bar + 1, self.size, price, SIGNAL, self._cfg)
        self.cash += change
        fill = self._row_fill(order, side, self._out[0], ts)
        self._refresh()
        return fill

    def _refuse(self, order: PaperOrder, why: str) -> Fill | None:
        """Reject an order that cannot fill (no fill: None)."""
        order.note = why
        order.apply(OrderEvent.REJECT)
        self.dropped_orders.append(order)
        return None

    # ----- persistence
    def snapshot(self) -> dict[str, Any]:
        snap = super().snapshot()
        snap["risk"] = {"position": self._p.tolist(), "levels": self._lv.tolist(),
                        "bar_open": None if math.isnan(self._bar_open) else self._bar_open}
        return snap

    def restore(self, snap: dict[str, Any]) -> None:
        super().restore(snap)
        state = snap["risk"]
        self._p[:] = state["position"]
        self._lv = np.array(state["levels"], dtype=np.float64).reshape(self._levels.shape)
        self._bar_open = math.nan if state["bar_open"] is None else float(state["bar_open"])
        self._refresh()
