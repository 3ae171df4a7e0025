"""A paper broker on a USDT-M futures account: leverage sizing, isolated or cross margin, liquidation and funding."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from domain.futures.brackets import BracketTable
from domain.futures.liquidation import isolated_liquidation_price_nb
from domain.live.orders import OrderEvent, PaperOrder
from domain.live.paper import CLOSE, OPEN, Fill, PaperBroker, PaperSettings


@dataclass(frozen=True, slots=True)
class FuturesAccount:
    """Leverage, margin mode ("isolated" or "cross") and the symbol's maintenance-margin brackets."""

    leverage: int
    margin: str
    brackets: BracketTable


class FuturesPaperBroker(PaperBroker):
    """`PaperBroker` with the backtest's futures model (docs/backtest.md, "Futures model"): the share of equity
    pays margin and opening fee, notional = margin × leverage; `on_funding` settles a funding event into the
    wallet (and an isolated margin); a trade at or through the liquidation price closes the position at that
    price with reason "liquidation", losing its isolated margin (the wallet under cross)."""

    def __init__(self, settings: PaperSettings, account: FuturesAccount, order_prefix: str = "o") -> None:
        super().__init__(settings, order_prefix)
        self.account = account
        self.margin = 0.0  # isolated wallet balance of the open position (after funding)
        self.position_funding = 0.0  # funding received by the open position, negative = paid
        self.funding_total = 0.0
        self.liquidations = 0
        self._arrays = tuple(account.brackets.arrays()[i] for i in (0, 2, 3))
        self._max_notional = account.brackets.max_notional(account.leverage)

    @property
    def cross(self) -> bool:
        return self.account.margin == "cross"

    def liquidation_price(self) -> float:
        """The open position's liquidation price (NaN when flat or when it cannot be liquidated)."""
        if self.side == 0:
            return math.nan
        caps, mmrs, cums = self._arrays
        wallet = self.cash if self.cross else self.margin
        lp = float(isolated_liquidation_price_nb(self.side, self.size, self.entry_price, wallet, caps, mmrs, cums))
        return lp if lp > 0.0 else math.nan

    def on_funding(self, ts: int, rate: float, mark: float) -> float:
        """Settle one funding event; returns what the position received (negative = paid)."""
        if self.side == 0:
            return 0.0
        received = -self.side * self.size * mark * rate
        self.cash += received
        self.margin += received
        self.position_funding += received
        self.funding_total += received
        return received

    def on_trade(self, ts: int, price: float) -> list[Fill]:
        """Fill pending orders, then liquidation (before any stop: the exchange acts first), then stops."""
        self.last_price, self.last_ts = price, ts
        fills: list[Fill] = []
        if self.pending:
            fills.extend(self._fill_pending(ts, price))
        if self.side != 0:
            lp = self.liquidation_price()
            if not math.isnan(lp) and self.side * (price - lp) <= 0.0:
                fills.append(self._liquidate(ts, lp))
                return fills
            fill = self._check_exits(ts, price)
            if fill is not None:
                fills.append(fill)
        return fills

    def _liquidate(self, ts: int, lp: float) -> Fill:
        side, size = self.side, self.size
        lost = self.cash if self.cross else self.margin
        order = self.submit(-side, CLOSE, "liquidation", ts)
        self.pending.remove(order)
        entry_comm = size * self.entry_price * self.settings.commission
        pnl = -lost - entry_comm + self.position_funding  # as the backtest's trade: −(initial margin) − fee
        self.cash -= lost
        self.realized += pnl
        self.liquidations += 1
        self.side, self.size, self.entry_price, self.margin, self.position_funding = 0, 0.0, 0.0, 0.0, 0.0
        self._filled(order, size, lp, 0.0, ts)
        return Fill(order.id, -side, CLOSE, size, lp, 0.0, "liquidation", ts, pnl)

    def _close(self, order: PaperOrder, ts: int, raw_price: float) -> Fill:
        """A close whose realized PnL carries the funding the position received, as the backtest's trade does
        (the funding is in the cash already)."""
        funding = self.position_funding
        fill = super()._close(order, ts, raw_price)
        self.margin, self.position_funding = 0.0, 0.0
        self.realized += funding
        return replace(fill, realized_pnl=fill.realized_pnl + funding)

    def _open(self, order: PaperOrder, ts: int, price: float) -> Fill | None:
        s, side, lev = self.settings, order.side, self.account.leverage
        if self.side != 0:
            return super()._open(order, ts, price)  # rejected as on spot
        fill_price = price * (1.0 + side * s.slippage)
        units = min(max(self.cash, 0.0) * s.position_size_pct / 100.0 / (fill_price / lev + price * s.commission),
                    self._max_notional / fill_price)
        units = (units // s.lot_size) * s.lot_size
        if not units > 0.0:
            order.note = "not enough margin for one lot"
            order.apply(OrderEvent.REJECT)
            self.dropped_orders.append(order)
            return None
        commission = units * fill_price * s.commission
        self.cash -= commission
        self.side, self.size, self.entry_price, self.entry_ts = side, units, fill_price, ts
        self.margin, self.position_funding = units * fill_price / lev, 0.0
        self._set_levels()
        self._filled(order, units, fill_price, commission, ts)
        return Fill(order.id, side, OPEN, units, fill_price, commission, order.reason, ts)

    def snapshot(self) -> dict[str, Any]:
        snap = super().snapshot()
        snap["futures"] = {"margin": self.margin, "position_funding": self.position_funding,
                           "funding_total": self.funding_total, "liquidations": self.liquidations}
        return snap

    def restore(self, snap: dict[str, Any]) -> None:
        super().restore(snap)
        f = snap["futures"]
        self.margin, self.position_funding = float(f["margin"]), float(f["position_funding"])
        self.funding_total, self.liquidations = float(f["funding_total"]), int(f["liquidations"])
