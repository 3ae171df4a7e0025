"""A 1,000-point sweep (SMA fast × slow) on a year of 1-minute bars as a user runs it: one whole
`quantdesk optimize` process on 2 workers, then the same points one by one in this process (the reference)
to show the results are identical.

Run: python bench/sweep_thousand.py [--bars N] [--check K]   (K points re-run one by one; 0 = all 1,000)
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.sweep import FAST, SLOW, definition, year  # noqa: E402

FASTS, SLOWS = "2:41", "50:962:38"  # 40 × 25 = 1,000 points


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bars", type=int, default=525_600)
    parser.add_argument("--check", type=int, default=30, help="points re-run one by one (0 = all)")
    args = parser.parse_args()
    import pyarrow as pa
    import pyarrow.feather as feather

    series = year(args.bars)
    with tempfile.TemporaryDirectory() as tmp:
        data, strategy = Path(tmp) / "year.feather", Path(tmp) / "sma.json"
        feather.write_feather(pa.table({"time": series.ts, "open": series.open, "high": series.high,
                                        "low": series.low, "close": series.close, "volume": series.volume}), data)
        strategy.write_text(json.dumps(definition()))
        cmd = [sys.executable, "-m", "app", "--db", str(Path(tmp) / "q.db"), "optimize", "--strategy", str(strategy),
               "--csv", str(data), "--param", f"{','.join(FAST)}={FASTS}", "--param", f"{','.join(SLOW)}={SLOWS}",
               "--objective", "Return [%]", "--min-trades", "1", "--workers", "2", "--commission", "0.001",
               "--cash", "1000000", "--lot-size", "1", "--top", "1000", "--json"]
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"optimize failed: {proc.stderr.strip()}")
    out = json.loads(proc.stdout)
    print(f"quantdesk optimize, {out['points']} points, {args.bars:,} bars, 2 workers: whole process {wall:.2f} s "
          f"(sweep itself {out['seconds']:.2f} s; target <= 10 s)")
    check(series, out["top"], args.check)


def check(series: object, points: list[dict], k: int) -> None:
    """Re-run points one by one in this process and compare the objective with the sweep's."""
    from app.sweeps.plan import ParamRange, RunSweep, make_plan
    from domain.backtest import BacktestSettings
    from domain.sweep import run_point

    cmd = RunSweep(definition(), (ParamRange(FAST, FASTS), ParamRange(SLOW, SLOWS)), objective="Return [%]",
                   settings=BacktestSettings(cash=1_000_000.0, commission=0.001, lot_size=1), min_trades=1)
    plan = make_plan(cmd, len(series))  # type: ignore[arg-type]
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
