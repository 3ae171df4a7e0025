"""BacktestService: load candles, run a backtest in a worker process with progress and cancel, persist the run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.backtests.overrides import overridden_values
from app.backtests.ports import (
    BacktestRepository,
    NewRun,
    RunSummary,
    StoredRun,
    WorkerConnection,
    WorkerPool,
    WorkerProcess,
)
from app.backtests.worker import STAGE_FRACTIONS, check_series, prepare_failure, simulate_checked
from app.clock import Clock
from app.errors import DataError, UserError
from app.jobs import BackgroundJob
from app.market_data.ports import CandleRepository
from domain.backtest import BacktestSettings
from domain.backtest.run import BacktestResult, json_value
from domain.market import CandleSeries, SeriesKey
from domain.strategy import Strategy, StrategyInvalid, parse_strategy, strategy_to_dict


class BacktestCancelled(UserError):
    """The run was cancelled before it finished; nothing was stored."""


@dataclass(frozen=True, slots=True)
class RunBacktest:
    """Backtest `strategy` on stored candles of `key` in [start_ms, end_ms)."""

    strategy: Strategy
    key: SeriesKey
    start_ms: int | None = None
    end_ms: int | None = None
    settings: BacktestSettings = field(default_factory=BacktestSettings)
    strategy_id: int | None = None


@dataclass(frozen=True, slots=True)
class BacktestProgressed:
    """Progress of one run: `stage` in loading/starting/signals/simulating/statistics/saving/done/cancelled/failed."""

    stage: str
    fraction: float
    message: str = ""


@dataclass(frozen=True, slots=True, eq=False)
class BacktestFinished:
    """A stored run and its full result."""

    run_id: int
    result: BacktestResult


Listener = Callable[[BacktestProgressed], None]


class BacktestJob(BackgroundJob[BacktestFinished]):
    """A run in a worker process. `wait()` returns the finished run; `cancel()` stops it and stores nothing."""

    def __init__(self, target: Callable[[BacktestJob], BacktestFinished]) -> None:
        self.process: WorkerProcess | None = None  # the worker process, once started (cancel terminates it)
        super().__init__(lambda _cancel: target(self), "backtest")

    def cancel(self) -> None:
        super().cancel()
        proc = self.process
        if proc is not None and proc.is_alive():
            proc.terminate()


class BacktestService:
    """Runs backtests (in-process or in a spawned worker) and keeps their results."""

    def __init__(self, candles: CandleRepository, runs: BacktestRepository, clock: Clock, pool: WorkerPool) -> None:
        self.candles = candles
        self.runs = runs
        self.clock = clock
        self.pool = pool  # warm processes running app.backtests.worker.serve

    def close(self) -> None:
        """Stop the idle worker process."""
        self.pool.close()

    def load(self, cmd: RunBacktest) -> CandleSeries:
        """The candles to test, checked (DataError/UserError on anything unusable)."""
        problems = cmd.settings.problems()
        if problems:
            raise UserError("; ".join(problems))
        series = self.candles.read(cmd.key, cmd.start_ms, cmd.end_ms)
        if len(series) == 0:
            raise DataError(f"no candles stored for {cmd.key} in the requested range; collect or import them first")
        failure = prepare_failure(cmd.strategy, series)
        if failure:
            raise DataError(f"{cmd.key}: {failure}")
        return series

    def run_here(self, cmd: RunBacktest, on_progress: Listener | None = None) -> BacktestFinished:
        """Run in this process (the CLI: nothing to keep responsive) and store the run."""
        from domain.strategy import evaluate

        emit = on_progress or (lambda e: None)
        emit(BacktestProgressed("loading", 0.0))
        series = self.load(cmd)  # prices and length checked here, once
        emit(BacktestProgressed("simulating", 0.3))
        result = simulate_checked(cmd.strategy, series, evaluate(cmd.strategy, series), cmd.settings,
                                  lambda stage: emit(BacktestProgressed(stage, STAGE_FRACTIONS[stage])))
        return self._save(cmd, series, result, emit)

    def start(self, cmd: RunBacktest, on_progress: Listener | None = None) -> BacktestJob:
        """Run in a (warm, spawned) worker process; `on_progress` is called on a background thread."""
        emit = on_progress or (lambda e: None)
        return BacktestJob(lambda job: self._run_in_worker(job, cmd, emit))

    def run(self, cmd: RunBacktest, on_progress: Listener | None = None) -> BacktestFinished:
        """start() and wait for it."""
        return self.start(cmd, on_progress).wait()

    def _run_in_worker(self, job: BacktestJob, cmd: RunBacktest, emit: Listener) -> BacktestFinished:
        emit(BacktestProgressed("loading", 0.0))
        series = self.load(cmd)
        if job.cancelled:
            raise self._cancelled(emit)
        emit(BacktestProgressed("starting", 0.05))
        worker = self.pool.acquire()
        job.process = worker.process
        try:
            if job.cancelled:
                raise self._cancelled(emit)
            worker.conn.send((cmd.strategy, series, cmd.settings))
            result = self._receive(job, worker.process, worker.conn, emit)
        except BaseException:
            worker.kill()
            raise
        self.pool.release(worker)
        return self._save(cmd, series, result, emit)

    def _receive(self, job: BacktestJob, process: WorkerProcess, receiver: WorkerConnection,
                 emit: Listener) -> BacktestResult:
        while True:
            if job.cancelled:
                raise self._cancelled(emit)
            if not receiver.poll(0.05):
                if not process.is_alive() and not receiver.poll(0):
                    raise self._failed(emit, f"the backtest worker stopped (exit code {process.exitcode})")
                continue
            try:
                kind, value = receiver.recv()
            except (EOFError, OSError):  # a cancelled (terminated) worker may reset the pipe instead of closing it
                if job.cancelled:
                    raise self._cancelled(emit) from None
                raise self._failed(emit, "the backtest worker stopped unexpectedly") from None
            if kind == "progress":
                emit(BacktestProgressed(value[0], value[1]))
            elif kind == "result":
                return value  # type: ignore[no-any-return]
            else:
                raise self._failed(emit, str(value))

    @staticmethod
    def _cancelled(emit: Listener) -> BacktestCancelled:
        emit(BacktestProgressed("cancelled", 1.0))
        return BacktestCancelled("backtest cancelled; nothing was stored")

    @staticmethod
    def _failed(emit: Listener, message: str) -> UserError:
        emit(BacktestProgressed("failed", 1.0, message))
        return UserError(message)

    def _save(self, cmd: RunBacktest, series: CandleSeries, result: BacktestResult,
              emit: Listener) -> BacktestFinished:
        emit(BacktestProgressed("saving", 0.9))
        stats = {k: json_value(v) for k, v in result.stats.items()}
        tf = cmd.key.timeframe
        definition = strategy_to_dict(cmd.strategy)
        overrides = self.overrides(cmd.strategy_id, definition)
        run = NewRun(
            created_ms=self.clock.now_ms(), strategy_id=cmd.strategy_id, strategy_name=cmd.strategy.name,
            definition=definition, exchange=cmd.key.exchange, symbol=cmd.key.symbol,
            timeframe=tf.code, start_ms=int(series.ts[0]), end_ms=int(series.ts[-1]) + tf.ms,
            settings=cmd.settings.to_dict(), stats=stats, trades=result.trades, equity_ts=series.ts,
            equity=result.equity, headline=overrides == {}, overrides=overrides or {},
        )
        run_id = self.runs.add(run)  # with the strategy's last-backtest figures, in one transaction
        emit(BacktestProgressed("done", 1.0))
        return BacktestFinished(run_id, result)

    def overrides(self, strategy_id: int | None, definition: dict[str, Any]) -> dict[str, Any] | None:
        """What `definition` changes in the saved strategy `strategy_id` ({} when it is the strategy as saved);
        None when there is no saved strategy to compare with (a file, or a deleted strategy)."""
        if strategy_id is None:
            return None
        saved = self.runs.saved_definition(strategy_id)
        if saved is None:
            return None
        return overridden_values(_normal_form(saved), definition)

    def list(self, limit: int = 100, offset: int = 0, strategy_id: int | None = None) -> list[RunSummary]:
        return self.runs.list(limit, offset, strategy_id)

    def get(self, run_id: int) -> StoredRun:
        stored = self.runs.get(run_id)
        if stored is None:
            raise UserError(f"no backtest run with id {run_id}")
        return stored

    def delete(self, run_id: int) -> bool:
        return self.runs.delete(run_id)


def _normal_form(definition: dict[str, Any]) -> dict[str, Any]:
    """The codec's normal form, so defaults and key order never count as changes (as stored if it no longer
    validates: every difference then shows)."""
    try:
        return strategy_to_dict(parse_strategy(definition))
    except StrategyInvalid:
        return definition


__all__ = ["BacktestCancelled", "BacktestFinished", "BacktestJob", "BacktestProgressed", "BacktestService",
           "RunBacktest", "check_series"]
