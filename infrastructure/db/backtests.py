"""SQL backtest run repository: JSON for definitions, settings and stats; compact blobs for trades and equity."""

from __future__ import annotations

import io
import json
import math
import sqlite3
from typing import TYPE_CHECKING, Any

import numpy as np

from app.backtests.ports import NewRun, RunSummary, StoredRun
from domain.backtest import TradeTable
from infrastructure.db.connections import Connections, connections_of
from infrastructure.db.series_blobs import pack_floats, pack_times, unpack_floats, unpack_times

if TYPE_CHECKING:
    from sqlalchemy import Engine

_SUMMARY = ("id", "created_ms", "strategy_id", "strategy_name", "exchange", "symbol", "timeframe", "start_ms",
            "end_ms", "bars", "return_pct", "n_trades", "settings")
_STORED = ("definition", "stats", "trades", "equity_ts", "equity")
_NEW = ("created_ms", "strategy_id", "strategy_name", "definition", "exchange", "symbol", "timeframe", "start_ms",
        "end_ms", "bars", "settings", "stats", "return_pct", "n_trades", "trades", "equity_ts", "equity")
_INSERT = f"INSERT INTO backtest_runs ({', '.join(_NEW)}) VALUES ({', '.join('?' * len(_NEW))})"
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


def _summary(row: sqlite3.Row) -> RunSummary:
    settings, overrides = _split_settings(row["settings"])
    return RunSummary(row["id"], row["created_ms"], row["strategy_id"], row["strategy_name"], row["exchange"],
                      row["symbol"], row["timeframe"], row["start_ms"], row["end_ms"], row["bars"], row["return_pct"],
                      row["n_trades"], _fraction(settings.get("commission")), _fraction(settings.get("slippage")),
                      len(overrides))


def _values(run: NewRun) -> tuple[Any, ...]:
    ret = run.stats.get("Return [%]")
    return (run.created_ms, run.strategy_id, run.strategy_name, json.dumps(run.definition), run.exchange,
            run.symbol, run.timeframe, run.start_ms, run.end_ms, len(run.equity),
            json.dumps({**run.settings, _OVERRIDES: run.overrides}), json.dumps(run.stats, allow_nan=False),
            ret if isinstance(ret, float) and math.isfinite(ret) else None, len(run.trades),
            trades_to_blob(run.trades), _times_blob(run), pack_floats(run.equity))


def _times_blob(run: NewRun) -> bytes:
    """The bar times packed when there is one per equity value (always, from BacktestService), else raw."""
    if len(run.equity_ts) == len(run.equity):
        return pack_times(run.equity_ts)
    return np.ascontiguousarray(run.equity_ts, dtype="<i8").tobytes()


class SqlBacktestRepository:
    """BacktestRepository on a QuantDesk SQLite file (a `Database`, or an SQLAlchemy engine's connections)."""

    def __init__(self, source: Engine | Connections) -> None:
        self.engine = source  # what it was built on (an engine serves the other stores too)
        self._db = connections_of(source)

    def add(self, run: NewRun) -> int:
        values = _values(run)
        with self._db.writing() as conn:  # the run and the strategy's headline: one transaction
            run_id = conn.execute(_INSERT, values).lastrowid
            assert run_id is not None
            if run.headline and run.strategy_id is not None:
                conn.execute("UPDATE strategies SET last_backtest_return = ?, last_backtest_trades = ? WHERE id = ?",
                             (values[_NEW.index("return_pct")], len(run.trades), run.strategy_id))
            return int(run_id)

    def _rows(self, sql: str, params: tuple[Any, ...]) -> list[sqlite3.Row]:
        with self._db.reading() as conn:
            cursor = conn.cursor()
            cursor.row_factory = sqlite3.Row
            return cursor.execute(sql, params).fetchall()

    def list(self, limit: int = 100, offset: int = 0, strategy_id: int | None = None) -> list[RunSummary]:
        where, params = ("WHERE strategy_id = ? ", (strategy_id,)) if strategy_id is not None else ("", ())
        sql = (f"SELECT {', '.join(_SUMMARY)} FROM backtest_runs {where}ORDER BY created_ms DESC, id DESC "
               f"LIMIT ? OFFSET ?")
        return [_summary(r) for r in self._rows(sql, (*params, limit, offset))]

    def get(self, run_id: int) -> StoredRun | None:
        found = self._rows(f"SELECT {', '.join((*_SUMMARY, *_STORED))} FROM backtest_runs WHERE id = ?", (run_id,))
        if not found:
            return None
        row = found[0]
        settings, overrides = _split_settings(row["settings"])
        return StoredRun(
            summary=_summary(row), definition=json.loads(row["definition"]), settings=settings,
            stats=json.loads(row["stats"]), trades=trades_from_blob(row["trades"]),
            equity_ts=unpack_times(row["equity_ts"], row["bars"]), equity=unpack_floats(row["equity"], row["bars"]),
            overrides=overrides,
        )

    def saved_definition(self, strategy_id: int) -> dict[str, Any] | None:
        found = self._rows("SELECT definition FROM strategies WHERE id = ?", (strategy_id,))
        if not found or found[0][0] is None:
            return None
        value = json.loads(found[0][0])
        return value if isinstance(value, dict) else None

    def delete(self, run_id: int) -> bool:
        with self._db.writing() as conn:
            return bool(conn.execute("DELETE FROM backtest_runs WHERE id = ?", (run_id,)).rowcount)

    def count(self) -> int:
        return int(self._rows("SELECT count(*) FROM backtest_runs", ())[0][0])
