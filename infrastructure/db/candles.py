"""SQLite candle repository: bars stored as columnar blocks (1,440 bars per row) for fast bulk I/O, in plain SQL."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from app.errors import DataError, StorageError
from app.market_data.ports import StoredSeries
from app.market_data.timerange import check_bar_times
from domain.market import FIELDS, CandleSeries, Coverage, InvalidCandles, SeriesKey, Timeframe
from domain.market.coverage import runs
from domain.market.intervals import Interval, merge, subtract
from infrastructure.db.connections import Connections, connections_of

if TYPE_CHECKING:
    from sqlalchemy import Engine

BLOCK_BARS = 1440
BULK_BARS = 100_000  # a write this large (an import) is a bulk write: see Database.writing
_COLS = ("ts", *FIELDS)
_KEY = "exchange = ? AND symbol = ? AND timeframe = ?"
_BLOCKS = ", ".join(_COLS)
_ROWS = f"n, {_BLOCKS}"  # what a block's series is read from
# A block whose bars are evenly spaced (the usual case) keeps its times as the first time and the step: 20 bytes
# for 11.5 KB. Raw times are exactly 8 bytes a bar, so the two forms never collide (only used from 3 bars on).
_EVEN = b"QDA1"
_INSERT_BLOCK = (f"INSERT INTO candle_blocks (exchange, symbol, timeframe, block, first_ts, last_ts, n, {_BLOCKS}) "
                 f"VALUES ({', '.join('?' * (7 + len(_COLS)))})")
_INSERT_FETCHED = "INSERT INTO fetched_ranges (exchange, symbol, timeframe, start_ts, end_ts) VALUES (?, ?, ?, ?, ?)"
Row = tuple[object, ...]


def _block_ids(tf: Timeframe, ts: np.ndarray) -> np.ndarray:
    return (ts - tf.origin_ms) // (tf.ms * BLOCK_BARS)


def _key(key: SeriesKey) -> tuple[str, str, str]:
    return key.exchange, key.symbol, key.timeframe.code


def _times_blob(ts: np.ndarray) -> bytes | memoryview:
    """A block's times: first and step when evenly spaced, else raw (bound as a view: SQLite copies it once)."""
    n = len(ts)
    if n >= 3:
        step = int(ts[1] - ts[0])
        if step > 0 and int(ts[-1] - ts[0]) == step * (n - 1) and (np.diff(ts) == step).all():
            return _EVEN + np.array([ts[0], step], dtype="<i8").tobytes()
    return np.ascontiguousarray(ts, dtype="<i8").data.cast("B")


def _fill_times(out: np.ndarray, blob: bytes, n: int) -> None:
    """`n` bar times from a block's blob of either form into `out` (StorageError if it is neither)."""
    if len(blob) == 8 * n:
        out.view(np.uint8)[:] = np.frombuffer(blob, dtype=np.uint8)
    elif len(blob) == len(_EVEN) + 16 and blob[:len(_EVEN)] == _EVEN:
        first, step = np.frombuffer(blob, dtype="<i8", offset=len(_EVEN))
        np.multiply(np.arange(n, dtype=np.int64), step, out=out)
        out += first
    else:
        raise StorageError(f"a stored candle block of {n} bars has {len(blob)} bytes of times")


def _to_series(tf: Timeframe, rows: Iterable[Sequence[Any]], n: int) -> CandleSeries:
    """Blocks (n, then the ts, open, high, low, close, volume blobs) of `n` bars in all, joined into one series.
    Each row is copied into place as it comes from the cursor, so its blobs' memory is reused by the next row's."""
    ts = np.empty(n, dtype=np.int64)
    cols = [np.empty(n, dtype=np.float64) for _ in FIELDS]
    views = [c.view(np.uint8) for c in cols]
    at = 0
    for count, times, *values in rows:
        size = 8 * count
        if at + count > n or any(len(blob) != size for blob in values):
            raise StorageError(f"a stored candle block of {tf.code} bars has columns of different lengths")
        _fill_times(ts[at:at + count], times, count)
        for view, blob in zip(views, values, strict=True):
            view[8 * at:8 * at + size] = np.frombuffer(blob, dtype=np.uint8)
        at += count
    if at != n:
        raise StorageError(f"stored candle blocks of {tf.code} bars hold {at} bars, not {n}")
    return CandleSeries(tf, ts, *cols)


def _block(tf: Timeframe, row: Sequence[Any]) -> CandleSeries:
    return _to_series(tf, [row], int(row[0]))


class SqlCandleRepository:
    """Implements app.market_data.ports.CandleRepository on a QuantDesk SQLite file (WAL mode), given as a
    `Database` (plain sqlite3: the CLI) or an SQLAlchemy engine (its pool's connections)."""

    def __init__(self, source: Engine | Connections, now_ms: Callable[[], int] | None = None) -> None:
        self._db = connections_of(source)
        self._now_ms = now_ms or (lambda: int(time.time() * 1000))  # bounds the newest bar time accepted

    def upsert(self, key: SeriesKey, series: CandleSeries, fetched: tuple[int, int] | None = None) -> int:
        if series.timeframe is not key.timeframe:
            raise DataError(f"series is {series.timeframe.code} but {key} was asked for")
        try:
            series.validate()
        except InvalidCandles as err:
            raise DataError(f"{key}: {err}") from None
        check_bar_times(str(key), series.ts, self._now_ms())  # every write (import, collect, live) passes here
        with self._db.writing(bulk=len(series) >= BULK_BARS) as conn:
            if len(series):
                self._merge_blocks(conn, key, series)
            if fetched is not None:
                self._add_fetched(conn, key, fetched)
        return len(series)

    def _merge_blocks(self, conn: sqlite3.Connection, key: SeriesKey, series: CandleSeries) -> None:
        tf = key.timeframe
        ids = _block_ids(tf, series.ts)
        lo, hi = int(ids[0]), int(ids[-1])
        found = conn.execute(f"SELECT block, {_ROWS} FROM candle_blocks WHERE {_KEY} AND block BETWEEN ? AND ?",
                             (*_key(key), lo, hi)).fetchall()
        existing = {int(r[0]): _block(tf, r[1:]) for r in found}
        starts = np.concatenate([[0], np.nonzero(np.diff(ids))[0] + 1, [len(ids)]]).tolist()
        rows = []
        for a, b in zip(starts[:-1], starts[1:], strict=True):
            block = int(ids[a])
            part = series.take(slice(a, b))
            if block in existing:
                part = existing[block].concat(part)
            rows.append(self._row(key, block, part))
        if existing:
            self._delete_blocks(conn, key, list(existing))
        conn.executemany(_INSERT_BLOCK, rows)

    @staticmethod
    def _delete_blocks(conn: sqlite3.Connection, key: SeriesKey, blocks: list[int]) -> None:
        conn.executemany(f"DELETE FROM candle_blocks WHERE {_KEY} AND block = ?", [(*_key(key), b) for b in blocks])

    @staticmethod
    def _row(key: SeriesKey, block: int, s: CandleSeries) -> Row:
        """A block's row; contiguous columns are bound as views (SQLite copies them once, no bytes in between)."""
        cols = (getattr(s, c) for c in FIELDS)
        blobs = (c.data.cast("B") if c.flags.c_contiguous else c.tobytes() for c in cols)
        return (*_key(key), block, int(s.ts[0]), int(s.ts[-1]), len(s), _times_blob(s.ts), *blobs)

    def _add_fetched(self, conn: sqlite3.Connection, key: SeriesKey, window: tuple[int, int]) -> None:
        start, end = int(window[0]), int(window[1])
        if end <= start:
            return
        found = conn.execute(f"SELECT id, start_ts, end_ts FROM fetched_ranges WHERE {_KEY} AND start_ts <= ? "
                             f"AND end_ts >= ?", (*_key(key), end, start)).fetchall()
        merged = merge([(start, end), *((int(r[1]), int(r[2])) for r in found)])
        self._replace_fetched(conn, key, [r[0] for r in found], merged)

    @staticmethod
    def _replace_fetched(conn: sqlite3.Connection, key: SeriesKey, ids: list[int], kept: list[Interval]) -> None:
        conn.executemany("DELETE FROM fetched_ranges WHERE id = ?", [(i,) for i in ids])
        conn.executemany(_INSERT_FETCHED, [(*_key(key), s, e) for s, e in kept])

    def read(self, key: SeriesKey, start_ms: int | None = None, end_ms: int | None = None) -> CandleSeries:
        where, params = _KEY, list[object](_key(key))
        if start_ms is not None:
            where, params = f"{where} AND last_ts >= ?", [*params, int(start_ms)]
        if end_ms is not None:
            where, params = f"{where} AND first_ts < ?", [*params, int(end_ms)]
        with self._db.reading() as conn:
            n = conn.execute(f"SELECT sum(n) FROM candle_blocks WHERE {where}", params).fetchone()[0]
            rows = conn.execute(f"SELECT {_ROWS} FROM candle_blocks WHERE {where} ORDER BY block", params)
            series = _to_series(key.timeframe, rows, int(n or 0))
        if start_ms is None and end_ms is None:
            return series
        return series.slice_time(start_ms, end_ms)

    @staticmethod
    def _fetched(conn: sqlite3.Connection, key: SeriesKey) -> list[Interval]:
        rows = conn.execute(f"SELECT start_ts, end_ts FROM fetched_ranges WHERE {_KEY} ORDER BY start_ts", _key(key))
        return merge((int(a), int(b)) for a, b in rows)

    def coverage(self, key: SeriesKey) -> Coverage:
        with self._db.reading() as conn:
            blocks = conn.execute(f"SELECT n, ts FROM candle_blocks WHERE {_KEY} ORDER BY block", _key(key)).fetchall()
            fetched = self._fetched(conn, key)
        ts = np.empty(sum(int(n) for n, _ in blocks), dtype=np.int64)
        at = 0
        for n, blob in blocks:
            _fill_times(ts[at:at + n], blob, n)
            at += n
        return Coverage(key.timeframe, fetched=fetched, stored=runs(ts, key.timeframe.ms))

    def delete(self, key: SeriesKey, start_ms: int | None = None, end_ms: int | None = None) -> int:
        lo = -(2**62) if start_ms is None else int(start_ms)
        hi = 2**62 if end_ms is None else int(end_ms)
        removed = 0
        with self._db.writing() as conn:
            found = conn.execute(f"SELECT block, {_ROWS} FROM candle_blocks WHERE {_KEY} AND last_ts >= ? AND "
                                 f"first_ts < ?", (*_key(key), lo, hi)).fetchall()
            keep_rows = []
            for r in found:
                s = _block(key.timeframe, r[1:])
                mask = (s.ts < lo) | (s.ts >= hi)
                removed += int(len(s) - mask.sum())
                if mask.any():
                    keep_rows.append(self._row(key, int(r[0]), s.take(mask)))
            self._delete_blocks(conn, key, [int(r[0]) for r in found])
            conn.executemany(_INSERT_BLOCK, keep_rows)
            fetched = self._fetched(conn, key)
            left = subtract(fetched, [(lo, hi)])
            if left != fetched:
                conn.execute(f"DELETE FROM fetched_ranges WHERE {_KEY}", _key(key))
                conn.executemany(_INSERT_FETCHED, [(*_key(key), s, e) for s, e in left])
        return removed

    def forget_fetched(self, key: SeriesKey, start_ms: int, end_ms: int) -> None:
        with self._db.writing() as conn:
            found = conn.execute(f"SELECT id, start_ts, end_ts FROM fetched_ranges WHERE {_KEY} AND start_ts < ? "
                                 f"AND end_ts > ?", (*_key(key), end_ms, start_ms)).fetchall()
            if found:
                kept = subtract(merge((int(r[1]), int(r[2])) for r in found), [(start_ms, end_ms)])
                self._replace_fetched(conn, key, [r[0] for r in found], kept)

    def count(self, key: SeriesKey) -> int:
        with self._db.reading() as conn:
            n = conn.execute(f"SELECT sum(n) FROM candle_blocks WHERE {_KEY}", _key(key)).fetchone()[0]
        return int(n or 0)

    def fetched_series(self) -> list[SeriesKey]:
        with self._db.reading() as conn:
            rows = conn.execute("SELECT DISTINCT exchange, symbol, timeframe FROM fetched_ranges "
                                "ORDER BY exchange, symbol, timeframe").fetchall()
        return [SeriesKey(e, s, Timeframe.parse(t)) for e, s, t in rows]

    def series(self) -> list[StoredSeries]:
        with self._db.reading() as conn:
            rows = conn.execute("SELECT exchange, symbol, timeframe, min(first_ts), max(last_ts), sum(n) "
                                "FROM candle_blocks GROUP BY exchange, symbol, timeframe "
                                "ORDER BY exchange, symbol, timeframe").fetchall()
        return [StoredSeries(SeriesKey(e, s, Timeframe.parse(t)), int(a), int(b), int(n)) for e, s, t, a, b, n in rows]
