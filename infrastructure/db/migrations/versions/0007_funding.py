"""funding: perpetual futures funding events per exchange and symbol, and the windows proven complete."""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "funding",
        sa.Column("exchange", sa.String(32), primary_key=True),
        sa.Column("symbol", sa.String(64), primary_key=True),
        sa.Column("ts", sa.BigInteger, primary_key=True),
        sa.Column("rate", sa.Float, nullable=False),
        sa.Column("mark_price", sa.Float),
    )
    op.create_table(
        "funding_ranges",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("exchange", sa.String(32), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("start_ts", sa.BigInteger, nullable=False),
        sa.Column("end_ts", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_funding_ranges_key", "funding_ranges", ["exchange", "symbol", "start_ts"])


def downgrade() -> None:
    op.drop_index("ix_funding_ranges_key", "funding_ranges")
    op.drop_table("funding_ranges")
    op.drop_table("funding")
