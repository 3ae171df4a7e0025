"""The Optimize view: parameter sweeps and walk-forward validation with a results table and a heatmap."""

from __future__ import annotations

from PyQt6 import QtWidgets

from presentation.optimize.choices import StrategyChoice, stored_strategies
from presentation.optimize.view import OptimizeView
from presentation.services import Services

__all__ = ["OptimizeView", "StrategyChoice", "optimize_view", "stored_strategies"]


def optimize_view(services: Services, parent: QtWidgets.QWidget | None = None) -> OptimizeView:
    """An Optimize view wired to the sweep, backtest, strategy and candle services."""
    return OptimizeView(services.sweeps, lambda: stored_strategies(services.strategies), services.stored,
                        services.backtests, parent, revision=lambda: services.strategies.revision,
                        current=lambda: services.current_strategy_id, futures=services)
