"""The Optimize view: parameter sweeps and walk-forward validation with a results table and a heatmap."""

from __future__ import annotations

from typing import Any

from app.ports import StoredSeries
from presentation.optimize.view import OptimizeView, StrategyChoice

__all__ = ["OptimizeView", "StrategyChoice", "optimize_view"]


def stored_strategies(service: Any, limit: int = 500) -> list[StrategyChoice]:
    """Stored strategies as choices (first `limit` by name)."""
    if service is None:
        return []
    out = []
    for summary in service.page(limit=limit).items:
        record = service.get(summary.id)
        if record is not None:
            out.append(StrategyChoice(record.name, record.definition, record.id))
    return out


def optimize_view(source: Any, parent: Any = None) -> OptimizeView:
    """An Optimize view wired to the sweep, backtest, strategy and candle services of the composition root's
    container (or of presentation.services.Services, which wraps it)."""
    container = getattr(source, "container", source)

    def series() -> list[StoredSeries]:
        return list(container.candles.series())

    return OptimizeView(container.sweeps, lambda: stored_strategies(container.strategies), series,
                        getattr(container, "backtests", None), parent)
