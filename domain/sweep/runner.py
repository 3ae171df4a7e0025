"""Running sweep points: apply parameter values to a definition, validate, backtest on a bar range."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from domain.backtest import BacktestSettings
from domain.backtest.run import NotEnoughData, backtest_signals, indicator_warmup, json_value
from domain.market import CandleSeries
from domain.strategy import StrategyInvalid, evaluate, parse_strategy
from domain.sweep.metrics import with_bar_metrics
from domain.sweep.paths import set_values
from domain.sweep.space import Coords, SweepSpace

OK, INVALID, FAILED = "ok", "invalid", "failed"


@dataclass(frozen=True, slots=True)
class PointResult:
    """One point's outcome. `stats` are JSON-ready (durations in days); empty unless status is "ok"."""

    coords: Coords
    params: tuple[float, ...]
    status: str
    stats: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    window: int = 0


@dataclass(frozen=True, slots=True)
class SweepJob:
    """What every task of one sweep shares: the base definition, the space and the account settings."""

    definition: dict[str, Any]
    space: SweepSpace
    settings: BacktestSettings
    data_key: str = ""  # names the data the workers hold, so indicator caches never mix two data sets


@dataclass(frozen=True, slots=True)
class SweepTask:
    """A batch of points to backtest on bars [lo, hi) of the shared series (one walk-forward window or all)."""

    job: SweepJob
    coords: tuple[Coords, ...]
    lo: int
    hi: int
    window: int = 0


def point_definition(job: SweepJob, coords: Coords) -> dict[str, Any]:
    """The definition with the point's values applied (not yet validated)."""
    return set_values(job.definition, job.space.values(coords))


def run_point(job: SweepJob, coords: Coords, series: CandleSeries, window: int = 0,
              cache: MutableMapping[Any, Any] | None = None) -> PointResult:
    """Backtest one point (prices already checked once for the whole data); an invalid definition or too little
    data is a result, not an exception. `cache` keeps indicator outputs between points on the same `series`."""
    params = job.space.params(coords)
    try:  # parsing validates: one pass over the definition, every problem listed when it is invalid
        strategy = parse_strategy(point_definition(job, coords))
    except StrategyInvalid as err:
        return PointResult(coords, params, INVALID, message=str(err), window=window)
    try:
        signals = evaluate(strategy, series, cache)
        result = backtest_signals(series, signals, strategy.direction, strategy.risk, job.settings,
                                  indicator_warmup(strategy))
    except (NotEnoughData, ValueError) as err:
        return PointResult(coords, params, FAILED, message=str(err), window=window)
    stats = with_bar_metrics(series.ts, result.equity, {k: json_value(v) for k, v in result.stats.items()})
    return PointResult(coords, params, OK, stats, window=window)


def run_task(task: SweepTask, series: CandleSeries, should_stop: Callable[[], bool] = lambda: False,
             cache: IndicatorCache | None = None) -> list[PointResult]:
    """Backtest each point of a task on its bar range; stops between points once `should_stop()` is true."""
    part = series.take(slice(task.lo, task.hi)) if (task.lo, task.hi) != (0, len(series)) else series
    shelf = cache.for_data((task.job.data_key, task.lo, task.hi)) if cache is not None else None
    out = []
    for coords in task.coords:
        if should_stop():
            break
        out.append(run_point(task.job, coords, part, task.window, shelf))
    return out


class IndicatorCache:
    """A worker's indicator outputs kept across sweep points, least recently used dropped past a byte budget.

    In a fast × slow grid each distinct indicator is then computed once per worker instead of once per point.
    """

    def __init__(self, budget_bytes: int = 256 * 2**20) -> None:
        self.budget = budget_bytes
        self.bytes = 0
        self._items: OrderedDict[Any, dict[str, np.ndarray]] = OrderedDict()

    def for_data(self, data: Any) -> MutableMapping[Any, Any]:
        """The mapping `evaluate` uses for one data set (a key naming the series and bar range)."""
        return _Shelf(self, data)

    def get(self, key: Any) -> dict[str, np.ndarray] | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: Any, value: dict[str, np.ndarray]) -> None:
        size = sum(a.nbytes for a in value.values())
        if size > self.budget:
            return
        old = self._items.pop(key, None)
        if old is not None:
            self.bytes -= sum(a.nbytes for a in old.values())
        self._items[key] = value
        self.bytes += size
        while self.bytes > self.budget:
            _, dropped = self._items.popitem(last=False)
            self.bytes -= sum(a.nbytes for a in dropped.values())

    def __len__(self) -> int:
        return len(self._items)


class _Shelf(MutableMapping[Any, Any]):
    def __init__(self, cache: IndicatorCache, data: Any) -> None:
        self.cache, self.data = cache, data

    def __getitem__(self, key: Any) -> Any:
        value = self.cache.get((self.data, key))
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: Any, value: Any) -> None:
        self.cache.put((self.data, key), value)

    def __delitem__(self, key: Any) -> None:
        raise KeyError(key)  # entries only leave by the LRU budget

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __len__(self) -> int:
        return 0


def batches(coords: list[Coords], workers: int, per_worker: int = 4, largest: int = 32) -> list[tuple[Coords, ...]]:
    """Split points into batches that shrink towards the end (guided scheduling): each takes about half a
    worker's share of what is left, at most `largest` (and about 1/`per_worker` of a worker's share) points, and
    the last ones single points, so no worker sits idle while another finishes a big last batch."""
    workers = max(1, workers)
    cap = max(1, min(largest, -(-len(coords) // (workers * per_worker))))
    out, i = [], 0
    while i < len(coords):
        size = max(1, min(cap, (len(coords) - i) // (2 * workers)))
        out.append(tuple(coords[i:i + size]))
        i += size
    return out
