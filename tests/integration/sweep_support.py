"""Shared pieces for sweep integration tests: a small series, an SMA-cross definition, an in-thread executor."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from app.bootstrap.executors import make_executor
from app.sweeps.service import SweepService
from domain.market import CandleSeries, SeriesKey, Timeframe
from domain.sweep import PointResult, SweepJob, SweepTask, run_task
from infrastructure.db.candles import SqlCandleRepository
from infrastructure.db.engine import create_sqlite_engine
from infrastructure.db.migrate import upgrade_to_head
from infrastructure.db.sweeps import SqlSweepRepository

KEY = SeriesKey("demo", "KRW-BTC", Timeframe.H1)
FAST = ("entry_long.all[0].left.params.period", "entry_short.all[0].left.params.period")
SLOW = ("entry_long.all[0].right.params.period", "entry_short.all[0].right.params.period")


def walk(n: int = 1500, seed: int = 3, vol: float = 0.01) -> CandleSeries:
    rng = np.random.default_rng(seed)
    close = 50 * np.exp(np.cumsum(rng.normal(0, vol, n)))
    open_ = np.r_[close[0], close[:-1]] * np.exp(rng.normal(0, vol / 3, n))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, vol, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, vol, n))
    ts = 1_704_067_200_000 + np.arange(n, dtype=np.int64) * 3_600_000
    return CandleSeries.from_columns(Timeframe.H1, ts, open_, high, low, close, np.ones(n))


def sma_cross(fast: int = 10, slow: int = 20) -> dict[str, Any]:
    def leg(op: str) -> dict[str, Any]:
        return {"all": [{"left": {"var": "sma", "params": {"period": fast}}, "op": op,
                         "right": {"var": "sma", "params": {"period": slow}}}]}

    return {"schema": 1, "name": "SMA cross", "direction": "long_short", "entry_long": leg("crosses_above"),
            "entry_short": leg("crosses_below"), "exit_long": None, "exit_short": None,
            "risk": {"position_size_pct": 100, "stop_loss_pct": None, "take_profit_pct": None,
                     "trailing_stop_pct": None}}


class FakeClock:
    def __init__(self) -> None:
        self.t = 1_700_000_000_000

    def now_ms(self) -> int:
        self.t += 1000
        return self.t


class InlineExecutor:
    """Runs batches in the calling thread and records each task's bar range (a fake for the executor port)."""

    name = "inline"
    workers = 2

    def __init__(self) -> None:
        self.series: CandleSeries | None = None
        self.tasks: list[SweepTask] = []
        self.closed = False

    def describe(self) -> str:
        return "inline"

    def start(self, series: CandleSeries, job: SweepJob) -> None:
        self.series = series

    def results(self, tasks: Sequence[SweepTask], cancel: threading.Event) -> Iterator[list[PointResult]]:
        assert self.series is not None
        for task in tasks:
            if cancel.is_set():
                return
            self.tasks.append(task)
            yield run_task(task, self.series, cancel.is_set)

    def close(self) -> None:
        self.closed = True


def make_service(db_path: Path, executor: Any = None) -> SweepService:
    engine = create_sqlite_engine(db_path)
    upgrade_to_head(engine)
    candles = SqlCandleRepository(engine)
    candles.upsert(KEY, walk())
    factory = (lambda cluster, workers: executor) if executor is not None else make_executor
    return SweepService(candles, SqlSweepRepository(engine), FakeClock(), factory)
