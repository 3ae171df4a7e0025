"""sweeps: parameter sweeps and walk-forward runs with every point's result."""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sweeps",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("finished_ms", sa.BigInteger, nullable=True),
        sa.Column("strategy_id", sa.Integer, sa.ForeignKey("strategies.id", ondelete="SET NULL"), nullable=True),
        sa.Column("strategy_name", sa.String(120), nullable=False),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("timeframe", sa.String(8), nullable=False),
        sa.Column("start_ms", sa.BigInteger, nullable=False),
        sa.Column("end_ms", sa.BigInteger, nullable=False),
        sa.Column("config", sa.Text, nullable=False),
        sa.Column("settings", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("summary", sa.Text, nullable=True),
        sa.Column("equity_ts", sa.LargeBinary, nullable=True),
        sa.Column("equity", sa.LargeBinary, nullable=True),
    )
    op.create_index("ix_sweeps_created", "sweeps", ["created_ms", "id"])
    op.create_table(
        "sweep_results",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sweep_id", sa.Integer, sa.ForeignKey("sweeps.id", ondelete="CASCADE"), nullable=False),
        sa.Column("window_index", sa.Integer, nullable=False),
        sa.Column("coords", sa.Text, nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("objective", sa.Float, nullable=True),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("stats", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
    )
    op.create_index("ix_sweep_results_sweep", "sweep_results", ["sweep_id", "window_index"])


def downgrade() -> None:
    op.drop_index("ix_sweep_results_sweep", "sweep_results")
    op.drop_table("sweep_results")
    op.drop_index("ix_sweeps_created", "sweeps")
    op.drop_table("sweeps")
