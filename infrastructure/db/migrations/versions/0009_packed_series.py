"""packed series: a backtest run's equity and bar times may be stored packed (series_blobs), and a candle block's
evenly spaced times as its first time and step (candles.py); no table changes.

The revision exists so that an older QuantDesk, which reads those blobs as raw arrays, refuses the file instead of
misreading it. Downgrading writes every packed blob back raw.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # raw blobs stay as they are: both forms read


def downgrade() -> None:
    import numpy as np

    from infrastructure.db.series_blobs import unpack_floats, unpack_times

    conn = op.get_bind()
    runs = conn.execute(sa.text("SELECT id, bars, equity, equity_ts FROM backtest_runs")).all()
    for run_id, bars, equity, equity_ts in runs:
        if len(equity) != 8 * bars or len(equity_ts) != 8 * bars:
            conn.execute(sa.text("UPDATE backtest_runs SET equity = :e, equity_ts = :t WHERE id = :id"), {
                "e": unpack_floats(equity, bars).astype("<f8").tobytes(),
                "t": np.ascontiguousarray(unpack_times(equity_ts, bars), dtype="<i8").tobytes(), "id": run_id})
    blocks = conn.execute(sa.text("SELECT id, n, ts FROM candle_blocks WHERE length(ts) != 8 * n")).all()
    for block_id, n, ts in blocks:
        first, step = np.frombuffer(ts, dtype="<i8", offset=4)
        raw = (first + step * np.arange(n, dtype=np.int64)).astype("<i8").tobytes()
        conn.execute(sa.text("UPDATE candle_blocks SET ts = :t WHERE id = :id"), {"t": raw, "id": block_id})
