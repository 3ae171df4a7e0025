"""The `dask` sweep executor: batches on a Dask distributed cluster, the candles scattered to every worker once."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from app.errors import UserError
from domain.market import CandleSeries
from domain.sweep import IndicatorCache, PointResult, SweepJob, SweepTask, run_task

CONNECT_TIMEOUT_S = 5
_CACHE = IndicatorCache()  # per worker process: indicator outputs reused across the points it runs


class ClusterUnavailable(UserError):
    """The scheduler could not be reached (or a local cluster could not start); nothing was run."""


def _warm(series: CandleSeries, job: SweepJob) -> bool:
    from infrastructure.compute.local_pool import warm

    warm(job, series)
    return True


def _run(series: CandleSeries, task: SweepTask, stop_name: str) -> list[PointResult]:
    from distributed import Event

    stop = Event(stop_name)
    last = [0.0, False]

    def stopped() -> bool:  # ask the scheduler at most every 0.2 s: a round trip per point would add up
        now = time.monotonic()
        if now - last[0] >= 0.2:
            last[0], last[1] = now, stop.is_set()
        return bool(last[1])

    return run_task(task, series, stopped, _CACHE)


def _result(fut: Any) -> list[PointResult]:
    from distributed import KilledWorker

    try:
        return fut.result()  # type: ignore[no-any-return]
    except KilledWorker as err:
        raise ClusterUnavailable(f"a Dask worker died running a sweep batch ({err}); the finished results are "
                                 "kept") from None
    except OSError as err:
        raise ClusterUnavailable(f"lost the Dask cluster at the scheduler: {err}; the finished results are kept") \
            from None


class DaskExecutor:
    """`address` is a scheduler address (tcp://host:8786) or "local" for a 2-worker LocalCluster."""

    name = "dask"

    def __init__(self, address: str, local_workers: int = 2) -> None:
        self.address = address
        self.local_workers = local_workers
        self.workers = 0
        self._cluster: Any = None
        self._client: Any = None
        self._data: Any = None
        self._stop: Any = None

    def describe(self) -> str:
        where = "a local Dask cluster" if self.address == "local" else f"Dask cluster {self.address}"
        return f"{where}, {self.workers} worker{'s' if self.workers != 1 else ''}"

    def connect(self) -> None:
        """Reach the scheduler (or start the LocalCluster); ClusterUnavailable if that fails."""
        from distributed import Client, LocalCluster

        try:
            if self.address == "local":
                self._cluster = LocalCluster(n_workers=self.local_workers, threads_per_worker=1, processes=True,
                                             dashboard_address=None, silence_logs=40)
                self._client = Client(self._cluster)
            else:
                self._client = Client(self.address, timeout=f"{CONNECT_TIMEOUT_S}s")
        except Exception as err:  # the network boundary: any failure to connect means nothing can run there
            self.close()
            why = str(err) or f"{type(err).__name__} (is the host name right?)"
            raise ClusterUnavailable(f"cannot reach the Dask cluster at {self.address}: {why}; "
                                     "check the address and that the scheduler is running") from None
        workers = self._client.scheduler_info().get("workers", {})
        self.workers = len(workers)
        if not self.workers:
            self.close()
            raise ClusterUnavailable(f"the Dask cluster at {self.address} has no workers")

    def start(self, series: CandleSeries, job: SweepJob) -> None:
        """Connect if needed, scatter the candles to every worker once, and warm each worker's kernels."""
        from distributed import Event

        if self._client is None:
            self.connect()
        client = self._client
        self._data = client.scatter(series, broadcast=True)
        self._stop = Event(f"quantdesk-sweep-stop-{uuid.uuid4().hex}", client=client)
        self._stop.clear()
        addresses = list(client.scheduler_info()["workers"])
        warmers = [client.submit(_warm, self._data, job, workers=[a], allow_other_workers=False, pure=False)
                   for a in addresses]
        client.gather(warmers)

    def results(self, tasks: Sequence[SweepTask], cancel: threading.Event) -> Iterator[list[PointResult]]:
        """Each batch's results as it finishes (as_completed); on cancel the queued batches are cancelled and the
        running ones stop after their current point."""
        from distributed import as_completed

        client = self._client
        futures = [client.submit(_run, self._data, t, self._stop.name, pure=False) for t in tasks]
        pending = set(futures)
        stream = as_completed(futures)
        signalled = False
        while pending:
            finished = stream.next_batch(block=False) if not stream.is_empty() else []
            if not finished:
                time.sleep(0.02)
            for fut in finished:
                pending.discard(fut)
                if not fut.cancelled():
                    yield _result(fut)
            if cancel.is_set() and not signalled:
                signalled = True
                self._stop.set()  # running batches return what they finished at their next point
                running = self._running_keys()
                queued = [f for f in pending if not f.done() and f.key not in running]
                client.cancel(queued)
                pending.difference_update(queued)

    def _running_keys(self) -> set[Any]:
        """Keys of the batches the workers are processing now (empty if the scheduler cannot say)."""
        try:
            return {key for keys in self._client.processing().values() for key in keys}
        except Exception:  # cancelling everything is the safe fallback
            return set()

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.close()
            finally:
                self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
        self._data = self._stop = None
