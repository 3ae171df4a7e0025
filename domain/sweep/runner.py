"""Running sweep points: apply parameter values to a definition, validate, backtest on a bar range."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from domain.backtest import BacktestSettings
from domain.backtest.run import NotEnoughData, json_value, run_backtest
from domain.market import CandleSeries
from domain.strategy import parse_strategy, validate_strategy
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


def run_point(job: SweepJob, coords: Coords, series: CandleSeries, window: int = 0) -> PointResult:
    """Backtest one point; an invalid definition or too little data is a result, not an exception."""
    params = job.space.params(coords)
    definition = point_definition(job, coords)
    issues = validate_strategy(definition)
    if issues:
        return PointResult(coords, params, INVALID, message="; ".join(str(i) for i in issues), window=window)
    try:
        result = run_backtest(parse_strategy(definition), series, job.settings)
    except (NotEnoughData, ValueError) as err:
        return PointResult(coords, params, FAILED, message=str(err), window=window)
    stats = {k: json_value(v) for k, v in result.stats.items()}
    return PointResult(coords, params, OK, stats, window=window)


def run_task(task: SweepTask, series: CandleSeries,
             should_stop: Callable[[], bool] = lambda: False) -> list[PointResult]:
    """Backtest each point of a task on its bar range; stops between points once `should_stop()` is true."""
    part = series.take(slice(task.lo, task.hi)) if (task.lo, task.hi) != (0, len(series)) else series
    out = []
    for coords in task.coords:
        if should_stop():
            break
        out.append(run_point(task.job, coords, part, task.window))
    return out


def batches(coords: list[Coords], workers: int, per_worker: int = 8, largest: int = 32) -> list[tuple[Coords, ...]]:
    """Split points into batches: about `per_worker` batches per worker (for streaming and balance), at most
    `largest` points each so that progress and cancel stay prompt."""
    if not coords:
        return []
    size = max(1, min(largest, -(-len(coords) // max(1, workers * per_worker))))
    return [tuple(coords[i:i + size]) for i in range(0, len(coords), size)]
