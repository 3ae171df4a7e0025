"""packed run curves: a backtest run's equity and bar times may be stored packed (series_blobs); no table changes.

The revision exists so that an older QuantDesk, which reads those blobs as raw arrays, refuses the file instead of
drawing a wrong curve. Downgrading writes every packed curve back raw.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # raw curves stay as they are: both forms read


def downgrade() -> None:
    import numpy as np

    from infrastructure.db.series_blobs import unpack_floats, unpack_times

    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, bars, equity, equity_ts FROM backtest_runs")).all()
    for run_id, bars, equity, equity_ts in rows:
        if len(equity) == 8 * bars and len(equity_ts) == 8 * bars:
            continue
        conn.execute(sa.text("UPDATE backtest_runs SET equity = :e, equity_ts = :t WHERE id = :id"), {
            "e": unpack_floats(equity, bars).astype("<f8").tobytes(),
            "t": np.ascontiguousarray(unpack_times(equity_ts, bars), dtype="<i8").tobytes(), "id": run_id})
