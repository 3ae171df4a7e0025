"""SQL funding-rate repository: one row per funding event, and the windows proven complete (like candles)."""

from __future__ import annotations

import numpy as np
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from app.errors import DataError
from domain.futures import FundingRates, InvalidFunding
from domain.market.intervals import Interval, merge
from infrastructure.db.errors import storage_errors

metadata = sa.MetaData()
funding = sa.Table(
    "funding", metadata,
    sa.Column("exchange", sa.String(32), primary_key=True),
    sa.Column("symbol", sa.String(64), primary_key=True),
    sa.Column("ts", sa.BigInteger, primary_key=True),
    sa.Column("rate", sa.Float, nullable=False),
    sa.Column("mark_price", sa.Float),
)
funding_ranges = sa.Table(
    "funding_ranges", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("exchange", sa.String(32), nullable=False),
    sa.Column("symbol", sa.String(64), nullable=False),
    sa.Column("start_ts", sa.BigInteger, nullable=False),
    sa.Column("end_ts", sa.BigInteger, nullable=False),
)
_CHUNK = 500  # bound parameters per statement stay far below SQLite's limit


def _key(table: sa.Table, exchange: str, symbol: str) -> sa.ColumnElement[bool]:
    return sa.and_(table.c.exchange == exchange, table.c.symbol == symbol)


class SqlFundingRepository:
    """Implements app.funding.FundingRepository on a SQLAlchemy engine (SQLite in WAL mode by default)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @storage_errors
    def upsert(self, exchange: str, symbol: str, rates: FundingRates, proven: Interval | None = None) -> int:
        try:
            rates.validate()
        except InvalidFunding as err:
            raise DataError(f"{exchange}:{symbol} funding: {err}") from None
        with self._engine.connect().execution_options(sqlite_begin="BEGIN IMMEDIATE") as conn, conn.begin():
            stamps = rates.ts.tolist()
            for i in range(0, len(stamps), _CHUNK):
                part = stamps[i:i + _CHUNK]
                conn.execute(sa.delete(funding).where(_key(funding, exchange, symbol), funding.c.ts.in_(part)))
            if stamps:
                marks = [None if m != m else m for m in rates.mark.tolist()]
                conn.execute(sa.insert(funding), [
                    {"exchange": exchange, "symbol": symbol, "ts": t, "rate": r, "mark_price": m}
                    for t, r, m in zip(stamps, rates.rate.tolist(), marks, strict=True)])
            if proven is not None:
                self._add_proven(conn, exchange, symbol, proven)
        return len(rates)

    def _add_proven(self, conn: Connection, exchange: str, symbol: str, window: Interval) -> None:
        start, end = int(window[0]), int(window[1])
        if end <= start:
            return
        fr = funding_ranges
        near = sa.and_(_key(fr, exchange, symbol), fr.c.start_ts <= end, fr.c.end_ts >= start)
        found = conn.execute(sa.select(fr.c.id, fr.c.start_ts, fr.c.end_ts).where(near)).all()
        merged = merge([(start, end), *((int(r[1]), int(r[2])) for r in found)])
        if found:
            conn.execute(sa.delete(fr).where(fr.c.id.in_([r[0] for r in found])))
        conn.execute(sa.insert(fr), [{"exchange": exchange, "symbol": symbol, "start_ts": s, "end_ts": e}
                                     for s, e in merged])

    @storage_errors
    def read(self, exchange: str, symbol: str, start_ms: int | None = None,
             end_ms: int | None = None) -> FundingRates:
        where = _key(funding, exchange, symbol)
        if start_ms is not None:
            where = sa.and_(where, funding.c.ts >= start_ms)
        if end_ms is not None:
            where = sa.and_(where, funding.c.ts < end_ms)
        stmt = sa.select(funding.c.ts, funding.c.rate, funding.c.mark_price).where(where).order_by(funding.c.ts)
        with self._engine.connect() as conn:
            rows = conn.execute(stmt).all()
        if not rows:
            return FundingRates.empty()
        ts, rate, mark = zip(*rows, strict=True)
        return FundingRates(np.array(ts, dtype=np.int64), np.array(rate, dtype=np.float64),
                            np.array([np.nan if m is None else m for m in mark], dtype=np.float64))

    @storage_errors
    def proven(self, exchange: str, symbol: str) -> list[Interval]:
        fr = funding_ranges
        stmt = sa.select(fr.c.start_ts, fr.c.end_ts).where(_key(fr, exchange, symbol)).order_by(fr.c.start_ts)
        with self._engine.connect() as conn:
            return merge((int(a), int(b)) for a, b in conn.execute(stmt))

    @storage_errors
    def count(self, exchange: str, symbol: str) -> int:
        stmt = sa.select(sa.func.count()).select_from(funding).where(_key(funding, exchange, symbol))
        with self._engine.connect() as conn:
            n = conn.execute(stmt).scalar()
        return int(n or 0)
