"""SweepService: plan a sweep, run its batches on an executor (local pool or Dask), stream, persist, summarise."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.backtests.worker import prepare_failure
from app.clock import Clock
from app.errors import DataError, UserError
from app.jobs import BackgroundJob
from app.market_data.ports import CandleRepository
from app.sweeps.plan import ParamRange, RunSweep, SweepPlan, make_plan
from app.sweeps.ports import CANCELLED, DONE, FAILED, NewSweep, StoredPoint, StoredSweep, SweepRepository, SweepSummary
from domain.market import CandleSeries
from domain.strategy import parse_strategy
from domain.sweep import FAILED as POINT_FAILED
from domain.sweep import (
    INVALID,
    OK,
    PointResult,
    Robustness,
    Scored,
    SweepJob,
    SweepTask,
    WalkForwardReport,
    batches,
    full_stats,
    rank,
    robustness,
    score,
    walk_forward_report,
)


class SweepExecutor(Protocol):
    """Where batches run. `start` shares the data with every worker once (and may raise UserError, e.g. an
    unreachable cluster, before anything runs); `results` streams each finished batch; `close` frees it all."""

    name: str
    workers: int

    def describe(self) -> str: ...

    def start(self, series: CandleSeries, job: SweepJob) -> None: ...

    def results(self, tasks: Sequence[SweepTask], cancel: threading.Event) -> Iterator[list[PointResult]]: ...

    def close(self) -> None: ...


ExecutorFactory = Callable[[str | None, int | None], SweepExecutor]


@dataclass(frozen=True, slots=True)
class SweepProgressed:
    """Points finished so far (`new` just arrived), and the best so far (None until one meets the constraints)."""

    sweep_id: int
    done: int
    total: int
    new: tuple[StoredPoint, ...] = ()
    best: Scored | None = None
    stage: str = "running"


@dataclass(frozen=True, slots=True, eq=False)
class SweepOutcome:
    """A finished (or cancelled) sweep: every point ranked best first, the best one's robustness, walk-forward."""

    sweep_id: int
    status: str
    plan: SweepPlan
    ranked: list[Scored]
    robustness: Robustness | None
    walk_forward: WalkForwardReport | None
    executor: str
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    bar_ts: Any = None  # the bar times of the data (walk-forward windows are bar ranges into it)

    @property
    def best(self) -> Scored | None:
        top = self.ranked[0] if self.ranked else None
        return top if top is not None and top.passed and not math.isnan(top.score) else None


Listener = Callable[[SweepProgressed], None]


class SweepJobHandle(BackgroundJob[SweepOutcome]):
    """A sweep running on a background thread: `cancel()` stops it (finished results stay), `wait()` returns."""

    def __init__(self, target: Callable[[threading.Event], SweepOutcome]) -> None:
        super().__init__(target, "sweep")


class SweepService:
    """Plans, runs, persists and reopens parameter sweeps and walk-forward validations."""

    def __init__(self, candles: CandleRepository, sweeps: SweepRepository, clock: Clock,
                 executors: ExecutorFactory) -> None:
        self.candles = candles
        self.sweeps = sweeps
        self.clock = clock
        self.executors = executors

    def load(self, cmd: RunSweep) -> CandleSeries:
        """The stored candles of `cmd.key` in its range, checked."""
        if cmd.key is None:
            raise UserError("no data: give a stored series (exchange, market, timeframe) or a CSV file")
        series = self.candles.read(cmd.key, cmd.start_ms, cmd.end_ms)
        if len(series) == 0:
            raise DataError(f"no candles stored for {cmd.key} in the requested range; collect or import them first")
        return series

    def plan(self, cmd: RunSweep, series: CandleSeries) -> SweepPlan:
        """Check the sweep against the data (nothing runs yet)."""
        plan = make_plan(cmd, len(series))
        failure = prepare_failure(parse_strategy(cmd.definition), series)
        if failure:
            raise DataError(failure)
        return plan

    def start(self, cmd: RunSweep, series: CandleSeries | None = None, cluster: str | None = None,
              workers: int | None = None, on_progress: Listener | None = None, source: str = "") -> SweepJobHandle:
        """Check the request and start the executor here (UserError at once, e.g. an unreachable cluster), then
        run the sweep on a background thread."""
        data = series if series is not None else self.load(cmd)
        plan = self.plan(cmd, data)
        executor = self.open_executor(plan, data, cluster, workers)
        return SweepJobHandle(lambda cancel: self.execute(plan, data, executor, cancel, on_progress, source))

    def run(self, cmd: RunSweep, series: CandleSeries | None = None, cluster: str | None = None,
            workers: int | None = None, on_progress: Listener | None = None, source: str = "",
            cancel: threading.Event | None = None) -> SweepOutcome:
        """Plan and run in the calling thread."""
        data = series if series is not None else self.load(cmd)
        plan = self.plan(cmd, data)
        executor = self.open_executor(plan, data, cluster, workers)
        return self.execute(plan, data, executor, cancel or threading.Event(), on_progress, source)

    def open_executor(self, plan: SweepPlan, series: CandleSeries, cluster: str | None,
                      workers: int | None) -> SweepExecutor:
        """An executor with the data shared and the workers warm; nothing is stored if this fails."""
        executor = self.executors(cluster, workers)
        try:
            executor.start(series, plan.job)
        except BaseException:
            executor.close()
            raise
        return executor

    def execute(self, plan: SweepPlan, series: CandleSeries, executor: SweepExecutor, cancel: threading.Event,
                on_progress: Listener | None = None, source: str = "") -> SweepOutcome:
        """Run a checked plan on a started executor (closed at the end): stream, persist, summarise."""
        emit = on_progress or (lambda e: None)
        t0 = time.perf_counter()
        try:
            sweep_id = self.sweeps.create(self._record(plan, series, executor.describe(), source))
            emit(SweepProgressed(sweep_id, 0, plan.total, stage="started"))
            try:
                points = self._stream(plan, series, executor, cancel, sweep_id, emit)
            except BaseException as err:  # recorded, then raised: the finished points are already stored
                self.sweeps.finish(sweep_id, FAILED, self.clock.now_ms(), {"error": str(err) or type(err).__name__})
                raise
        finally:
            executor.close()
        return self._finish(plan, series, sweep_id, points, cancel.is_set(), executor.describe(),
                            time.perf_counter() - t0, emit)

    def _tasks(self, plan: SweepPlan, workers: int) -> list[SweepTask]:
        spans = [(w.index, w.is_start, w.is_end) for w in plan.windows] or [(0, 0, plan.n_bars)]
        return [SweepTask(plan.job, chunk, lo, hi, index) for index, lo, hi in spans
                for chunk in batches(plan.coords, workers, per_worker=max(1, 4 // len(spans)))]

    def _stream(self, plan: SweepPlan, series: CandleSeries, executor: SweepExecutor, cancel: threading.Event,
                sweep_id: int, emit: Listener) -> list[PointResult]:
        done: list[PointResult] = []
        top: Scored | None = None
        for batch in executor.results(self._tasks(plan, executor.workers), cancel):
            stored = [self._stored(plan, r) for r in batch]
            self.sweeps.add_points(sweep_id, stored)
            done.extend(batch)
            for s in stored:
                cand = Scored(s.result, s.objective, s.passed)
                if s.passed and (top is None or plan.objective.better(cand.score, top.score)):
                    top = cand
            emit(SweepProgressed(sweep_id, len(done), plan.total, tuple(stored), top))
        return done

    @staticmethod
    def _stored(plan: SweepPlan, result: PointResult) -> StoredPoint:
        s = score(result, plan.objective, plan.rules)
        return StoredPoint(result, s.score, s.passed)

    def _record(self, plan: SweepPlan, series: CandleSeries, executor: str, source: str) -> NewSweep:
        cmd = plan.cmd
        return NewSweep(
            created_ms=self.clock.now_ms(), strategy_id=cmd.strategy_id,
            strategy_name=str(cmd.definition.get("name", "")), definition=cmd.definition,
            source=source or (str(cmd.key) if cmd.key else "data in memory"), timeframe=series.timeframe.code,
            start_ms=int(series.ts[0]), end_ms=int(series.ts[-1]) + series.timeframe.ms,
            config=plan.config(executor), settings=cmd.settings.to_dict(), total=plan.total,
        )

    def _finish(self, plan: SweepPlan, series: CandleSeries, sweep_id: int, points: list[PointResult],
                cancelled: bool, executor: str, seconds: float, emit: Listener) -> SweepOutcome:
        from app.sweeps.summary import outcome_json

        ranked = rank([p for p in points if not plan.windows], plan.objective, plan.rules)
        top = ranked[0] if ranked and ranked[0].passed and not math.isnan(ranked[0].score) else None
        if top is not None:  # the points ran without Alpha/Beta unless ranked on them; the best one shows all
            top = ranked[0] = Scored(full_stats(plan.job, top.result, series), top.score, top.passed)
        rob = robustness(top, points, plan.objective, plan.rules) if top is not None else None
        report = None
        if plan.windows and not cancelled:
            report = walk_forward_report(plan.job, series, plan.windows, points, plan.objective, plan.rules)
        counts = {k: sum(p.status == k for p in points) for k in (OK, INVALID, POINT_FAILED)}
        status = CANCELLED if cancelled else DONE
        outcome = SweepOutcome(sweep_id, status, plan, ranked, rob, report, executor, seconds, counts, series.ts)
        stitched = report.stitched if report is not None else None
        self.sweeps.finish(sweep_id, status, self.clock.now_ms(), outcome_json(outcome),
                           stitched.ts if stitched else None, stitched.equity if stitched else None)
        emit(SweepProgressed(sweep_id, len(points), plan.total, best=top, stage=status))
        return outcome

    def list(self, limit: int = 100, offset: int = 0) -> list[SweepSummary]:
        return self.sweeps.list(limit, offset)

    def get(self, sweep_id: int) -> StoredSweep:
        stored = self.sweeps.get(sweep_id)
        if stored is None:
            raise UserError(f"no sweep with id {sweep_id}")
        return stored

    def delete(self, sweep_id: int) -> bool:
        return self.sweeps.delete(sweep_id)


def point_definition_for(plan: SweepPlan, params: Sequence[float]) -> dict[str, Any]:
    """The definition at the given axis values (e.g. a heatmap cell the user double-clicked)."""
    from domain.sweep import set_values

    values = {p: v for axis, v in zip(plan.job.space.axes, params, strict=True) for p in axis.paths}
    return set_values(plan.job.definition, values)


__all__ = ["ParamRange", "RunSweep", "SweepExecutor", "SweepJobHandle", "SweepOutcome", "SweepProgressed",
           "SweepService", "point_definition_for"]
