"""Calendar helpers for statistics: bar spacing, annualisation periods and period-end bars."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from domain.backtest.curve import day_ends

I64 = npt.NDArray[np.int64]
DAY_MS = 86_400_000
# Units pandas reports as a Timedelta's resolution, largest first.
_UNITS_MS = (DAY_MS, 3_600_000, 60_000, 1_000, 1)


def median_spacing_ms(ts: I64) -> float:
    """Median bar spacing over the last 100 bars (backtesting.py's `_data_period`)."""
    d = np.diff(ts[-100:])
    return float(np.median(d)) if len(d) else float(DAY_MS)


def bar_resolution_ms(ts: I64) -> int:
    """The finest calendar unit in the bar spacing; durations are rounded up to it."""
    period = median_spacing_ms(ts)
    for unit in _UNITS_MS:
        if period % unit == 0:
            return unit
    return 1


def annual_periods(ts: I64) -> tuple[str, int, I64]:
    """(resampling frequency, periods per year, index of each period's last bar), chosen from the bar
    spacing as backtesting.py does: weekly, monthly and yearly bars keep their period; anything finer is
    resampled to days, counted 365 a year when weekend bars are common (crypto) and 252 otherwise."""
    freq_days = int(median_spacing_ms(ts) // DAY_MS)
    fixed = {7: ("W", 52), 31: ("ME", 12), 365: ("YE", 1)}.get(freq_days)
    if fixed is not None:
        return fixed[0], fixed[1], period_last_index(ts, fixed[0])
    ends, weekend_bars = day_ends(ts)
    have_weekends = weekend_bars / max(len(ts), 1) > 2 / 7 * 0.6
    return "D", 365 if have_weekends else 252, ends


def period_keys(ts: I64, freq: str) -> I64:
    """Calendar period number of each bar: day, Monday-to-Sunday week, month or year."""
    days = ts // DAY_MS
    if freq == "D":
        return days
    if freq == "W":
        return (days + 3) // 7
    months = ts.astype("datetime64[ms]").astype("datetime64[M]").astype(np.int64)
    return months if freq == "ME" else months // 12


def _ends(keys: I64) -> I64:
    if len(keys) == 0:
        return np.empty(0, np.int64)
    out: I64 = np.r_[np.flatnonzero(np.diff(keys) != 0), len(keys) - 1].astype(np.int64)
    return out


def period_last_index(ts: I64, freq: str) -> I64:
    """Index of the last bar in each calendar period (resample(freq).last())."""
    return _ends(period_keys(ts, freq))
