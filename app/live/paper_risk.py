"""The pre-trade risk limits on paper sessions: the live sessions' RiskEngine, applied to the paper broker's orders."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.live.session import PaperSession
from domain.live.orders import OrderEvent, PaperOrder
from domain.live.paper import OPEN
from domain.live.risk import OrderCheck, RiskEngine


@dataclass
class PaperRisk:
    """One RiskEngine per paper session (from its spec's limits). A breach halts the session as on live: its
    entries are refused and pending entries cancelled, its exits and protective levels keep working, until the user
    resets the halt."""

    engines: dict[str, RiskEngine] = field(default_factory=dict)
    halts: list[tuple[str, str]] = field(default_factory=list)  # (session, why) not yet written to the audit log

    def engine(self, s: PaperSession) -> RiskEngine:
        if s.id not in self.engines:
            self.engines[s.id] = RiskEngine(s.spec.limits)
        return self.engines[s.id]

    def halted(self, session_id: str) -> str:
        risk = self.engines.get(session_id)
        return risk.halted if risk is not None else ""

    def check(self, s: PaperSession, orders: list[PaperOrder], ts: int) -> list[PaperOrder]:
        """Entries just queued by `s.act`, checked in turn; returns the ones refused (cancelled, the session halted).
        An entry's notional is the share of equity the strategy puts in, at the leverage of the session."""
        risk, b = self.engine(s), s.broker
        refused: list[PaperOrder] = []
        opens = [o for o in orders if o.action == OPEN and o in b.pending]
        for order in opens:
            notional = b.equity() * s.spec.strategy.risk.position_size_pct / 100.0 * s.spec.leverage
            held = abs(b.size * b.last_price) if b.side == order.side else 0.0
            waiting = sum(1 for o in b.pending if o.action == OPEN and o is not order)
            reason = risk.check(OrderCheck(notional, held + notional, False, waiting, s.spec.leverage), ts)
            if reason:
                refused += self._halt(s, reason)
                break
            risk.sent(ts)
        return refused

    def mark(self, s: PaperSession, ts: int) -> list[PaperOrder]:
        """Follow the session's equity once per bar for the daily loss limit; returns entries cancelled by a halt."""
        if s.spec.limits.daily_loss_limit is None:
            return []
        reason = self.engine(s).mark(s.broker.equity(), ts)
        return self._halt(s, reason) if reason else []

    def take_halts(self) -> list[tuple[str, str]]:
        """The halts since the last call (session id, why)."""
        out, self.halts = self.halts, []
        return out

    def _halt(self, s: PaperSession, reason: str) -> list[PaperOrder]:
        self.halts.append((s.id, reason))
        b = s.broker
        b.halted = True
        self.engine(s).halted = reason
        entries = [o for o in b.pending if o.action == OPEN]
        b.pending = [o for o in b.pending if o.action != OPEN]
        for o in entries:
            o.note = f"risk limit: {reason}"
            o.apply(OrderEvent.CANCEL)
        return entries

    def reset(self, s: PaperSession) -> None:
        """The user lifts the halt: entries are allowed again."""
        self.engine(s).reset()
        s.broker.halted = False
