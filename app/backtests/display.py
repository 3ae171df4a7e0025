"""Backtest statistics as traders read them: one formatting for the GUI's tables and the CLI's text."""

from __future__ import annotations

import math
from typing import Any

from domain.backtest.stats import DURATION_KEYS, meaningless_ratio


def stat_text(key: str, value: Any) -> str:
    """A stored (JSON-shaped: times ISO 8601, durations in days) statistic as text."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)) or meaningless_ratio(key, value):
        return "—"
    if key in DURATION_KEYS and isinstance(value, int | float):
        days = float(value)
        return f"{days:,.2f} days" if days >= 1 else f"{days * 24:,.2f} hours"
    if isinstance(value, str) and "T" in value:
        return value.replace("T", " ").replace("Z", " UTC").replace(":00.000", "").replace(":00 UTC", " UTC")
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) >= 100 else f"{value:,.4f}".rstrip("0").rstrip(".")
    return str(value)
