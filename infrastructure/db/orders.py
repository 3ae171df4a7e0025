"""SQL order journal: every live order's intent is committed before it is sent, and its answers after."""

from __future__ import annotations

import json
from dataclasses import asdict

import sqlalchemy as sa
from sqlalchemy import Engine

from app.live.trading.ports import OPEN_STATUSES, OrderIntent, OrderReport
from infrastructure.db.errors import storage_errors

metadata = sa.MetaData()
live_orders = sa.Table(
    "live_orders", metadata,
    sa.Column("client_id", sa.String(40), primary_key=True),
    sa.Column("session_id", sa.String(200), nullable=False),
    sa.Column("sequence", sa.Integer, nullable=False),
    sa.Column("intent", sa.Text, nullable=False),
    sa.Column("intended_ms", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(20)),
    sa.Column("report", sa.Text),
    sa.Column("reported_ms", sa.BigInteger),
)
c = live_orders.c


class SqlOrderJournal:
    """Implements app.live.trading.ports.OrderJournal; each call is one committed transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @storage_errors
    def next_sequence(self, session_id: str) -> int:
        with self.engine.connect() as conn:
            last = conn.execute(sa.select(sa.func.max(c.sequence)).where(c.session_id == session_id)).scalar()
        return int(last or 0) + 1

    @storage_errors
    def intended(self, session_id: str, intent: OrderIntent, now_ms: int) -> None:
        sequence = int(intent.client_id.rsplit("-", 1)[-1]) if intent.client_id.rsplit("-", 1)[-1].isdigit() else 0
        with self.engine.begin() as conn:
            conn.execute(live_orders.insert().values(client_id=intent.client_id, session_id=session_id,
                                                     sequence=sequence, intent=json.dumps(asdict(intent)),
                                                     intended_ms=now_ms))

    @storage_errors
    def reported(self, report: OrderReport, now_ms: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(live_orders.update().where(c.client_id == report.client_id).values(
                status=report.status, report=json.dumps(asdict(report)), reported_ms=now_ms))

    @storage_errors
    def unresolved(self, session_id: str) -> list[OrderIntent]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(c.intent).where(c.session_id == session_id, c.status.is_(None))
                                .order_by(c.sequence)).all()
        return [OrderIntent(**json.loads(r.intent)) for r in rows]

    @storage_errors
    def open_client_ids(self, session_id: str) -> list[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(c.client_id).where(c.session_id == session_id,
                                                             c.status.in_(OPEN_STATUSES))).all()
        return [r.client_id for r in rows]

    @storage_errors
    def orders(self, session_id: str) -> list[OrderReport]:
        """Every answered order of the session, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(c.report).where(c.session_id == session_id, c.report.is_not(None))
                                .order_by(c.sequence)).all()
        return [OrderReport(**json.loads(r.report)) for r in rows]
