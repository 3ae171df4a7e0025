"""Backtest statistics as traders read them: one formatting for the GUI's tables and the CLI's text."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from domain.backtest.stats import DURATION_KEYS, RATIO_LIMIT, meaningless_ratio

DASH = "—"
VOLATILITY_KEY = "Volatility (Ann.) [%]"
# Ratios that are not backtesting.py's but are printed the same way (sweep objectives, walk-forward efficiency).
# (spelled out, not imported from domain.sweep.metrics: that would load the whole sweep package for a table;
# a test keeps the two in step)
EXTRA_RATIO_KEYS = ("Sharpe (bars)", "Sortino (bars)", "Return/Drawdown", "walk-forward efficiency")
_UNDERFLOW_PCT = 1e-6  # an annualised volatility this small on a run that moved is a rounding artefact


def underflowed(key: str, value: Any, stats: Mapping[str, Any] | None = None) -> bool:
    """Whether `value` is an artefact of backtesting.py's formulas rather than a figure: a ratio over a ~zero
    volatility (Sharpe -8e8), or an annualised volatility of ~0 on a run whose equity moved (the geometric
    annualisation underflows on a -95 % run). Without `stats` a ~zero volatility counts as underflowed.
    The GUI shows "—" for these with the raw value in a tooltip."""
    if meaningless_ratio(key, value):
        return True
    if key == VOLATILITY_KEY and isinstance(value, float) and math.isfinite(value) and abs(value) < _UNDERFLOW_PCT:
        ret = stats.get("Return [%]") if stats is not None else None
        return not (isinstance(ret, int | float) and ret == 0)
    return False


def ratio_text(value: Any) -> str:
    """A ratio (objective, efficiency) as text: "—" when missing, not finite, or absurdly large."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return DASH
    x = float(value)
    if not math.isfinite(x) or abs(x) > RATIO_LIMIT:
        return DASH
    return _number(x)


def stat_text(key: str, value: Any, stats: Mapping[str, Any] | None = None) -> str:
    """A stored (JSON-shaped: times ISO 8601, durations in days) statistic as text; `stats` (the run's other
    statistics) lets a genuine zero volatility (a run that never moved) show as 0."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)) or underflowed(key, value, stats):
        return DASH
    if key in EXTRA_RATIO_KEYS:
        return ratio_text(value)
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
        return _number(value)
    return str(value)


def _number(value: float) -> str:
    return f"{value:,.2f}" if abs(value) >= 100 else f"{value:,.4f}".rstrip("0").rstrip(".")


def money_label(key: str, quote: str | None) -> str:
    """A statistic's name with backtesting.py's "[$]" in the quote currency: "Equity Final [KRW]". The stored
    and JSON statistics keep "[$]"; this is for what a trader reads."""
    return key.replace("[$]", f"[{quote}]") if quote else key


def market_money_label(key: str, exchange: str | None, symbol: str | None) -> str:
    """`money_label` for a market: the quote currency from the costs model (unchanged when unknown, e.g. CSV)."""
    from domain.costs import priced_as, quote_currency

    quote = quote_currency(priced_as(exchange), symbol) if exchange and symbol else None
    return money_label(key, quote)
