"""paper: paper trading sessions (definition, status, broker snapshot), their orders and fills."""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "paper_sessions",
        sa.Column("session_id", sa.String(128), primary_key=True),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("state", sa.Text, nullable=True),
        sa.Column("last_bar_ts", sa.BigInteger, nullable=False, server_default="-1"),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "paper_orders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("session_id", sa.String(128), sa.ForeignKey("paper_sessions.session_id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("order_id", sa.String(160), nullable=False),
        sa.Column("side", sa.Integer, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("ts", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_paper_orders_session", "paper_orders", ["session_id", "id"])
    op.create_table(
        "paper_fills",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("session_id", sa.String(128), sa.ForeignKey("paper_sessions.session_id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("order_id", sa.String(160), nullable=False),
        sa.Column("side", sa.Integer, nullable=False),
        sa.Column("quantity", sa.Float, nullable=False),
        sa.Column("price", sa.Float, nullable=False),
        sa.Column("commission", sa.Float, nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("ts", sa.BigInteger, nullable=False),
        sa.Column("realized_pnl", sa.Float, nullable=False),
    )
    op.create_index("ix_paper_fills_session", "paper_fills", ["session_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_paper_fills_session", "paper_fills")
    op.drop_table("paper_fills")
    op.drop_index("ix_paper_orders_session", "paper_orders")
    op.drop_table("paper_orders")
    op.drop_table("paper_sessions")
