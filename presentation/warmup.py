"""The engines loaded off the UI thread: the modules behind the strategy and live tabs, and every
indicator's compiled kernels (numba's on-disk cache). Loaded on the UI thread instead, they froze the
window for about a second just after its first paint, and again on the first indicator added to a chart."""

from __future__ import annotations

import importlib

import numpy as np

MODULES = ("presentation.strategies.workspace", "presentation.live.tab", "domain.backtest")
BARS = 300  # long enough for every indicator's default warm-up, so each kernel runs its whole loop


def load_engines() -> None:
    """Import the engine-backed modules and run each catalog indicator once on a small series.

    Safe to call from any thread: it creates no Qt object, and Python's import lock and numba's compiler
    lock make a UI-thread import or compute of the same thing wait for this one rather than repeat it.
    """
    for name in MODULES:
        importlib.import_module(name)
    from domain.indicators import CATALOG
    from domain.market import CandleSeries, Timeframe

    close = 100.0 + np.sin(np.arange(BARS) / 7.0)
    series = CandleSeries.from_columns(Timeframe.M1, np.arange(BARS, dtype=np.int64) * 60_000, close,
                                       close + 0.5, close - 0.5, close, np.full(BARS, 10.0))
    for indicator in CATALOG.values():
        indicator.compute(series)
