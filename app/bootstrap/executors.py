"""Choosing a sweep executor: the local process pool by default, Dask when a cluster address is given."""

from __future__ import annotations

from app.sweeps.service import SweepExecutor
from infrastructure.compute.local_pool import LocalPoolExecutor


def make_executor(cluster: str | None = None, workers: int | None = None) -> SweepExecutor:
    """`cluster` None → local pool of `workers` (default: cores); "local" → a 2-worker Dask LocalCluster;
    otherwise a Dask scheduler address such as tcp://host:8786."""
    if not cluster:
        return LocalPoolExecutor(workers)
    from infrastructure.compute.dask_pool import DaskExecutor

    return DaskExecutor(cluster, local_workers=workers or 2)
