"""SQLite/SQL candle repository: bars stored as columnar blocks (1,440 bars per row) for fast bulk I/O."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import numpy as np
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from app.errors import DataError
from app.market_data.ports import StoredSeries
from app.market_data.timerange import check_bar_times
from domain.market import FIELDS, CandleSeries, Coverage, InvalidCandles, SeriesKey, Timeframe
from domain.market.coverage import runs
from domain.market.intervals import Interval, merge, subtract
from infrastructure.db.errors import storage_errors
from infrastructure.db.tables import candle_blocks as cb
from infrastructure.db.tables import fetched_ranges as fr

BLOCK_BARS = 1440
_COLS = ("ts", *FIELDS)


def _block_ids(tf: Timeframe, ts: np.ndarray) -> np.ndarray:
    return (ts - tf.origin_ms) // (tf.ms * BLOCK_BARS)


def _key_filter(table: sa.Table, key: SeriesKey) -> sa.ColumnElement[bool]:
    return sa.and_(
        table.c.exchange == key.exchange, table.c.symbol == key.symbol, table.c.timeframe == key.timeframe.code
    )


def _to_series(tf: Timeframe, rows: Iterable[sa.Row[tuple[bytes, ...]]]) -> CandleSeries:
    parts: list[list[np.ndarray]] = [[] for _ in _COLS]
    for row in rows:
        for i, blob in enumerate(row):
            parts[i].append(np.frombuffer(blob, dtype=np.int64 if i == 0 else np.float64))
    if not parts[0]:
        return CandleSeries.empty(tf)
    cols = [np.concatenate(p) for p in parts]
    return CandleSeries(tf, *cols)


class SqlCandleRepository:
    """Implements app.market_data.ports.CandleRepository on any SQLAlchemy engine (SQLite in WAL mode by default)."""

    def __init__(self, engine: Engine, now_ms: Callable[[], int] | None = None) -> None:
        self._engine = engine
        self._now_ms = now_ms or (lambda: int(time.time() * 1000))  # bounds the newest bar time accepted

    def _begin_write(self) -> Connection:
        return self._engine.connect().execution_options(sqlite_begin="BEGIN IMMEDIATE")

    @storage_errors
    def upsert(self, key: SeriesKey, series: CandleSeries, fetched: tuple[int, int] | None = None) -> int:
        if series.timeframe is not key.timeframe:
            raise DataError(f"series is {series.timeframe.code} but {key} was asked for")
        try:
            series.validate()
        except InvalidCandles as err:
            raise DataError(f"{key}: {err}") from None
        check_bar_times(str(key), series.ts, self._now_ms())  # every write (import, collect, live) passes here
        with self._begin_write() as conn, conn.begin():
            if len(series):
                self._merge_blocks(conn, key, series)
            if fetched is not None:
                self._add_fetched(conn, key, fetched)
        return len(series)

    def _merge_blocks(self, conn: Connection, key: SeriesKey, series: CandleSeries) -> None:
        tf = key.timeframe
        ids = _block_ids(tf, series.ts)
        lo, hi = int(ids[0]), int(ids[-1])
        where = sa.and_(_key_filter(cb, key), cb.c.block.between(lo, hi))
        existing = {
            int(r[0]): _to_series(tf, [r[1:]])
            for r in conn.execute(sa.select(cb.c.block, *(cb.c[c] for c in _COLS)).where(where))
        }
        starts = np.concatenate([[0], np.nonzero(np.diff(ids))[0] + 1, [len(ids)]])
        rows = []
        for a, b in zip(starts[:-1], starts[1:], strict=True):
            block = int(ids[a])
            part = series.take(slice(int(a), int(b)))
            if block in existing:
                part = existing[block].concat(part)
            rows.append(self._row(key, block, part))
        if existing:
            conn.execute(sa.delete(cb).where(_key_filter(cb, key), cb.c.block.in_(list(existing))))
        conn.execute(sa.insert(cb), rows)

    @staticmethod
    def _row(key: SeriesKey, block: int, s: CandleSeries) -> dict[str, object]:
        row: dict[str, object] = {
            "exchange": key.exchange, "symbol": key.symbol, "timeframe": key.timeframe.code, "block": block,
            "first_ts": int(s.ts[0]), "last_ts": int(s.ts[-1]), "n": len(s),
        }
        for c in _COLS:
            row[c] = getattr(s, c).tobytes()
        return row

    def _add_fetched(self, conn: Connection, key: SeriesKey, window: tuple[int, int]) -> None:
        start, end = int(window[0]), int(window[1])
        if end <= start:
            return
        near = sa.and_(_key_filter(fr, key), fr.c.start_ts <= end, fr.c.end_ts >= start)
        found = conn.execute(sa.select(fr.c.id, fr.c.start_ts, fr.c.end_ts).where(near)).all()
        merged = merge([(start, end), *((int(r[1]), int(r[2])) for r in found)])
        if found:
            conn.execute(sa.delete(fr).where(fr.c.id.in_([r[0] for r in found])))
        conn.execute(sa.insert(fr), [self._fetched_row(key, s, e) for s, e in merged])

    @staticmethod
    def _fetched_row(key: SeriesKey, start: int, end: int) -> dict[str, object]:
        return {"exchange": key.exchange, "symbol": key.symbol, "timeframe": key.timeframe.code,
                "start_ts": start, "end_ts": end}

    @storage_errors
    def read(self, key: SeriesKey, start_ms: int | None = None, end_ms: int | None = None) -> CandleSeries:
        tf = key.timeframe
        where = _key_filter(cb, key)
        if start_ms is not None:
            where = sa.and_(where, cb.c.last_ts >= start_ms)
        if end_ms is not None:
            where = sa.and_(where, cb.c.first_ts < end_ms)
        stmt = sa.select(*(cb.c[c] for c in _COLS)).where(where).order_by(cb.c.block)
        with self._engine.connect() as conn:
            series = _to_series(tf, conn.execute(stmt))
        if start_ms is None and end_ms is None:
            return series
        return series.slice_time(start_ms, end_ms)

    def _fetched(self, conn: Connection, key: SeriesKey) -> list[Interval]:
        stmt = sa.select(fr.c.start_ts, fr.c.end_ts).where(_key_filter(fr, key)).order_by(fr.c.start_ts)
        return merge((int(a), int(b)) for a, b in conn.execute(stmt))

    @storage_errors
    def coverage(self, key: SeriesKey) -> Coverage:
        stmt = sa.select(cb.c.ts).where(_key_filter(cb, key)).order_by(cb.c.block)
        with self._engine.connect() as conn:
            blobs = [np.frombuffer(r[0], dtype=np.int64) for r in conn.execute(stmt)]
            fetched = self._fetched(conn, key)
        ts = np.concatenate(blobs) if blobs else np.empty(0, dtype=np.int64)
        return Coverage(key.timeframe, fetched=fetched, stored=runs(ts, key.timeframe.ms))

    @storage_errors
    def delete(self, key: SeriesKey, start_ms: int | None = None, end_ms: int | None = None) -> int:
        lo = -(2**62) if start_ms is None else int(start_ms)
        hi = 2**62 if end_ms is None else int(end_ms)
        tf = key.timeframe
        where = sa.and_(_key_filter(cb, key), cb.c.last_ts >= lo, cb.c.first_ts < hi)
        removed = 0
        with self._begin_write() as conn, conn.begin():
            found = conn.execute(sa.select(cb.c.block, *(cb.c[c] for c in _COLS)).where(where)).all()
            keep_rows = []
            for r in found:
                s = _to_series(tf, [r[1:]])
                mask = (s.ts < lo) | (s.ts >= hi)
                removed += int(len(s) - mask.sum())
                if mask.any():
                    keep_rows.append(self._row(key, int(r[0]), s.take(mask)))
            if found:
                conn.execute(sa.delete(cb).where(_key_filter(cb, key), cb.c.block.in_([r[0] for r in found])))
            if keep_rows:
                conn.execute(sa.insert(cb), keep_rows)
            fetched = self._fetched(conn, key)
            left = subtract(fetched, [(lo, hi)])
            if left != fetched:
                conn.execute(sa.delete(fr).where(_key_filter(fr, key)))
                if left:
                    conn.execute(sa.insert(fr), [self._fetched_row(key, s, e) for s, e in left])
        return removed

    @storage_errors
    def forget_fetched(self, key: SeriesKey, start_ms: int, end_ms: int) -> None:
        with self._begin_write() as conn, conn.begin():
            near = sa.and_(_key_filter(fr, key), fr.c.start_ts < end_ms, fr.c.end_ts > start_ms)
            found = conn.execute(sa.select(fr.c.id, fr.c.start_ts, fr.c.end_ts).where(near)).all()
            if not found:
                return
            kept = subtract(merge((int(r[1]), int(r[2])) for r in found), [(start_ms, end_ms)])
            conn.execute(sa.delete(fr).where(fr.c.id.in_([r[0] for r in found])))
            if kept:
                conn.execute(sa.insert(fr), [self._fetched_row(key, s, e) for s, e in kept])

    @storage_errors
    def count(self, key: SeriesKey) -> int:
        with self._engine.connect() as conn:
            n = conn.execute(sa.select(sa.func.sum(cb.c.n)).where(_key_filter(cb, key))).scalar()
        return int(n or 0)

    @storage_errors
    def fetched_series(self) -> list[SeriesKey]:
        stmt = sa.select(fr.c.exchange, fr.c.symbol, fr.c.timeframe).distinct().order_by(
            fr.c.exchange, fr.c.symbol, fr.c.timeframe)
        with self._engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return [SeriesKey(e, s, Timeframe.parse(t)) for e, s, t in rows]

    @storage_errors
    def series(self) -> list[StoredSeries]:
        stmt = (
            sa.select(cb.c.exchange, cb.c.symbol, cb.c.timeframe, sa.func.min(cb.c.first_ts),
                      sa.func.max(cb.c.last_ts), sa.func.sum(cb.c.n))
            .group_by(cb.c.exchange, cb.c.symbol, cb.c.timeframe)
            .order_by(cb.c.exchange, cb.c.symbol, cb.c.timeframe)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return [
            StoredSeries(SeriesKey(e, s, Timeframe.parse(t)), int(a), int(b), int(n)) for e, s, t, a, b, n in rows
        ]
