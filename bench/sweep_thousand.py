"""A 1,000-point sweep (SMA fast × slow) on a year of 1-minute bars as a user runs it: one whole
`quantdesk optimize` process on 2 workers, then the same points one by one in this process (the reference)
to show the results are identical (every point's objective, and every statistic of the best point).
The box may be shared: the process's CPU time (its own and its workers') is printed beside the wall time.

Run: python bench/sweep_thousand.py [--bars N] [--check K]   (K points re-run one by one; 0 = all 1,000)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.sweep import FAST, SLOW, definition, machine_parallelism, year  # noqa: E402

FASTS, SLOWS = "2:41", "50:962:38"  # 40 × 25 = 1,000 points


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bars", type=int, default=525_600)
    parser.add_argument("--check", type=int, default=30, help="points re-run one by one (0 = all)")
    args = parser.parse_args()
    import pyarrow as pa
    import pyarrow.feather as feather

    series = year(args.bars)
    print(f"machine check: two CPU-bound processes run {machine_parallelism():.2f}x as fast as one "
          "(2.00 on two idle cores)")
    with tempfile.TemporaryDirectory() as tmp:
        data, strategy = Path(tmp) / "year.feather", Path(tmp) / "sma.json"
        feather.write_feather(pa.table({"time": series.ts, "open": series.open, "high": series.high,
                                        "low": series.low, "close": series.close, "volume": series.volume}), data)
        strategy.write_text(json.dumps(definition()))
        cmd = [sys.executable, "-m", "app", "--db", str(Path(tmp) / "q.db"), "optimize", "--strategy", str(strategy),
               "--csv", str(data), "--param", f"{','.join(FAST)}={FASTS}", "--param", f"{','.join(SLOW)}={SLOWS}",
               "--objective", "Return [%]", "--min-trades", "1", "--workers", "2", "--commission", "0.001",
               "--cash", "1000000", "--lot-size", "1", "--top", "1000", "--json"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"optimize failed: {proc.stderr.strip()}")
    out = json.loads(proc.stdout)
    print(f"quantdesk optimize, {out['points']} points, {args.bars:,} bars, 2 workers: whole process {wall:.2f} s "
          f"(sweep itself {out['seconds']:.2f} s; target <= 10 s); CPU {after.ru_utime - before.ru_utime:.1f} s user "
          f"+ {after.ru_stime - before.ru_stime:.1f} s system over the process and its workers; load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    check(series, out["top"], args.check)
    check_best(series, out["best"])


def plan_of(series: object) -> object:
    from app.sweeps.plan import ParamRange, RunSweep, make_plan
    from domain.backtest import BacktestSettings

    cmd = RunSweep(definition(), (ParamRange(FAST, FASTS), ParamRange(SLOW, SLOWS)), objective="Return [%]",
                   settings=BacktestSettings(cash=1_000_000.0, commission=0.001, lot_size=1), min_trades=1)
    return make_plan(cmd, len(series))  # type: ignore[arg-type]


def check_best(series: object, best: dict) -> None:
    """Backtest the best point alone and compare every statistic the sweep reports for it."""
    from domain.sweep import run_point

    plan = plan_of(series)
    coords = next(c for c in plan.coords if plan.job.space.params(c) == tuple(best["params"].values()))
    alone = run_point(plan.job, coords, series).stats  # type: ignore[arg-type]
    same = [k for k, v in alone.items() if k in best["stats"] and best["stats"][k] == v]  # NaN is null in both
    print(f"best point {best['params']}: {len(same)}/{len(alone)} statistics identical to a lone backtest"
          + ("" if len(same) == len(alone) else f"; different: {sorted(set(alone) - set(same))}"))


def check(series: object, points: list[dict], k: int) -> None:
    """Re-run points one by one in this process and compare the objective with the sweep's."""
    from domain.sweep import run_point

    plan = plan_of(series)
    by_params = {tuple(p["params"].values()): p for p in points}
    coords = plan.coords if k == 0 else random.Random(0).sample(list(plan.coords), min(k, len(plan.coords)))
    t = time.perf_counter()
    same = 0
    for c in coords:
        r = run_point(plan.job, c, series)  # type: ignore[arg-type]
        swept = by_params[tuple(r.params)]
        mine = r.stats.get("Return [%]")
        same += swept["objective"] == mine or (swept["objective"] is None and mine is None)
    print(f"one by one: {len(coords)} points in {time.perf_counter() - t:.1f} s; identical objective in "
          f"{same}/{len(coords)}")


if __name__ == "__main__":
    main()
