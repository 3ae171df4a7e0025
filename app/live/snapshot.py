"""What a view shows of a live session, copied out of the engine: plain values, no references into it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.live.session import Marker, PaperSession
from domain.live.paper import Fill
from domain.market import Candle, CandleSeries


def fill_row(f: Fill) -> dict[str, Any]:
    """A fill as a table row."""
    return {"order_id": f.order_id, "ts": f.ts, "side": f.side, "quantity": f.quantity, "price": f.price,
            "commission": f.commission, "reason": f.reason, "realized_pnl": f.realized_pnl}


@dataclass(frozen=True, slots=True)
class SessionSnapshot:
    """One session as a view shows it: its summary row, the newest fills (newest first), the chart markers,
    the pending orders, the bar forming now (None if none is newer than the last closed bar) and, when asked
    for, the closed bars the strategy has seen."""

    session_id: str
    summary: dict[str, Any]
    error: str
    fills: tuple[dict[str, Any], ...]
    markers: tuple[Marker, ...]
    pending: tuple[dict[str, Any], ...]
    forming: Candle | None
    bars: CandleSeries | None = None


def snapshot_of(session: PaperSession, forming: Candle | None, with_bars: bool, limit: int = 500) -> SessionSnapshot:
    """Copy what a view needs out of `session`."""
    if forming is not None and forming.ts <= session.last_bar_ts:
        forming = None
    return SessionSnapshot(
        session.id, session.summary(), session.error,
        tuple(fill_row(f) for f in reversed(session.fills[-limit:])),
        tuple(session.markers[-limit:]),
        tuple(o.to_dict() for o in session.broker.pending),
        forming,
        session.evaluator.series() if with_bars else None,
    )
