"""Time axis for an index-based chart: ticks fall on round local-time boundaries of the bars' open times."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np
import pyqtgraph as pg

MIN = 60_000
HOUR = 60 * MIN
DAY = 24 * HOUR
# Tick steps in ms; 30 and 365 days stand for calendar months and years.
STEPS = [MIN, 2 * MIN, 5 * MIN, 10 * MIN, 15 * MIN, 30 * MIN, HOUR, 2 * HOUR, 3 * HOUR, 4 * HOUR, 6 * HOUR,
         12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 91 * DAY, 182 * DAY, 365 * DAY]
TICK_PX = 110  # aim for one label per this many pixels


def local(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000).astimezone()


def tick_times(t0: int, t1: int, step: int) -> list[int]:
    """Round local-time boundaries of `step` in [t0, t1], as ms UTC."""
    start = local(t0)
    out: list[int] = []
    if step >= 30 * DAY:
        months = {30 * DAY: 1, 91 * DAY: 3, 182 * DAY: 6, 365 * DAY: 12}[step]
        y, m = start.year, (start.month - 1) // months * months + 1
        while True:
            t = int(datetime(y, m, 1).astimezone().timestamp() * 1000)
            if t > t1:
                return out
            if t >= t0:
                out.append(t)
            m += months
            y, m = (y + 1, m - 12) if m > 12 else (y, m)
    if step >= DAY:
        day = datetime(start.year, start.month, start.day)
        if step == 7 * DAY or step == 14 * DAY:
            day -= timedelta(days=day.weekday())  # weeks start on Monday
        t = int(day.astimezone().timestamp() * 1000)
        while t <= t1 and len(out) < 400:
            if t >= t0:
                out.append(t)
            day += timedelta(days=step // DAY)
            t = int(day.astimezone().timestamp() * 1000)
        return out
    offset = int(start.utcoffset().total_seconds() * 1000) if start.utcoffset() else 0
    first = (t0 + offset) // step * step - offset
    return [t for t in range(first, t1 + 1, step) if t >= t0][:400]


def label(ms: int, step: int) -> str:
    d = local(ms)
    if step >= 365 * DAY or (step >= 30 * DAY and d.month == 1):
        return d.strftime("%Y")
    if step >= 30 * DAY:
        return d.strftime("%b")
    if step >= DAY:
        return d.strftime("%b %d") if d.day != 1 or d.month != 1 else d.strftime("%Y")
    if d.hour == 0 and d.minute == 0:
        return d.strftime("%b %d")
    return d.strftime("%H:%M")


class TimeAxis(pg.AxisItem):
    """Bottom axis whose x values are bar indices; `times()` gives the bars' open times (ms UTC)."""

    def __init__(self, times: Callable[[], np.ndarray], bar_ms: Callable[[], int]) -> None:
        super().__init__(orientation="bottom")
        self._times = times
        self._bar_ms = bar_ms
        self._labels: dict[float, str] = {}

    def ms_at(self, x: float) -> int:
        """Open time at index position x, extrapolated by the bar length beyond the data."""
        ts = self._times()
        if not len(ts):
            return 0
        i = int(round(x))
        if i < 0:
            return int(ts[0]) + i * self._bar_ms()
        if i >= len(ts):
            return int(ts[-1]) + (i - len(ts) + 1) * self._bar_ms()
        return int(ts[i])

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:  # noqa: N803
        ts = self._times()
        self._labels = {}
        if len(ts) < 2 or maxVal <= minVal:
            return []
        t0, t1 = self.ms_at(max(minVal, 0)), self.ms_at(min(maxVal, len(ts) - 1))
        want = max(2, int(size / TICK_PX))
        step = next((s for s in STEPS if (t1 - t0) / s <= want), STEPS[-1])
        step = max(step, self._bar_ms())
        times = np.asarray(tick_times(t0, t1, step), dtype=np.int64)
        idx = np.unique(np.searchsorted(ts, times))
        idx = idx[(idx >= minVal) & (idx <= maxVal) & (idx < len(ts))]
        for i in idx:
            self._labels[float(i)] = label(int(ts[i]), step)
        return [(float(max(1, (maxVal - minVal) / want)), [float(i) for i in idx])]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [self._labels.get(float(v), "") for v in values]
