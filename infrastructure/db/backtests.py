"""SQL backtest run repository: JSON for definitions, settings and stats; numpy blobs for trades and equity."""

from __future__ import annotations

import io
import json
import math
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy import Engine

from app.backtests.ports import NewRun, RunSummary, StoredRun
from domain.backtest import TradeTable
from infrastructure.db.errors import storage_errors
from infrastructure.db.strategies import strategies

metadata = sa.MetaData()
runs = sa.Table(
    "backtest_runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("strategy_id", sa.Integer),
    sa.Column("strategy_name", sa.String(120), nullable=False),
    sa.Column("definition", sa.Text, nullable=False),
    sa.Column("exchange", sa.String(32), nullable=False),
    sa.Column("symbol", sa.String(64), nullable=False),
    sa.Column("timeframe", sa.String(8), nullable=False),
    sa.Column("start_ms", sa.BigInteger, nullable=False),
    sa.Column("end_ms", sa.BigInteger, nullable=False),
    sa.Column("bars", sa.Integer, nullable=False),
    sa.Column("settings", sa.Text, nullable=False),
    sa.Column("stats", sa.Text, nullable=False),
    sa.Column("return_pct", sa.Float),
    sa.Column("n_trades", sa.Integer, nullable=False),
    sa.Column("trades", sa.LargeBinary, nullable=False),
    sa.Column("equity_ts", sa.LargeBinary, nullable=False),
    sa.Column("equity", sa.LargeBinary, nullable=False),
)
_SUMMARY = [runs.c[name] for name in ("id", "created_ms", "strategy_id", "strategy_name", "exchange", "symbol",
                                       "timeframe", "start_ms", "end_ms", "bars", "return_pct", "n_trades",
                                       "settings")]
_OVERRIDES = "overrides"  # kept inside the settings JSON (no schema change); split out again on reading


def trades_to_blob(trades: TradeTable) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **trades.columns())  # type: ignore[arg-type]  # numpy's stub types allow_pickle here
    return buf.getvalue()


def trades_from_blob(blob: bytes) -> TradeTable:
    with np.load(io.BytesIO(blob), allow_pickle=False) as data:
        return TradeTable.from_columns({name: data[name] for name in data.files})


def _split_settings(text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(account settings, overridden strategy values) from the stored settings JSON."""
    settings = json.loads(text)
    overrides = settings.pop(_OVERRIDES, None)
    return settings, overrides if isinstance(overrides, dict) else {}


def _fraction(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _summary(row: Any) -> RunSummary:
    settings, overrides = _split_settings(row.settings)
    return RunSummary(row.id, row.created_ms, row.strategy_id, row.strategy_name, row.exchange, row.symbol,
                      row.timeframe, row.start_ms, row.end_ms, row.bars, row.return_pct, row.n_trades,
                      _fraction(settings.get("commission")), _fraction(settings.get("slippage")), len(overrides))


class SqlBacktestRepository:
    """BacktestRepository on SQLAlchemy Core (SQLite by default)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @storage_errors
    def add(self, run: NewRun) -> int:
        ret = run.stats.get("Return [%]")
        values = dict(
            created_ms=run.created_ms, strategy_id=run.strategy_id, strategy_name=run.strategy_name,
            definition=json.dumps(run.definition), exchange=run.exchange, symbol=run.symbol,
            timeframe=run.timeframe, start_ms=run.start_ms, end_ms=run.end_ms, bars=len(run.equity),
            settings=json.dumps({**run.settings, _OVERRIDES: run.overrides}),
            stats=json.dumps(run.stats, allow_nan=False),
            return_pct=ret if isinstance(ret, float) and math.isfinite(ret) else None, n_trades=len(run.trades),
            trades=trades_to_blob(run.trades),
            equity_ts=np.ascontiguousarray(run.equity_ts, dtype="<i8").tobytes(),
            equity=np.ascontiguousarray(run.equity, dtype="<f8").tobytes(),
        )
        with self.engine.begin() as conn:  # the run and the strategy's headline: one transaction
            key = conn.execute(runs.insert().values(**values)).inserted_primary_key
            assert key is not None
            if run.headline and run.strategy_id is not None:
                conn.execute(strategies.update().where(strategies.c.id == run.strategy_id).values(
                    last_backtest_return=values["return_pct"], last_backtest_trades=values["n_trades"]))
            return int(key[0])

    @storage_errors
    def list(self, limit: int = 100, offset: int = 0, strategy_id: int | None = None) -> list[RunSummary]:
        q = sa.select(*_SUMMARY).order_by(runs.c.created_ms.desc(), runs.c.id.desc()).limit(limit).offset(offset)
        if strategy_id is not None:
            q = q.where(runs.c.strategy_id == strategy_id)
        with self.engine.connect() as conn:
            return [_summary(r) for r in conn.execute(q)]

    @storage_errors
    def get(self, run_id: int) -> StoredRun | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(runs).where(runs.c.id == run_id)).first()
        if row is None:
            return None
        settings, overrides = _split_settings(row.settings)
        return StoredRun(
            summary=_summary(row), definition=json.loads(row.definition), settings=settings,
            stats=json.loads(row.stats), trades=trades_from_blob(row.trades),
            equity_ts=np.frombuffer(row.equity_ts, dtype="<i8").astype(np.int64),
            equity=np.frombuffer(row.equity, dtype="<f8").astype(np.float64), overrides=overrides,
        )

    @storage_errors
    def saved_definition(self, strategy_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            text = conn.execute(sa.select(strategies.c.definition).where(strategies.c.id == strategy_id)).scalar()
        if text is None:
            return None
        value = json.loads(text)
        return value if isinstance(value, dict) else None

    @storage_errors
    def delete(self, run_id: int) -> bool:
        with self.engine.begin() as conn:
            return bool(conn.execute(runs.delete().where(runs.c.id == run_id)).rowcount)

    @storage_errors
    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(runs)).scalar_one())
