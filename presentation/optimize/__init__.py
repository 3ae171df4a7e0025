"""The Optimize view: parameter sweeps and walk-forward validation with a results table and a heatmap."""

from __future__ import annotations

from typing import Any

from app.ports import StoredSeries
from presentation.optimize.choices import StrategyChoice, stored_strategies
from presentation.optimize.view import OptimizeView

__all__ = ["OptimizeView", "StrategyChoice", "optimize_view", "stored_strategies"]


def optimize_view(source: Any, parent: Any = None) -> OptimizeView:
    """An Optimize view wired to the sweep, backtest, strategy and candle services of the composition root's
    container (or of presentation.services.Services, which wraps it)."""
    container = getattr(source, "container", source)

    def series() -> list[StoredSeries]:
        return list(container.candles.series())

    return OptimizeView(container.sweeps, lambda: stored_strategies(container.strategies), series,
                        getattr(container, "backtests", None), parent)
