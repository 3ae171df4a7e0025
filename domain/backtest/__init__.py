"""Backtest engine: numba simulation over signal arrays, backtesting.py-compatible statistics."""

from domain.backtest.engine import OpenPosition, RiskLike, SignalsLike, SimResult, simulate
from domain.backtest.settings import BacktestSettings, InvalidSettings
from domain.backtest.trades import EXIT_REASONS, TradeTable

__all__ = [
    "EXIT_REASONS", "BacktestSettings", "InvalidSettings", "OpenPosition", "RiskLike", "SignalsLike",
    "SimResult", "TradeTable", "simulate",
]

from domain.backtest.stats import STAT_KEYS, compute_stats, drawdown  # noqa: E402

__all__ += ["STAT_KEYS", "compute_stats", "drawdown"]
