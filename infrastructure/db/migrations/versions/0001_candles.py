"""candles: columnar blocks of bars and the windows fetched from exchanges."""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "candle_blocks",
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
    op.create_table(
        "fetched_ranges",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("exchange", sa.String(32), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("timeframe", sa.String(8), nullable=False),
        sa.Column("start_ts", sa.BigInteger, nullable=False),
        sa.Column("end_ts", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_fetched_ranges_key", "fetched_ranges", ["exchange", "symbol", "timeframe", "start_ts"])


def downgrade() -> None:
    op.drop_index("ix_fetched_ranges_key", "fetched_ranges")
    op.drop_table("fetched_ranges")
    op.drop_table("candle_blocks")
