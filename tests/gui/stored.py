"""Candles put straight into a test database."""

from __future__ import annotations

import numpy as np

from app.bootstrap.container import Container
from domain.market import CandleSeries, SeriesKey


def store_walk(container: Container, key: SeriesKey, n: int, start_ms: int = 1_700_000_040_000) -> CandleSeries:
    rng = np.random.default_rng(7)
    close = 100 + np.cumsum(rng.normal(0, 0.5, n))
    open_ = np.concatenate([[100.0], close[:-1]])
    ts = start_ms - start_ms % key.timeframe.ms + np.arange(n, dtype=np.int64) * key.timeframe.ms
    series = CandleSeries.from_columns(key.timeframe, ts, open_, np.maximum(open_, close) + 0.2,
                                       np.minimum(open_, close) - 0.2, close, rng.random(n) * 5)
    container.candles.upsert(key, series)
    return series
