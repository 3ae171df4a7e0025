"""The Dask executor: a 2-worker LocalCluster gives the local pool's results; an unreachable cluster starts nothing."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
from sweep_support import FAST, KEY, SLOW, make_service, sma_cross, walk

from app.errors import UserError
from app.sweeps.plan import ParamRange, RunSweep
from app.sweeps.service import SweepProgressed
from domain.backtest import BacktestSettings

pytestmark = pytest.mark.slow


def cmd(**kw: object) -> RunSweep:
    base = dict(definition=sma_cross(), params=(ParamRange(FAST, "4:12:4"), ParamRange(SLOW, "20:40:10")), key=KEY,
                objective="Sharpe Ratio", settings=BacktestSettings(commission=0.001))
    base.update(kw)
    return RunSweep(**base)  # type: ignore[arg-type]


def test_a_local_dask_cluster_gives_identical_results_to_the_local_pool(db_path: Path) -> None:
    service = make_service(db_path)
    on_dask = service.run(cmd(), cluster="local")
    on_pool = service.run(cmd(), workers=2)
    assert "Dask" in on_dask.executor and "2 workers" in on_dask.executor
    key = lambda o: sorted((s.result.params, tuple(sorted(s.result.stats.items()))) for s in o.ranked)  # noqa: E731
    assert key(on_dask) == key(on_pool) and len(on_dask.ranked) == 9
    assert service.get(on_dask.sweep_id).summary.done == 9


def test_walk_forward_on_dask_matches_the_local_pool(db_path: Path) -> None:
    service = make_service(db_path)
    a = service.run(cmd(walk_forward=2), cluster="local")
    b = service.run(cmd(walk_forward=2), workers=2)
    assert a.walk_forward is not None and b.walk_forward is not None
    assert [w.params for w in a.walk_forward.windows] == [w.params for w in b.walk_forward.windows]
    assert a.walk_forward.stitched.stats == b.walk_forward.stitched.stats  # type: ignore[union-attr]


def test_an_unreachable_cluster_is_a_clear_error_and_nothing_is_stored(db_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # a port nobody listens on once closed
    service = make_service(db_path)
    with pytest.raises(UserError, match=f"cannot reach the Dask cluster at tcp://127.0.0.1:{port}"):
        service.run(cmd(), cluster=f"tcp://127.0.0.1:{port}")
    assert service.list() == []


def test_cancel_on_dask_stops_the_sweep_and_keeps_finished_results(db_path: Path) -> None:
    service = make_service(db_path)
    cancel = threading.Event()

    def on_progress(e: SweepProgressed) -> None:
        if e.done:
            cancel.set()

    many = cmd(params=(ParamRange(FAST, "2:40:1"), ParamRange(SLOW, "41:80:1")), method="random", samples=600,
               key=None)
    out = service.run(many, series=walk(60_000), cluster="local", on_progress=on_progress, cancel=cancel)
    assert out.status == "cancelled" and 0 < len(out.ranked) < 600
    assert len(service.get(out.sweep_id).points) == len(out.ranked)
