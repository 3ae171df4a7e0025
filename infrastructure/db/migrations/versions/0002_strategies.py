"""strategies: definitions (JSON), their tags, and a flag recording that the samples were loaded once."""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "strategies",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(120, collation="NOCASE"), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("notes", sa.Text, nullable=False, server_default=""),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
        sa.Column("last_backtest_return", sa.Float, nullable=True),
        sa.Column("last_backtest_trades", sa.Integer, nullable=True),
    )
    # Unique name doubles as the keyset index for sorting by name; (updated_ms, id) for sorting by time.
    op.create_index("uq_strategies_name", "strategies", ["name"], unique=True)
    op.create_index("ix_strategies_updated", "strategies", ["updated_ms", "id"])
    op.create_table(
        "strategy_tags",
        sa.Column("strategy_id", sa.Integer, sa.ForeignKey("strategies.id", ondelete="CASCADE"), nullable=False),
        sa.Column("tag", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("strategy_id", "tag", name="pk_strategy_tags"),
    )
    op.create_index("ix_strategy_tags_tag", "strategy_tags", ["tag", "strategy_id"])
    op.create_table(
        "strategy_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("strategy_meta")
    op.drop_index("ix_strategy_tags_tag", "strategy_tags")
    op.drop_table("strategy_tags")
    op.drop_index("ix_strategies_updated", "strategies")
    op.drop_index("uq_strategies_name", "strategies")
    op.drop_table("strategies")
