"""The live broker: a session's signals become real orders; the position is whatever the exchange says."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.clock import Clock
from app.live.trading.broker import SentOrder
from app.live.trading.ports import AccountView, BalanceUpdate, OrderIntent, OrderRefused, OrderReport
from app.live.trading.router import OrderRouter
from app.live.trading.stops import ExchangeStop
from domain.live.paper import decide
from domain.live.risk import OrderCheck, RiskEngine
from domain.strategy import SignalRow

AuditSink = Callable[..., None]
"""record(kind, **fields): one audit line."""
MIN_STOP_MOVE = 0.0005  # a trailing stop moves once the new level beats the held one by this fraction


@dataclass(frozen=True, slots=True)
class LiveSettings:
    """How a live session sizes and protects its entries (from the strategy's risk block and the CLI)."""

    position_size_pct: float = 100.0
    stop_loss_pct: float | None = None
    trailing_stop_pct: float | None = None
    reverse: bool = True
    leverage: int = 1
    lot_size: float = 1e-8
    spot: bool = False  # Upbit KRW spot: long only, the quote amount is spent on a market buy
    fee_reserve: float = 0.002  # spot buys keep this fraction back for the fee


class LiveBroker:
    """Implements app.live.trading.broker.SessionBroker over an OrderRouter. Every entry passes the RiskEngine;
    a breach halts (no new entries, open entries cancelled, protective stops kept). Protective stops are a
    reduce-only STOP_MARKET held by the exchange where it has them, else a local guardian on the prices."""

    def __init__(self, router: OrderRouter, account: AccountView, risk: RiskEngine, settings: LiveSettings,
                 clock: Clock, audit: AuditSink | None = None) -> None:
        self.router, self.account, self.risk, self.settings, self.clock = router, account, risk, settings, clock
        self.gateway = router.gateway
        self.symbol = ""
        self.audit = audit or (lambda kind, **fields: None)
        self._position = 0.0
        self.last_price = math.nan
        self.stop = ExchangeStop(router, "")
        self.guard_level = 0.0  # the local guardian's stop (0 = none)
        self._peak = self._entry = 0.0
        self.baseline = 0.0  # spot: coin held before the session started (not the session's to trade)
        self.balances: dict[str, float] = {}  # the account's balances as its private stream last announced them

    def bind(self, symbol: str, position: float) -> None:
        self.symbol = self.stop.symbol = symbol
        self._position = position

    # ----- the session port
    @property
    def position(self) -> float:
        return self._position

    @property
    def halted(self) -> str:
        return self.risk.halted

    @property
    def stop_held_by(self) -> str:
        return "exchange" if self.gateway.holds_stops else "local"

    async def on_signal(self, row: SignalRow, ts: int) -> list[SentOrder]:
        side = (self._position > 0) - (self._position < 0)
        close, open_side = decide(side, row.entry_long, row.exit_long, row.entry_short, row.exit_short,
                                  self.settings.reverse)
        if self.settings.spot and open_side < 0:
            open_side = 0  # spot cannot go short: a short entry only closes the long
        out: list[SentOrder] = []
        if close and self._position:
            out += await self.close("signal")
        if open_side and not math.isnan(self.last_price):
            out += await self._enter(open_side)
        return out

    async def on_price(self, ts: int, price: float) -> list[SentOrder]:
        self.last_price = price
        if abs(self._position) < self.settings.lot_size or not (self.settings.trailing_stop_pct or self.guard_level):
            return []
        long = self._position > 0
        self._peak = max(self._peak or price, price) if long else min(self._peak or price, price)
        level = self._protect_level()
        if not self.gateway.holds_stops:
            self.guard_level = max(self.guard_level, level) if long else min(self.guard_level, level)
            if (long and price <= self.guard_level) or (not long and price >= self.guard_level):
                return await self.close("stop")
            return []
        held = self.stop.current
        if held is not None and level and (level - held.stop_price) * (1 if long else -1) > price * MIN_STOP_MOVE:
            moved = await self.stop.move(level)
            self.audit("StopMoved", symbol=self.symbol, client_id=moved.client_id, stop_price=level)
            return [SentOrder(moved.client_id, moved.side, moved.type, True, "trailing")]
        return []

    async def halt(self, reason: str) -> None:
        """No new entries; open entry orders cancelled; protective stops (reduce-only) kept."""
        if not self.risk.halted:
            self.risk.halted = reason
        cancelled = []
        for order in await self.gateway.open_orders():
            if order.client_id.startswith(self.router.prefix) and not order.reduce_only:
                await self.gateway.cancel(order.client_id)
                cancelled.append(order.client_id)
        self.audit("SessionHalted", reason=self.risk.halted, cancelled=cancelled)

    # ----- orders
    async def close(self, reason: str) -> list[SentOrder]:
        """Close the whole position at market (reduce-only), then drop its protective stop."""
        qty = abs(self._position)
        side = "SELL" if self._position > 0 else "BUY"
        intent = OrderIntent(self.router.new_client_id(), self.symbol, side, "MARKET", qty, reduce_only=True)
        report = await self._send(intent, reason)
        if self.stop.current is not None:
            await self._drop_stop()
        self.guard_level = 0.0
        await self.refresh()
        return [] if report is None else [SentOrder(report.client_id, side, "MARKET", True, reason)]

    async def _enter(self, side: int) -> list[SentOrder]:
        price, s = self.last_price, self.settings
        equity = await self.account.equity(price)
        budget = max(equity, 0.0) * s.position_size_pct / 100.0 * (1.0 - s.fee_reserve if s.spot else s.leverage)
        qty = math.floor(budget / price / s.lot_size) * s.lot_size
        open_now = [o for o in await self.gateway.open_orders() if not o.reduce_only]
        check = OrderCheck(qty * price, abs(self._position + side * qty) * price, False, len(open_now), s.leverage)
        refusal = self.risk.check(check, self.clock.now_ms())
        if refusal:
            await self.halt(refusal)
            return []
        order_side = "BUY" if side > 0 else "SELL"
        intent = OrderIntent(self.router.new_client_id(), self.symbol, order_side, "MARKET", qty,
                             quote_amount=math.floor(budget) if s.spot else 0.0)
        report = await self._send(intent, "signal")
        if report is None:
            return []
        out = [SentOrder(report.client_id, order_side, "MARKET", False, "signal")]
        await self.refresh()
        self._entry = self._peak = report.avg_price or price
        if self._position and (s.stop_loss_pct or s.trailing_stop_pct):
            out += await self._protect()
        return out

    async def _protect(self) -> list[SentOrder]:
        level = self._protect_level()
        if not level or not self._position:
            return []
        if not self.gateway.holds_stops:
            self.guard_level = level
            self.audit("LocalStopArmed", symbol=self.symbol, stop_price=level)
            return []
        side = "SELL" if self._position > 0 else "BUY"
        held = await self.stop.place(side, abs(self._position), level)
        self.risk.sent(self.clock.now_ms())
        self.audit("StopPlaced", symbol=self.symbol, client_id=held.client_id, stop_price=level)
        return [SentOrder(held.client_id, side, "STOP_MARKET", True, "stop")]

    def _protect_level(self) -> float:
        """The stop the position should have now: the tighter of the stop loss (from the entry) and the trailing
        stop (from the best price since the entry); 0 when the strategy has neither."""
        s, sign = self.settings, 1 if self._position > 0 else -1
        levels = []
        if s.stop_loss_pct:
            levels.append(self._entry * (1 - sign * s.stop_loss_pct / 100))
        if s.trailing_stop_pct:
            levels.append(self._peak * (1 - sign * s.trailing_stop_pct / 100))
        if not levels:
            return 0.0
        return round(max(levels) if sign > 0 else min(levels), 1)

    async def _send(self, intent: OrderIntent, reason: str) -> OrderReport | None:
        try:
            report = await self.router.submit(intent)
        except OrderRefused as err:
            self.audit("OrderRefused", client_id=intent.client_id, reason=reason, error=str(err))
            return None
        self.risk.sent(self.clock.now_ms())
        self.audit("OrderPlaced", client_id=report.client_id, side=report.side, type=report.type,
                   reduce_only=intent.reduce_only, status=report.status, executed=report.executed,
                   avg_price=report.avg_price, reason=reason)
        return report

    async def _drop_stop(self) -> None:
        try:
            await self.stop.remove()
        except OrderRefused:  # filled or cancelled meanwhile: nothing left to cancel
            self.stop.current = None

    # ----- the exchange's word
    async def refresh(self) -> None:
        """Take the position from the exchange."""
        self._position = (await self.gateway.position()).amount - self.baseline

    def on_report(self, report: OrderReport) -> bool:
        """An order update from the account's stream; True when it changed the position (a fill)."""
        self.router.journal.reported(report, self.clock.now_ms())
        self.audit("OrderUpdate", client_id=report.client_id, status=report.status, executed=report.executed,
                   avg_price=report.avg_price, fee=report.fee, fee_asset=report.fee_asset)
        held = self.stop.current
        if held is not None and report.client_id == held.client_id and not report.is_open:
            self.stop.current = None
            self.audit("StopFilled" if report.status == "FILLED" else "StopGone", client_id=report.client_id,
                       status=report.status)
        return report.executed > 0

    def on_balances(self, update: BalanceUpdate) -> None:
        """Balances from the account's stream (Binance ACCOUNT_UPDATE, Upbit myAsset)."""
        self.balances.update(dict(update.balances))
        self.audit("BalanceUpdate", balances=dict(update.balances))

    async def mark(self) -> str:
        """Follow the account's equity for the daily loss limit; a breach halts (returns why)."""
        if math.isnan(self.last_price):
            return ""
        reason = self.risk.mark(await self.account.equity(self.last_price), self.clock.now_ms())
        if reason:
            await self.halt(reason)
        return reason

    def status(self) -> dict[str, Any]:
        held = self.stop.current
        return {"position": self._position, "halted": self.halted, "stop_held_by": self.stop_held_by,
                "stop_price": held.stop_price if held is not None else self.guard_level or None}
