"""A fresh process loads the engine's compiled kernels from numba's on-disk cache instead of compiling them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

RUN = '''
import contextlib, io, json, sys
from numba.core.registry import CPUDispatcher
from app.bootstrap.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    assert main(sys.argv[1:]) == 0
used = {}
for name, module in list(sys.modules.items()):
    if name.split(".")[0] in ("domain", "app", "infrastructure"):
        for attr, fn in vars(module).items():
            if isinstance(fn, CPUDispatcher) and fn.signatures:
                stats = fn.stats
                used[f"{fn.py_func.__module__}.{attr}"] = [sum(stats.cache_hits.values()),
                                                           sum(stats.cache_misses.values())]
print(json.dumps(used))
'''


def kernels_of_one_run(argv: list[str]) -> dict[str, list[int]]:
    """Each compiled kernel the run called → [signatures loaded from the cache, signatures compiled]."""
    out = subprocess.run([sys.executable, "-c", RUN, *argv], capture_output=True, text=True, check=True, cwd=ROOT,
                         timeout=600).stdout
    return dict(json.loads(out))


def test_a_second_fresh_process_compiles_no_kernel_of_a_backtest(tmp_path: Path) -> None:
    close = [100 + (i % 23) - (i % 7) * 0.5 for i in range(600)]
    rows = "".join(f"{1_704_067_200_000 + 60_000 * i},{c},{c + 1},{c - 1},{c},1\n" for i, c in enumerate(close))
    (tmp_path / "bars.csv").write_text("time,open,high,low,close,volume\n" + rows)
    doc = {"schema": 1, "name": "SMA", "direction": "long_short",
           "entry_long": {"all": [{"left": {"var": "sma", "params": {"period": 5}}, "op": "crosses_above",
                                   "right": {"var": "sma", "params": {"period": 20}}}]},
           "entry_short": {"all": [{"left": {"var": "sma", "params": {"period": 5}}, "op": "crosses_below",
                                    "right": {"var": "sma", "params": {"period": 20}}}]},
           "exit_long": None, "exit_short": None, "risk": {"position_size_pct": 100, "stop_loss_pct": 2}}
    (tmp_path / "s.json").write_text(json.dumps(doc))
    argv = ["backtest", "--strategy", str(tmp_path / "s.json"), "--csv", str(tmp_path / "bars.csv"), "--json"]
    kernels_of_one_run(argv)  # a new checkout compiles here, once, and numba writes its cache
    second = kernels_of_one_run(argv)
    assert len(second) >= 3  # the indicator, the simulation and the statistics' kernels ran
    assert {name: counts for name, counts in second.items() if counts[1] or not counts[0]} == {}


WARM = '''
import numpy as np
from app.backtests.worker import warm_engine
from domain.backtest import BacktestSettings
from domain.backtest.curve import drawdown_nb
from domain.backtest.run import run_backtest
from domain.market import CandleSeries, Timeframe
from domain.strategy import loads_strategy
import sys
warm_engine()
warmed = list(drawdown_nb.signatures)
close = 100 + np.sin(np.arange(500) / 9.0) * 5
series = CandleSeries.from_columns(Timeframe.M1, 1_704_067_200_000 + np.arange(500, dtype=np.int64) * 60_000, close,
                                   close + 1, close - 1, close, np.ones(500))
run_backtest(loads_strategy(open(sys.argv[1], "rb").read()), series, BacktestSettings(cash=10_000))
print(len(warmed), warmed == list(drawdown_nb.signatures))
'''


def test_warming_the_engine_loads_the_signature_a_real_run_uses_so_the_run_loads_it_no_second_time(
        tmp_path: Path) -> None:
    doc = {"schema": 1, "name": "SMA", "direction": "long_only",
           "entry_long": {"all": [{"left": {"var": "sma", "params": {"period": 5}}, "op": "crosses_above",
                                   "right": {"var": "sma", "params": {"period": 20}}}]},
           "entry_short": None, "exit_long": None, "exit_short": None, "risk": {"position_size_pct": 100}}
    (tmp_path / "s.json").write_text(json.dumps(doc))
    out = subprocess.run([sys.executable, "-c", WARM, str(tmp_path / "s.json")], capture_output=True, text=True,
                         check=True, cwd=ROOT, timeout=600).stdout
    assert out.split() == ["1", "True"]
