"""Running sweep points: apply parameter values to a definition, validate, backtest on a bar range."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from domain.backtest import BacktestSettings
from domain.backtest.engine import simulate
from domain.backtest.run import NotEnoughData, backtest_signals, futures_stats, indicator_warmup, json_value
from domain.market import CandleSeries
from domain.strategy import Signals, Strategy, StrategyInvalid, evaluate, parse_strategy
from domain.sweep.cache import IndicatorCache
from domain.sweep.fast_stats import DataFacts, sweep_stats
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
    # Alpha and Beta cost a logarithm of every bar's equity change; a sweep computes them for its points only
    # when it ranks or filters on them (the best point gets them afterwards, see `full_stats`)
    market_stats: bool = True


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
              cache: MutableMapping[Any, Any] | None = None, facts: DataFacts | None = None) -> PointResult:
    """Backtest one point (prices already checked once for the whole data); an invalid definition or too little
    data is a result, not an exception. `cache` keeps indicator outputs between points on the same `series`.

    Given the `facts` of `series`, the statistics come from `sweep_stats` (the same values, Alpha and Beta only
    if `job.market_stats`); otherwise from the ordinary backtest, as a single run computes them.
    """
    params = job.space.params(coords)
    try:  # parsing validates: one pass over the definition, every problem listed when it is invalid
        strategy = parse_strategy(point_definition(job, coords))
    except StrategyInvalid as err:
        return PointResult(coords, params, INVALID, message=str(err), window=window)
    try:
        signals = evaluate(strategy, series, cache)
        if facts is None:
            result = backtest_signals(series, signals, strategy.direction, strategy.risk, job.settings,
                                      indicator_warmup(strategy))
            equity, stats = result.equity, result.stats
        else:
            equity, stats = _swept(job, strategy, signals, series, facts)
    except (NotEnoughData, ValueError) as err:
        return PointResult(coords, params, FAILED, message=str(err), window=window)
    stats = with_bar_metrics(series.ts, equity, {k: json_value(v) for k, v in stats.items()})
    return PointResult(coords, params, OK, stats, window=window)


def _swept(job: SweepJob, strategy: Strategy, signals: Signals, series: CandleSeries,
           facts: DataFacts) -> tuple[npt.NDArray[np.float64], dict[str, Any]]:
    """`backtest_signals` with the statistics from `sweep_stats` (same checks, same simulation, same values)."""
    warmup = indicator_warmup(strategy)
    if warmup + 1 >= len(series):
        raise NotEnoughData(f"{len(series)} bars are too few: the indicators need {warmup} bars of warm-up, "
                            f"so at least {warmup + 2} bars are required")
    sim = simulate(series, signals, strategy.direction, strategy.risk, job.settings, start=warmup + 1)
    stats = sweep_stats(facts, sim.equity, sim.trades, warmup, job.market_stats)
    if job.settings.futures:
        stats.update(futures_stats(sim.funding, sim.trades))
    return sim.equity, stats


def full_stats(job: SweepJob, result: PointResult, series: CandleSeries) -> PointResult:
    """`result` with every statistic (Alpha and Beta too), as a single backtest of the point reports them."""
    if job.market_stats or result.status != OK:
        return result
    full = run_point(job, result.coords, series, result.window)
    return full if full.status == OK else result


def run_task(task: SweepTask, series: CandleSeries, should_stop: Callable[[], bool] = lambda: False,
             cache: IndicatorCache | None = None) -> list[PointResult]:
    """Backtest each point of a task on its bar range; stops between points once `should_stop()` is true."""
    part = series.take(slice(task.lo, task.hi)) if (task.lo, task.hi) != (0, len(series)) else series
    data = (task.job.data_key, task.lo, task.hi)
    shelf = cache.for_data(data) if cache is not None else None
    facts = None if len(part) == 0 else cache.facts(data, part) if cache is not None else DataFacts.of(part)
    out = []
    for coords in task.coords:
        if should_stop():
            break
        out.append(run_point(task.job, coords, part, task.window, shelf, facts))
    return out


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
