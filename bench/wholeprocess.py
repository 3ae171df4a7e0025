"""Whole-process benchmark: what a trader waits for from the shell, as medians of fresh processes (wall clock).

A year of 1-minute bars (525,600, a random walk) is written as CSV, Parquet and Feather into a temporary folder;
then each command runs N times in a new interpreter, interleaved so a busy machine slows them alike:
`quantdesk backtest --csv year.csv --json` (SMA 10/30 cross long_short, 2 % stop), `quantdesk backtest` on stored
candles, `quantdesk import-csv` of the CSV, Parquet and Feather files (each into a fresh copy of an empty database),
`quantdesk --help`, and a plain backtesting.py script running the same strategy on the same CSV.
One untimed run of each command first fills caches (numba's on-disk cache, the OS file cache).

Run: python bench/wholeprocess.py [--runs N] [--script-runs N] [--skip-script]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

N = 525_600
CASH, COMMISSION, STOP = 1_000_000, 0.001, 2.0

SCRIPT = '''
import sys, warnings
import pandas as pd
from backtesting import Backtest, Strategy
from backtesting.lib import crossover

df = pd.read_csv(sys.argv[1], index_col=0, parse_dates=True)
df.columns = [c.capitalize() for c in df.columns]

class SmaCross(Strategy):
    def init(self):
        close = pd.Series(self.data.Close)
        self.fast = self.I(lambda: close.rolling(10).mean().values)
        self.slow = self.I(lambda: close.rolling(30).mean().values)

    def next(self):
        price = self.data.Close[-1]
        if crossover(self.fast, self.slow):
            self.position.close()
            self.buy(sl=price * (1 - {stop} / 100))
        elif crossover(self.slow, self.fast):
            self.position.close()
            self.sell(sl=price * (1 + {stop} / 100))

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    stats = Backtest(df, SmaCross, cash={cash}, commission={commission}).run()
print(stats.drop(["_strategy", "_equity_curve", "_trades"]).to_string())
print(stats["_trades"].to_json(orient="records", date_format="iso"))
'''


def strategy_doc(fast: int, slow: int) -> dict[str, object]:
    def leg(op: str) -> dict[str, object]:
        return {"all": [{"left": {"var": "sma", "params": {"period": fast}}, "op": op,
                         "right": {"var": "sma", "params": {"period": slow}}}]}

    return {"schema": 1, "name": f"SMA {fast}/{slow}", "direction": "long_short",
            "entry_long": leg("crosses_above"), "entry_short": leg("crosses_below"), "exit_long": None,
            "exit_short": None, "risk": {"position_size_pct": 100, "stop_loss_pct": STOP}}


def write_year(folder: Path) -> None:
    """The same random walk in every format, written by QuantDesk's own writers."""
    from domain.market import CandleSeries, Timeframe
    from infrastructure.files import write_candles_file

    rng = np.random.default_rng(42)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.0008, N)))
    open_ = np.r_[close[0], close[:-1]] * np.exp(rng.normal(0, 0.0002, N))
    high = np.maximum(open_, close) * (1 + rng.random(N) * 0.001)
    low = np.minimum(open_, close) * (1 - rng.random(N) * 0.001)
    ts = 1_704_067_200_000 + np.arange(N, dtype=np.int64) * 60_000
    series = CandleSeries.from_columns(Timeframe.M1, ts, open_, high, low, close, rng.random(N) * 5)
    for name in ("year.csv", "year.parquet", "year.feather"):
        write_candles_file(folder / name, series)


@dataclass
class Case:
    label: str
    argv: list[str]
    before: Callable[[], None] = lambda: None
    times: list[float] = field(default_factory=list)
    runs: int = 0

    def run(self, env: dict[str, str], out: Path, timed: bool = True) -> None:
        self.before()
        with out.open("wb") as sink:
            t = time.perf_counter()
            done = subprocess.run(self.argv, stdout=sink, stderr=subprocess.PIPE, env=env, cwd=ROOT)
            spent = time.perf_counter() - t
        if done.returncode != 0:
            raise SystemExit(f"{self.label} failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
        if timed:
            self.times.append(spent)


def cases(tmp: Path, script_runs: int, skip_script: bool) -> list[Case]:
    qd = [sys.executable, "-m", "app.cli"]
    empty, stored = tmp / "empty.db", tmp / "stored.db"
    fresh = tmp / "fresh.db"

    def fresh_db() -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{fresh}{suffix}").unlink(missing_ok=True)
        shutil.copy(empty, fresh)

    settings = ["--cash", str(CASH), "--commission", str(COMMISSION), "--lot-size", "1", "--json"]
    strategy = ["--strategy", str(tmp / "sma.json")]
    out = [
        Case("quantdesk backtest --csv year.csv --json", [*qd, "backtest", *strategy, "--csv", str(tmp / "year.csv"),
                                                         *settings]),
        Case("quantdesk backtest (stored candles) --json", [*qd, "--db", str(stored), "backtest", *strategy,
                                                           "--exchange", "bench", "--market", "YEAR", "--timeframe",
                                                           "1m", *settings]),
    ]
    for name in ("year.csv", "year.parquet", "year.feather"):
        out.append(Case(f"quantdesk import-csv {name}", [*qd, "--db", str(fresh), "import-csv", str(tmp / name),
                                                       "--exchange", "bench", "--market", "YEAR", "--quiet"], fresh_db))
    out.append(Case("quantdesk --help", [*qd, "--help"]))
    if not skip_script:
        out.append(Case("backtesting.py script on year.csv", [sys.executable, str(tmp / "bt_script.py"),
                                                              str(tmp / "year.csv")], runs=script_runs))
    return out


def prepare(tmp: Path, env: dict[str, str]) -> None:
    write_year(tmp)
    (tmp / "sma.json").write_text(json.dumps(strategy_doc(10, 30)))
    (tmp / "bt_script.py").write_text(SCRIPT.format(stop=STOP, cash=CASH, commission=COMMISSION))
    qd = [sys.executable, "-m", "app.cli"]
    subprocess.run([*qd, "--db", str(tmp / "empty.db"), "db", "info"], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    shutil.copy(tmp / "empty.db", tmp / "stored.db")
    subprocess.run([*qd, "--db", str(tmp / "stored.db"), "import-csv", str(tmp / "year.csv"), "--exchange", "bench",
                    "--market", "YEAR", "--quiet"], env=env, cwd=ROOT, check=True, capture_output=True)


def report(all_cases: list[Case]) -> None:
    script = next((c for c in all_cases if c.label.startswith("backtesting.py")), None)
    ref = statistics.median(script.times) if script and script.times else None
    print(f"{'command':<46} {'median s':>9} {'min s':>7} {'runs':>5} {'vs script':>10}")
    for c in all_cases:
        med = statistics.median(c.times)
        ratio = f"{ref / med:9.1f}x" if ref and c is not script else ""
        print(f"{c.label:<46} {med:9.3f} {min(c.times):7.3f} {len(c.times):5d} {ratio:>10}")


def trades(quantdesk_out: Path, script_out: Path | None) -> None:
    """Trade counts of the two backtests, to see that they ran the same strategy."""
    ours = json.loads(quantdesk_out.read_text())["stats"]["# Trades"]
    line = f"trades: quantdesk {ours}"
    if script_out is not None:
        theirs = next(ln.split()[-1] for ln in script_out.read_text().splitlines() if ln.startswith("# Trades"))
        line += f", backtesting.py {theirs} (its stop is set from the signal close, ours from the fill)"
    print(line)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="timed runs of each QuantDesk command (default 5)")
    ap.add_argument("--script-runs", type=int, default=3, help="timed runs of the backtesting.py script (default 3)")
    ap.add_argument("--skip-script", action="store_true", help="leave out the backtesting.py script")
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    with tempfile.TemporaryDirectory(prefix="qd-wholeprocess-") as folder:
        tmp = Path(folder)
        prepare(tmp, env)
        sizes = ", ".join(f"{n} {(tmp / n).stat().st_size / 1e6:.0f} MB" for n in ("year.csv", "year.parquet",
                                                                                    "year.feather"))
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"{N:,} 1-minute bars ({sizes}); {os.cpu_count()} CPUs, load {load}; python {sys.version.split()[0]}")
        all_cases = cases(tmp, args.script_runs, args.skip_script)
        outs = [tmp / f"out{k}.txt" for k in range(len(all_cases))]
        for c, out in zip(all_cases, outs, strict=True):
            if c.runs == 0:
                c.run(env, out, timed=False)  # warm-up: numba's cache, the file cache
        for k in range(max(args.runs, args.script_runs)):
            for c, out in zip(all_cases, outs, strict=True):
                if k < (c.runs or args.runs):
                    c.run(env, out)
        report(all_cases)
        print(f"load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
        trades(outs[0], outs[-1] if not args.skip_script else None)


if __name__ == "__main__":
    main()
