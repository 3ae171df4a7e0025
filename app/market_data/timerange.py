"""The bar times the candle store accepts (2000-01-01 .. now + 1 day), and a time formatter that never fails."""

from __future__ import annotations

import numpy as np

from app.errors import DataError
from app.timeparse import format_ms

EARLIEST_MS = 946_684_800_000  # 2000-01-01T00:00:00Z: older than any crypto exchange's first candle
AHEAD_MS = 86_400_000  # a bar may open at most one day after now (clock skew, time zones), never later
MICROS_LIKELY = 10**14  # year 5138 in ms; 2001 in µs


def date_of(ms: int) -> str | None:
    """ISO 8601 UTC, or None where the number is no calendar date (beyond year 9999, say)."""
    try:
        return format_ms(int(ms))
    except (ValueError, OverflowError, OSError):
        return None


def describe_ms(ms: int) -> str:
    """ISO 8601 UTC where the time has one, else the raw number (a database may hold any integer)."""
    return date_of(ms) or f"{int(ms)}ms?"


def check_bar_times(what: str, ts: np.ndarray, now_ms: int) -> None:
    """DataError naming the first bar whose open time is outside EARLIEST_MS .. now + AHEAD_MS."""
    if len(ts) == 0:
        return
    latest = (now_ms + AHEAD_MS) // 1000 * 1000
    bad = np.flatnonzero((ts < EARLIEST_MS) | (ts > latest))
    if bad.size == 0:
        return
    i = int(bad[0])
    t = int(ts[i])
    hint = "; microseconds or nanoseconds read as milliseconds?" if t > MICROS_LIKELY else ""
    when = date_of(t)
    raise DataError(f"{what}: bar {i + 1} opens at {t}" + (f" ({when})" if when else "") + ", outside the accepted "
                    f"2000-01-01 .. {describe_ms(latest)}{hint}; nothing was stored")
