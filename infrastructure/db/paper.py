"""SQLite/SQL store of paper sessions: definition and broker snapshot as JSON text, orders and fills as rows."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from app.errors import UserError
from app.live.ports import StoredSession
from app.live.session import RUNNING, finished_session_message, kept_session_message
from infrastructure.db.errors import storage_errors

metadata = sa.MetaData()
sessions = sa.Table(
    "paper_sessions", metadata,
    sa.Column("session_id", sa.String(128), primary_key=True),
    sa.Column("spec", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("state", sa.Text),
    sa.Column("last_bar_ts", sa.BigInteger, nullable=False),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("updated_ms", sa.BigInteger, nullable=False),
)
orders = sa.Table(
    "paper_orders", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("session_id", sa.String(128), nullable=False),
    sa.Column("order_id", sa.String(160), nullable=False),
    sa.Column("side", sa.Integer, nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("ts", sa.BigInteger, nullable=False),
)
fills = sa.Table(
    "paper_fills", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("session_id", sa.String(128), nullable=False),
    sa.Column("order_id", sa.String(160), nullable=False),
    sa.Column("side", sa.Integer, nullable=False),
    sa.Column("quantity", sa.Float, nullable=False),
    sa.Column("price", sa.Float, nullable=False),
    sa.Column("commission", sa.Float, nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("ts", sa.BigInteger, nullable=False),
    sa.Column("realized_pnl", sa.Float, nullable=False),
)
_ORDER_COLS = ("order_id", "side", "action", "reason", "ts")
_FILL_COLS = ("order_id", "side", "quantity", "price", "commission", "reason", "ts", "realized_pnl")


def _row(r: sa.Row[Any]) -> StoredSession:
    return StoredSession(r.session_id, json.loads(r.spec), r.status, json.loads(r.state) if r.state else None,
                         int(r.last_bar_ts), int(r.created_ms), int(r.updated_ms))


class SqlPaperStore:
    """Implements app.live.ports.PaperStore; every method is one transaction (safe from worker threads)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @storage_errors
    def create(self, session_id: str, spec: dict[str, Any], created_ms: int, replace: bool = False) -> None:
        """Start a session's record. A kept (running) one of that name is refused; a finished one too, unless
        `replace` says to delete its history."""
        with self._engine.connect().execution_options(sqlite_begin="BEGIN IMMEDIATE") as c, c.begin():
            status = c.execute(sa.select(sessions.c.status).where(sessions.c.session_id == session_id)).scalar()
            if status == RUNNING:
                raise UserError(kept_session_message(session_id))
            if status is not None and not replace:
                raise UserError(finished_session_message(session_id, str(status)))
            c.execute(sessions.delete().where(sessions.c.session_id == session_id))
            c.execute(orders.delete().where(orders.c.session_id == session_id))
            c.execute(fills.delete().where(fills.c.session_id == session_id))
            c.execute(sessions.insert().values(session_id=session_id, spec=json.dumps(spec), status=RUNNING,
                                               state=None, last_bar_ts=-1, created_ms=created_ms,
                                               updated_ms=created_ms))

    @storage_errors
    def save_state(self, session_id: str, status: str, state: dict[str, Any], last_bar_ts: int,
                   updated_ms: int) -> None:
        with self._engine.begin() as c:
            c.execute(sessions.update().where(sessions.c.session_id == session_id).values(
                status=status, state=json.dumps(state), last_bar_ts=last_bar_ts, updated_ms=updated_ms))

    @storage_errors
    def add_fill(self, session_id: str, fill: dict[str, Any]) -> None:
        with self._engine.begin() as c:
            c.execute(fills.insert().values(session_id=session_id, **{k: fill[k] for k in _FILL_COLS}))

    @storage_errors
    def add_order(self, session_id: str, order: dict[str, Any]) -> None:
        with self._engine.begin() as c:
            c.execute(orders.insert().values(session_id=session_id, **{k: order[k] for k in _ORDER_COLS}))

    @storage_errors
    def get(self, session_id: str) -> StoredSession | None:
        with self._engine.connect() as c:
            r = c.execute(sessions.select().where(sessions.c.session_id == session_id)).first()
        return _row(r) if r is not None else None

    @storage_errors
    def active(self) -> list[StoredSession]:
        with self._engine.connect() as c:
            rows = c.execute(sessions.select().where(sessions.c.status == RUNNING)
                             .order_by(sessions.c.created_ms)).all()
        return [_row(r) for r in rows]

    @storage_errors
    def all(self) -> list[StoredSession]:
        with self._engine.connect() as c:
            rows = c.execute(sessions.select().order_by(sessions.c.created_ms)).all()
        return [_row(r) for r in rows]

    @storage_errors
    def fills(self, session_id: str) -> list[dict[str, Any]]:
        with self._engine.connect() as c:
            rows = c.execute(sa.select(*(fills.c[k] for k in _FILL_COLS))
                             .where(fills.c.session_id == session_id).order_by(fills.c.id)).all()
        return [dict(r._mapping) for r in rows]

    @storage_errors
    def orders(self, session_id: str) -> list[dict[str, Any]]:
        with self._engine.connect() as c:
            rows = c.execute(sa.select(*(orders.c[k] for k in _ORDER_COLS))
                             .where(orders.c.session_id == session_id).order_by(orders.c.id)).all()
        return [dict(r._mapping) for r in rows]

    @storage_errors
    def delete(self, session_id: str) -> bool:
        with self._engine.begin() as c:
            c.execute(orders.delete().where(orders.c.session_id == session_id))
            c.execute(fills.delete().where(fills.c.session_id == session_id))
            n = c.execute(sessions.delete().where(sessions.c.session_id == session_id)).rowcount
        return bool(n)
