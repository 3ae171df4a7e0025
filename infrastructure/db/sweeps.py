"""SQL sweep repository: JSON for configuration and stats, one row per point, numpy blobs for stitched equity."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa
from sqlalchemy import Engine

from app.sweeps.ports import NewSweep, StoredPoint, StoredSweep, SweepSummary
from domain.sweep import PointResult
from infrastructure.db.errors import storage_errors

metadata = sa.MetaData()
sweeps = sa.Table(
    "sweeps", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("finished_ms", sa.BigInteger),
    sa.Column("strategy_id", sa.Integer),
    sa.Column("strategy_name", sa.String(120), nullable=False),
    sa.Column("definition", sa.Text, nullable=False),
    sa.Column("source", sa.String(300), nullable=False),
    sa.Column("timeframe", sa.String(8), nullable=False),
    sa.Column("start_ms", sa.BigInteger, nullable=False),
    sa.Column("end_ms", sa.BigInteger, nullable=False),
    sa.Column("config", sa.Text, nullable=False),
    sa.Column("settings", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("total", sa.Integer, nullable=False),
    sa.Column("summary", sa.Text),
    sa.Column("equity_ts", sa.LargeBinary),
    sa.Column("equity", sa.LargeBinary),
)
points = sa.Table(
    "sweep_results", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sweep_id", sa.Integer, nullable=False),
    sa.Column("window_index", sa.Integer, nullable=False),
    sa.Column("coords", sa.Text, nullable=False),
    sa.Column("params", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("objective", sa.Float),
    sa.Column("passed", sa.Boolean, nullable=False),
    sa.Column("stats", sa.Text, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
)
_DONE = sa.select(sa.func.count()).where(points.c.sweep_id == sweeps.c.id).scalar_subquery()
_SUMMARY = [sweeps.c[n] for n in ("id", "created_ms", "finished_ms", "strategy_id", "strategy_name", "source",
                                   "timeframe", "start_ms", "end_ms", "status", "total")]


def _json(value: Any) -> str:
    return json.dumps(value, allow_nan=False, default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} as JSON")


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _summary(row: Any) -> SweepSummary:
    return SweepSummary(row.id, row.created_ms, row.finished_ms, row.strategy_id, row.strategy_name, row.source,
                        row.timeframe, row.start_ms, row.end_ms, row.status, row.total, row.done)


def _point(row: Any) -> StoredPoint:
    result = PointResult(tuple(json.loads(row.coords)), tuple(json.loads(row.params)), row.status,
                         json.loads(row.stats), row.message, row.window_index)
    return StoredPoint(result, math.nan if row.objective is None else row.objective, bool(row.passed))


class SqlSweepRepository:
    """SweepRepository on SQLAlchemy Core (SQLite by default)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @storage_errors
    def create(self, sweep: NewSweep) -> int:
        values = dict(
            created_ms=sweep.created_ms, strategy_id=sweep.strategy_id, strategy_name=sweep.strategy_name,
            definition=_json(sweep.definition), source=sweep.source, timeframe=sweep.timeframe,
            start_ms=sweep.start_ms, end_ms=sweep.end_ms, config=_json(sweep.config),
            settings=_json(sweep.settings), status="running", total=sweep.total,
        )
        with self.engine.begin() as conn:
            key = conn.execute(sweeps.insert().values(**values)).inserted_primary_key
            assert key is not None
            return int(key[0])

    @storage_errors
    def add_points(self, sweep_id: int, stored: list[StoredPoint]) -> None:
        if not stored:
            return
        rows = [dict(sweep_id=sweep_id, window_index=p.result.window, coords=_json(list(p.result.coords)),
                     params=_json(list(p.result.params)), status=p.result.status, objective=_finite(p.objective),
                     passed=p.passed, stats=_json(p.result.stats), message=p.result.message) for p in stored]
        with self.engine.begin() as conn:
            conn.execute(points.insert(), rows)

    @storage_errors
    def finish(self, sweep_id: int, status: str, finished_ms: int, outcome: dict[str, Any],
               equity_ts: npt.NDArray[np.int64] | None = None,
               equity: npt.NDArray[np.float64] | None = None) -> None:
        values: dict[str, Any] = dict(status=status, finished_ms=finished_ms, summary=_json(outcome))
        if equity_ts is not None and equity is not None:
            values["equity_ts"] = np.ascontiguousarray(equity_ts, dtype="<i8").tobytes()
            values["equity"] = np.ascontiguousarray(equity, dtype="<f8").tobytes()
        with self.engine.begin() as conn:
            conn.execute(sweeps.update().where(sweeps.c.id == sweep_id).values(**values))

    @storage_errors
    def list(self, limit: int = 100, offset: int = 0) -> list[SweepSummary]:
        q = (sa.select(*_SUMMARY, _DONE.label("done")).order_by(sweeps.c.created_ms.desc(), sweeps.c.id.desc())
             .limit(limit).offset(offset))
        with self.engine.connect() as conn:
            return [_summary(r) for r in conn.execute(q)]

    @storage_errors
    def get(self, sweep_id: int) -> StoredSweep | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(sweeps, _DONE.label("done")).where(sweeps.c.id == sweep_id)).first()
            if row is None:
                return None
            rows = conn.execute(sa.select(points).where(points.c.sweep_id == sweep_id).order_by(points.c.id))
            stored = [_point(r) for r in rows]
        eq_ts = None if row.equity_ts is None else np.frombuffer(row.equity_ts, dtype="<i8").astype(np.int64)
        eq = None if row.equity is None else np.frombuffer(row.equity, dtype="<f8").astype(np.float64)
        return StoredSweep(_summary(row), json.loads(row.definition), json.loads(row.config),
                           json.loads(row.settings), json.loads(row.summary) if row.summary else {}, stored,
                           eq_ts, eq)

    @storage_errors
    def delete(self, sweep_id: int) -> bool:
        with self.engine.begin() as conn:
            conn.execute(points.delete().where(points.c.sweep_id == sweep_id))
            return bool(conn.execute(sweeps.delete().where(sweeps.c.id == sweep_id)).rowcount)
