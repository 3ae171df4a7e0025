"""Sweep benchmark: a 100-point SMA fast × slow grid on a year of 1-minute bars (525,600), end to end.

Measured in one run on the same machine and data: sequential in-process (reference), the local process pool with
1 and 2 workers, a 2-worker Dask LocalCluster, and backtesting.py's Backtest.optimize. Each pool and cluster
figure is a whole SweepService run: starting the workers (pool) or connecting to the running cluster (Dask),
sharing the data, warming the kernels, every backtest, and storing every result in SQLite; best of --repeat
rounds, each round running every executor once (interleaved, so load from other work hits them alike).
backtesting.py needs many seconds per combination on this data, so it runs a subset of the grid and its time for
the whole grid is extrapolated (printed as such); `--bt-combos 100` runs it all.

Run: python bench/sweep.py [--bars N] [--bt-combos K] [--skip-backtesting-py]; the 1,000-point whole-process sweep
is bench/sweep_thousand.py.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.sweeps.plan import ParamRange, RunSweep  # noqa: E402
from app.sweeps.service import SweepOutcome, SweepService  # noqa: E402
from domain.backtest import BacktestSettings  # noqa: E402
from domain.market import CandleSeries, Timeframe  # noqa: E402
from domain.sweep import run_point  # noqa: E402

FASTS, SLOWS = "5:50:5", "60:150:10"  # 10 × 10 = 100 combinations
STOP, COMMISSION, CASH = 2.0, 0.001, 1_000_000.0
SETTINGS = BacktestSettings(cash=CASH, commission=COMMISSION, lot_size=1)
FAST = ("entry_long.all[0].left.params.period", "entry_short.all[0].left.params.period")
SLOW = ("entry_long.all[0].right.params.period", "entry_short.all[0].right.params.period")


def year(n: int) -> CandleSeries:
    rng = np.random.default_rng(42)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.0008, n)))
    open_ = np.r_[close[0], close[:-1]] * np.exp(rng.normal(0, 0.0002, n))
    high = np.maximum(open_, close) * (1 + rng.random(n) * 0.001)
    low = np.minimum(open_, close) * (1 - rng.random(n) * 0.001)
    ts = 1_704_067_200_000 + np.arange(n, dtype=np.int64) * 60_000
    return CandleSeries.from_columns(Timeframe.M1, ts, open_, high, low, close, rng.random(n) * 5)


def definition() -> dict:
    def leg(op: str) -> dict:
        return {"all": [{"left": {"var": "sma", "params": {"period": 10}}, "op": op,
                         "right": {"var": "sma", "params": {"period": 30}}}]}

    return {"schema": 1, "name": "SMA cross", "direction": "long_short", "entry_long": leg("crosses_above"),
            "entry_short": leg("crosses_below"), "exit_long": None, "exit_short": None,
            "risk": {"position_size_pct": 100, "stop_loss_pct": STOP}}


def command() -> RunSweep:
    return RunSweep(definition(), (ParamRange(FAST, FASTS), ParamRange(SLOW, SLOWS)), objective="Sharpe Ratio",
                    settings=SETTINGS)


def service(db: Path) -> SweepService:
    from app.bootstrap.executors import make_executor
    from infrastructure.clock import SystemClock
    from infrastructure.db.candles import SqlCandleRepository
    from infrastructure.db.engine import create_sqlite_engine
    from infrastructure.db.migrate import upgrade_to_head
    from infrastructure.db.sweeps import SqlSweepRepository

    engine = create_sqlite_engine(db)
    upgrade_to_head(engine)
    return SweepService(SqlCandleRepository(engine), SqlSweepRepository(engine), SystemClock(), make_executor)


def sequential(series: CandleSeries) -> tuple[float, list]:
    plan = service_plan(series)
    run_point(plan.job, plan.coords[0], series.take(slice(0, 5000)))  # warm the kernels
    t = time.perf_counter()
    results = [run_point(plan.job, c, series) for c in plan.coords]
    return time.perf_counter() - t, results


def service_plan(series: CandleSeries):  # type: ignore[no-untyped-def]
    from app.sweeps.plan import make_plan

    return make_plan(command(), len(series))


def swept(svc: SweepService, series: CandleSeries, cluster: str | None, workers: int | None) -> SweepOutcome:
    """One whole SweepService run; its `seconds` are the wall time of all of it (executor start included)."""
    t = time.perf_counter()
    outcome = svc.run(command(), series=series, cluster=cluster, workers=workers, source="bench")
    return dataclasses.replace(outcome, seconds=time.perf_counter() - t)


def worker_cpu(fn: Callable[[], SweepOutcome]) -> float:
    """CPU seconds the pool's worker processes spent on one run (counted once they are reaped): unlike wall
    time, this does not depend on what else the machine runs."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    fn()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


CLUSTER = """
import sys
from distributed import LocalCluster
cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40)
print(cluster.scheduler_address, flush=True)
sys.stdin.read()  # runs until the benchmark closes our stdin
cluster.close()
"""


def dask_cluster() -> tuple[float, Any, str]:
    """A 2-worker LocalCluster (one thread each, separate processes) in its own process, as a real cluster would
    be (so this process keeps a single thread between Dask runs and its local pool may fork); the time it took
    to start, the process and the scheduler address."""
    import subprocess

    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", CLUSTER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    address = proc.stdout.readline().strip()
    return time.perf_counter() - t, proc, address


def interleaved(repeat: int, runs: dict[str, Callable[[], SweepOutcome]]) -> dict[str, SweepOutcome]:
    """Best of `repeat` rounds, each round running every executor once, so load changes on this shared
    machine hit them alike."""
    best: dict[str, SweepOutcome] = {}
    for _ in range(repeat):
        for name, fn in runs.items():
            out = fn()
            if name not in best or out.seconds < best[name].seconds:
                best[name] = out
    return best


def _sma(values: np.ndarray, n: int) -> np.ndarray:
    import pandas as pd

    return pd.Series(values).rolling(n).mean().to_numpy()


class Allowed:
    """backtesting.py constraint: only the grid points in the measured subset (picklable for its pool)."""

    def __init__(self, pairs: set[tuple[int, int]]) -> None:
        self.pairs = pairs

    def __call__(self, p: Any) -> bool:
        return (p.fast, p.slow) in self.pairs


def _sma_cross_class() -> type:
    from backtesting import Strategy
    from backtesting.lib import crossover

    class SmaCross(Strategy):  # type: ignore[misc]
        fast = 10
        slow = 30

        def init(self) -> None:
            self.a = self.I(_sma, self.data.Close, self.fast)
            self.b = self.I(_sma, self.data.Close, self.slow)

        def next(self) -> None:
            price = self.data.Close[-1]
            if crossover(self.a, self.b):
                self.position.close()
                self.buy(sl=price * (1 - STOP / 100))
            elif crossover(self.b, self.a):
                self.position.close()
                self.sell(sl=price * (1 + STOP / 100))

    SmaCross.__qualname__ = SmaCross.__name__ = "SmaCross"
    return SmaCross


try:  # backtesting.py's optimize pickles the strategy class, so it must live at module level
    SmaCross = _sma_cross_class()
except ImportError:  # pragma: no cover - the comparison is skipped without it
    SmaCross = None


def backtesting_py(series: CandleSeries, combos: int) -> tuple[float, int]:
    """backtesting.py's optimize over the first `combos` grid points (its own process pool)."""
    import pandas as pd
    from backtesting import Backtest

    df = pd.DataFrame({"Open": series.open, "High": series.high, "Low": series.low, "Close": series.close,
                       "Volume": series.volume}, index=pd.DatetimeIndex(series.ts.astype("datetime64[ms]")))
    fasts = list(range(5, 55, 5))
    slows = list(range(60, 160, 10))
    grid = [(f, s) for f in fasts for s in slows][:combos]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt = Backtest(df, SmaCross, cash=CASH, commission=COMMISSION)
        t = time.perf_counter()
        bt.optimize(fast=sorted({f for f, _ in grid}), slow=sorted({s for _, s in grid}), maximize="Sharpe Ratio",
                    constraint=Allowed(set(grid)))
        return time.perf_counter() - t, len(grid)


def _spin(_: int = 0) -> float:
    t = time.perf_counter()
    x = 0
    for i in range(6_000_000):
        x += i
    return time.perf_counter() - t


def machine_parallelism() -> float:
    """How much faster two CPU-bound processes finish two jobs than one process finishes one each, back to back
    (2.0 on two idle cores; less when other work shares the machine): the ceiling for any 2-worker speed-up."""
    import multiprocessing as mp

    with mp.get_context("fork").Pool(2) as pool:
        pool.map(_spin, range(2))  # start both
        one = min(pool.apply(_spin) for _ in range(2))
        t = time.perf_counter()
        pool.map(_spin, range(2), chunksize=1)
        two = time.perf_counter() - t
    return 2 * one / two


def same(a: SweepOutcome, b: list | SweepOutcome) -> bool:
    left = sorted((s.result.params, s.result.stats["Sharpe Ratio"]) for s in a.ranked)
    rows = b.ranked if isinstance(b, SweepOutcome) else None
    right = sorted((s.result.params, s.result.stats["Sharpe Ratio"]) for s in rows) if rows is not None else \
        sorted((r.params, r.stats["Sharpe Ratio"]) for r in b)
    return left == right


T0 = time.perf_counter()


def stamp() -> str:
    return f"[{time.perf_counter() - T0:5.0f} s]"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bars", type=int, default=525_600)
    parser.add_argument("--bt-combos", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3, help="runs per executor; the fastest is reported")
    parser.add_argument("--skip-backtesting-py", action="store_true")
    args = parser.parse_args()
    series = year(args.bars)
    print(f"{args.bars:,} 1-minute bars; SMA fast {FASTS} × slow {SLOWS} = 100 combinations, long_short, "
          f"{STOP:g}% stop, {COMMISSION:.1%} commission")
    print(f"machine check: two CPU-bound processes run {machine_parallelism():.2f}x as fast as one "
          "(2.00 on two idle cores)")
    seq, ref = sequential(series)
    print(f"sequential, in-process (warm reference):  {seq:6.2f} s  ({seq * 10:.0f} ms per backtest)")
    with tempfile.TemporaryDirectory() as tmp:
        svc = service(Path(tmp) / "bench.db")
        started, cluster, address = dask_cluster()
        try:
            best = interleaved(args.repeat, {"one": lambda: swept(svc, series, None, 1),
                                             "two": lambda: swept(svc, series, None, 2),
                                             "dask": lambda: swept(svc, series, address, None)})
        finally:
            assert cluster.stdin is not None
            cluster.stdin.close()
            cluster.wait(30)
        one, two, dask = best["one"], best["two"], best["dask"]
        t1, t2, td = one.seconds, two.seconds, dask.seconds
        print(f"local pool, 1 worker:                    {t1:6.2f} s")
        print(f"local pool, 2 workers:                   {t2:6.2f} s  -> speed-up {t1 / t2:.2f}x over 1 worker")
        print(f"Dask LocalCluster, 2 workers:            {td:6.2f} s  -> {td / t2:.2f}x the local pool's time "
              f"(+ {started:.2f} s once to start the cluster)")
        c1, c2 = (worker_cpu(lambda n=n: swept(svc, series, None, n)) for n in (1, 2))  # type: ignore[misc]
        print(f"  pool workers' CPU time per run: 1 worker {c1:.2f} s, 2 workers {c2:.2f} s in total "
              f"({(c2 / c1 - 1) * 100:+.0f}% work to split the run in two)")
        print(f"identical results: pool 1 = sequential {same(one, ref)}, pool 2 = pool 1 {same(two, one)}, "
              f"Dask = pool 1 {same(dask, one)}")
        print(f"machine check again: {machine_parallelism():.2f}x")
        top = two.best
        if top is not None:
            print(f"best: fast {top.result.params[0]:g}, slow {top.result.params[1]:g}, Sharpe {top.score:.3f}")
    print(f"{stamp()} QuantDesk part done")
    if not args.skip_backtesting_py:
        bt, k = backtesting_py(series, args.bt_combos)
        whole = bt / k * 100
        note = "measured" if k >= 100 else f"extrapolated from {k} combinations run by optimize ({bt:.1f} s)"
        print(f"backtesting.py Backtest.optimize, 100 combinations: {whole:8.1f} s ({note})"
              f"  -> QuantDesk 2 workers {whole / t2:,.0f}x faster")
    print(f"{stamp()} done")


if __name__ == "__main__":
    main()
