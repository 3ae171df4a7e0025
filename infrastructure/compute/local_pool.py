"""The `local` sweep executor: a process pool whose workers map the candles from one shared-memory block."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.shared_memory import SharedMemory
from typing import Any

import numpy as np

from app.errors import UserError
from domain import jit
from domain.market import CandleSeries, Timeframe
from domain.sweep import IndicatorCache, PointResult, SweepJob, SweepTask, run_task
from infrastructure.compute.fork_safety import fork_is_safe

FIELDS = ("open", "high", "low", "close", "volume")
_HEADER = 8  # one int64: the cancel flag the workers read between points

# Worker-process state, set once by the pool initializer.
_SHM: SharedMemory | None = None
_SERIES: CandleSeries | None = None
_FLAG: np.ndarray | None = None
_CACHE = IndicatorCache()


def share(series: CandleSeries) -> SharedMemory:
    """Copy the columns into a new shared-memory block (cancel flag first, then ts and the five prices)."""
    n = len(series)
    shm = SharedMemory(create=True, size=_HEADER + 48 * max(n, 1))
    flag, ts, cols = _views(shm, n)
    flag[0] = 0
    ts[:] = series.ts
    for name, col in zip(FIELDS, cols, strict=True):
        col[:] = series.column(name)
    return shm


def _views(shm: SharedMemory, n: int) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    buf = shm.buf
    flag = np.ndarray((1,), dtype=np.int64, buffer=buf, offset=0)
    ts = np.ndarray((n,), dtype=np.int64, buffer=buf, offset=_HEADER)
    cols = [np.ndarray((n,), dtype=np.float64, buffer=buf, offset=_HEADER + 8 * n * (i + 1)) for i in range(5)]
    return flag, ts, cols


def attach(name: str, n: int, timeframe: str) -> tuple[SharedMemory, CandleSeries, np.ndarray]:
    """Map a block made by `share` as a CandleSeries (no copy) and its cancel flag."""
    shm = SharedMemory(name=name, create=False)
    flag, ts, cols = _views(shm, n)
    return shm, CandleSeries(Timeframe.parse(timeframe), ts, *cols), flag


def warm(job: SweepJob, series: CandleSeries) -> None:
    """Load the compiled (numba, cached on disk) kernels a sweep's points use once, on a short slice of the data
    (a task as the workers run them, so exactly their kernels)."""
    coords = tuple(0 for _ in job.space.axes)
    run_task(SweepTask(job, (coords,), 0, min(len(series), 2_000)), series)


def _init(name: str, n: int, timeframe: str, job: SweepJob) -> None:
    global _SHM, _SERIES, _FLAG
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's to handle: it cancels and keeps results
    _SHM, _SERIES, _FLAG = attach(name, n, timeframe)
    warm(job, _SERIES)


def _stopped() -> bool:
    return _FLAG is not None and bool(_FLAG[0])


def _run(task: SweepTask) -> list[PointResult]:
    assert _SERIES is not None, "worker not initialised"
    return run_task(task, _SERIES, _stopped, _CACHE)


def _safe_start_method() -> str:
    """fork only where it is safe: Linux, no thread but fork-safe ones (the database's checkpointer), and no
    Qt (whose own threads Python cannot see)."""
    qt = any(name.startswith("PyQt") for name in sys.modules)
    return "fork" if sys.platform.startswith("linux") and fork_is_safe() and not qt else "spawn"


def _result(fut: Future[list[PointResult]]) -> list[PointResult]:
    try:
        return fut.result()
    except BrokenProcessPool as err:
        raise UserError(f"a sweep worker process stopped unexpectedly ({err}); the finished results are kept") \
            from None


class LocalPoolExecutor:
    """Runs sweep batches on a spawned process pool on this machine (workers = cores by default)."""

    name = "local"

    def __init__(self, workers: int | None = None, start_method: str | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.start_method = start_method
        self._pool: ProcessPoolExecutor | None = None
        self._shm: SharedMemory | None = None
        self._flag: np.ndarray | None = None

    def describe(self) -> str:
        return f"local process pool, {self.workers} worker{'s' if self.workers != 1 else ''}"

    def start(self, series: CandleSeries, job: SweepJob) -> None:
        """Share the data and start the workers, each with its kernels loaded.

        A single-threaded caller on Linux (the CLI) forks: it warms the kernels once and every worker inherits
        them, so starting costs milliseconds. Anywhere else (the GUI has Qt and event-loop threads) workers are
        spawned and each warms itself.
        """
        method = self.start_method or _safe_start_method()
        if method == "fork":
            warm(job, series)
        else:
            jit.export_cache_dir()  # a spawned worker caches its kernels where this process does
        self._shm = share(series)
        self._flag = _views(self._shm, len(series))[0]
        self._pool = ProcessPoolExecutor(self.workers, mp_context=mp.get_context(method), initializer=_init,
                                         initargs=(self._shm.name, len(series), series.timeframe.code, job))
        if method == "fork":  # fork every worker now, while this process still has a single thread
            self._pool.submit(_stopped).result()

    def results(self, tasks: Sequence[SweepTask], cancel: threading.Event) -> Iterator[list[PointResult]]:
        """Each task's results as it finishes; on cancel, running batches stop after their current point."""
        assert self._pool is not None, "start() first"
        pending: set[Future[list[PointResult]]] = {self._pool.submit(_run, t) for t in tasks}
        signalled = False
        while pending:
            done, pending = wait(pending, timeout=0.05, return_when=FIRST_COMPLETED)
            if cancel.is_set() and not signalled:
                signalled = True
                self._signal_stop()
                for fut in pending:
                    fut.cancel()
                pending = {f for f in pending if not f.cancelled()}
            for fut in done:
                if not fut.cancelled():
                    yield _result(fut)

    def _signal_stop(self) -> None:
        if self._flag is not None:
            self._flag[0] = 1

    def close(self) -> None:
        if self._pool is not None:
            self._signal_stop()
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._flag = None
        if self._shm is not None:
            self._shm.close()
            self._shm.unlink()
            self._shm = None

    def __enter__(self) -> LocalPoolExecutor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
