"""Whole-process benchmark: what a trader waits for from the shell, as medians of fresh processes (wall clock).

A year of 1-minute bars (525,600, a random walk) is written as CSV, Parquet and Feather into a temporary folder;
then each command runs N times in a new interpreter, interleaved so a busy machine slows them alike:
`quantdesk backtest --csv year.csv --json` (SMA 10/30 cross long_short, 2 % stop), `quantdesk backtest` on stored
candles, `quantdesk import-csv` of the CSV, Parquet and Feather files (each into a fresh copy of an empty database),
`quantdesk --help`, a million-row CSV import, and a plain backtesting.py script running the same strategy on the
same CSV. One untimed run of each QuantDesk command first fills caches (numba's on-disk cache, the OS file cache);
the project's modules are byte-compiled first, as an installed package's are (an environment with
PYTHONDONTWRITEBYTECODE set would otherwise compile ~100 modules from source in every process).
Each process's peak RSS and CPU time (user + system, less sensitive to a busy machine than the wall clock) are
reported too; the in-process read time of each file is printed first. The engine's kernels are compiled ahead of
time first (`quantdesk kernels build`, into this run's own cache); both backtests also run with numba's JIT
(QUANTDESK_KERNELS=jit), as a process without that build does.

Run: python bench/wholeprocess.py [--runs N] [--script-runs N] [--skip-script] [--skip-million]
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

N = 525_600
TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else None  # GNU time, for each child's own peak RSS
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


def random_walk(n: int):  # type: ignore[no-untyped-def]
    """The same generated year as bench/sweep.py's."""
    from bench.sweep import year

    return year(n)


def write_year(folder: Path, million: bool) -> None:
    """The same random walk in every format (and a million-row CSV), written by QuantDesk's own writers."""
    from infrastructure.files import write_candles_file

    series = random_walk(N)
    for name in ("year.csv", "year.parquet", "year.feather"):
        write_candles_file(folder / name, series)
    if million:
        write_candles_file(folder / "million.csv", random_walk(1_000_000))


def in_process_reads(tmp: Path, runs: int) -> None:
    """Reading each file into a CandleSeries inside this process (pyarrow already imported), median of `runs`."""
    from infrastructure.files import read_candles_file

    parts = []
    for name in ("year.csv", "year.parquet", "year.feather"):
        read_candles_file(tmp / name)
        spent = []
        for _ in range(runs):
            t = time.perf_counter()
            read_candles_file(tmp / name)
            spent.append(time.perf_counter() - t)
        parts.append(f"{name} {statistics.median(spent):.3f} s")
    print("in-process read into a CandleSeries (median): " + ", ".join(parts))


@dataclass
class Case:
    label: str
    argv: list[str]
    before: Callable[[], None] = lambda: None
    times: list[float] = field(default_factory=list)
    peaks_mb: list[float] = field(default_factory=list)
    cpu_s: list[float] = field(default_factory=list)
    runs: int = 0
    env: dict[str, str] = field(default_factory=dict)  # on top of the run's environment

    def run(self, env: dict[str, str], out: Path, timed: bool = True) -> None:
        """One fresh process: wall clock, and its peak RSS and CPU time through GNU time when there is one.

        The child is started by `time`, not forked from this process: a forked child's peak RSS starts at its
        parent's, and this process holds the generated candles.
        """
        self.before()
        err, peak = out.with_suffix(".err"), out.with_suffix(".rss")
        argv = [TIME, "-f", "%M %U %S", "-o", str(peak), *self.argv] if TIME else self.argv
        with out.open("wb") as sink, err.open("wb") as errors:
            t = time.perf_counter()
            code = subprocess.run(argv, stdout=sink, stderr=errors, env={**env, **self.env}, cwd=ROOT).returncode
            spent = time.perf_counter() - t
        if code != 0:
            raise SystemExit(f"{self.label} failed ({code}): {err.read_text()[-2000:]}")
        if timed:
            self.times.append(spent)
            if TIME:
                rss, user, system = peak.read_text().split()[-3:]
                self.peaks_mb.append(int(rss) / 1024)
                self.cpu_s.append(float(user) + float(system))


def cases(tmp: Path, script_runs: int, skip_script: bool, million: bool) -> list[Case]:
    qd = [sys.executable, "-m", "app"]
    empty, stored = tmp / "empty.db", tmp / "stored.db"
    fresh = tmp / "fresh.db"

    def no_db() -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{fresh}{suffix}").unlink(missing_ok=True)

    def fresh_db() -> None:
        no_db()
        shutil.copy(empty, fresh)

    settings = ["--cash", str(CASH), "--commission", str(COMMISSION), "--lot-size", "1", "--json"]
    strategy = ["--strategy", str(tmp / "sma.json")]
    on_csv = [*qd, "backtest", *strategy, "--csv", str(tmp / "year.csv"), *settings]
    on_stored = [*qd, "--db", str(stored), "backtest", *strategy, "--exchange", "bench", "--market", "YEAR",
                 "--timeframe", "1m", *settings]
    jit = {"QUANTDESK_KERNELS": "jit"}
    out = [
        Case("quantdesk backtest --csv year.csv --json", on_csv),
        Case("quantdesk backtest (stored candles) --json", on_stored),
        Case("  the same --csv, numba JIT (no kernels build)", on_csv, env=jit),
        Case("  the same stored, numba JIT (no kernels build)", on_stored, env=jit),
    ]
    for name in ("year.csv", "year.parquet", "year.feather", *(["million.csv"] if million else [])):
        out.append(Case(f"quantdesk import-csv {name}", [*qd, "--db", str(fresh), "import-csv", str(tmp / name),
                                                       "--exchange", "bench", "--market", "YEAR", "--quiet"], fresh_db))
    out.append(Case("quantdesk import-csv year.csv (new database)", [*qd, "--db", str(fresh), "import-csv",
                                                                     str(tmp / "year.csv"), "--exchange", "bench",
                                                                     "--market", "YEAR", "--quiet"], no_db))
    out.append(Case("quantdesk --help", [*qd, "--help"]))
    if not skip_script:
        out.append(Case("backtesting.py script on year.csv", [sys.executable, str(tmp / "bt_script.py"),
                                                              str(tmp / "year.csv")], runs=script_runs))
    return out


def prepare(tmp: Path, env: dict[str, str], million: bool) -> None:
    """The files and databases, and the kernels compiled ahead of time (`quantdesk kernels build`, as a user who
    followed the README's start-up note has them) into this run's own cache."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", "app", "domain", "infrastructure", "resources"],
                   cwd=ROOT, check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "app", "kernels", "build", "--quiet"], env=env, cwd=ROOT, check=True)
    write_year(tmp, million)
    (tmp / "sma.json").write_text(json.dumps(strategy_doc(10, 30)))
    (tmp / "bt_script.py").write_text(SCRIPT.format(stop=STOP, cash=CASH, commission=COMMISSION))
    qd = [sys.executable, "-m", "app"]
    subprocess.run([*qd, "--db", str(tmp / "empty.db"), "db", "info"], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    shutil.copy(tmp / "empty.db", tmp / "stored.db")
    subprocess.run([*qd, "--db", str(tmp / "stored.db"), "import-csv", str(tmp / "year.csv"), "--exchange", "bench",
                    "--market", "YEAR", "--quiet"], env=env, cwd=ROOT, check=True, capture_output=True)


def report(all_cases: list[Case]) -> None:
    script = next((c for c in all_cases if c.label.startswith("backtesting.py")), None)
    ref = statistics.median(script.times) if script and script.times else None
    print(f"{'command':<46} {'median s':>9} {'min s':>7} {'runs':>5} {'vs script':>10} {'peak RSS':>9} {'CPU s':>6}")
    for c in all_cases:
        med = statistics.median(c.times)
        ratio = f"{ref / med:9.1f}x" if ref and c is not script else ""
        peak = f"{statistics.median(c.peaks_mb):6.0f} MB" if c.peaks_mb else "n/a"
        cpu = f"{statistics.median(c.cpu_s):6.2f}" if c.cpu_s else "n/a"
        print(f"{c.label:<46} {med:9.3f} {min(c.times):7.3f} {len(c.times):5d} {ratio:>10} {peak:>9} {cpu:>6}")


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
    ap.add_argument("--skip-million", action="store_true", help="leave out the million-row CSV import")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="qd-wholeprocess-") as folder:
        tmp = Path(folder)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen",
               "QUANTDESK_KERNELS": str(tmp / "cache")}
        prepare(tmp, env, not args.skip_million)
        sizes = ", ".join(f"{n} {(tmp / n).stat().st_size / 1e6:.0f} MB" for n in ("year.csv", "year.parquet",
                                                                                    "year.feather", "stored.db"))
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"{N:,} 1-minute bars ({sizes}); {os.cpu_count()} CPUs, load {load}; python {sys.version.split()[0]}")
        in_process_reads(tmp, args.runs)
        all_cases = cases(tmp, args.script_runs, args.skip_script, not args.skip_million)
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
