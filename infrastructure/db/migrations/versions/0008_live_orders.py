"""live_orders: the order journal of live sessions, each intent written before it is sent."""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "live_orders",
        sa.Column("client_id", sa.String(40), primary_key=True),
        sa.Column("session_id", sa.String(200), nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("intent", sa.Text, nullable=False),
        sa.Column("intended_ms", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(20)),  # NULL until the exchange answered
        sa.Column("report", sa.Text),
        sa.Column("reported_ms", sa.BigInteger),
    )
    op.create_index("ix_live_orders_session", "live_orders", ["session_id", "sequence"])


def downgrade() -> None:
    op.drop_index("ix_live_orders_session", "live_orders")
    op.drop_table("live_orders")
