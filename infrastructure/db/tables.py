"""SQLAlchemy Core table definitions for candles (the schema itself is owned by the Alembic migrations)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

candle_blocks = sa.Table(
    "candle_blocks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("exchange", sa.String(32), nullable=False),
    sa.Column("symbol", sa.String(64), nullable=False),
    sa.Column("timeframe", sa.String(8), nullable=False),
    sa.Column("block", sa.Integer, nullable=False),
    sa.Column("first_ts", sa.BigInteger, nullable=False),
    sa.Column("last_ts", sa.BigInteger, nullable=False),
    sa.Column("n", sa.Integer, nullable=False),
    sa.Column("ts", sa.LargeBinary, nullable=False),
    sa.Column("open", sa.LargeBinary, nullable=False),
    sa.Column("high", sa.LargeBinary, nullable=False),
    sa.Column("low", sa.LargeBinary, nullable=False),
    sa.Column("close", sa.LargeBinary, nullable=False),
    sa.Column("volume", sa.LargeBinary, nullable=False),
    sa.UniqueConstraint("exchange", "symbol", "timeframe", "block", name="uq_candle_blocks_key"),
)

fetched_ranges = sa.Table(
    "fetched_ranges",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("exchange", sa.String(32), nullable=False),
    sa.Column("symbol", sa.String(64), nullable=False),
    sa.Column("timeframe", sa.String(8), nullable=False),
    sa.Column("start_ts", sa.BigInteger, nullable=False),
    sa.Column("end_ts", sa.BigInteger, nullable=False),
)
