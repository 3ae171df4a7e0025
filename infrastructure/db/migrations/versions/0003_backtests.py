"""backtests: stored runs with their settings, statistics, trades and equity curve."""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "backtest_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("strategy_id", sa.Integer, sa.ForeignKey("strategies.id", ondelete="SET NULL"), nullable=True),
        sa.Column("strategy_name", sa.String(120), nullable=False),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("exchange", sa.String(32), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("timeframe", sa.String(8), nullable=False),
        sa.Column("start_ms", sa.BigInteger, nullable=False),
        sa.Column("end_ms", sa.BigInteger, nullable=False),
        sa.Column("bars", sa.Integer, nullable=False),
        sa.Column("settings", sa.Text, nullable=False),
        sa.Column("stats", sa.Text, nullable=False),
        sa.Column("return_pct", sa.Float, nullable=True),
        sa.Column("n_trades", sa.Integer, nullable=False),
        sa.Column("trades", sa.LargeBinary, nullable=False),
        sa.Column("equity_ts", sa.LargeBinary, nullable=False),
        sa.Column("equity", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_backtest_runs_created", "backtest_runs", ["created_ms", "id"])
    op.create_index("ix_backtest_runs_strategy", "backtest_runs", ["strategy_id", "created_ms"])


def downgrade() -> None:
    op.drop_index("ix_backtest_runs_strategy", "backtest_runs")
    op.drop_index("ix_backtest_runs_created", "backtest_runs")
    op.drop_table("backtest_runs")
