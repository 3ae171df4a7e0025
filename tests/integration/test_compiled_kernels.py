"""Kernels compiled ahead of time (`quantdesk kernels build`) give the very results numba's JIT gives, and a
command run with them never loads numba."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from domain import jit
from domain.backtest.run import run_backtest
from infrastructure.compute.aot import build_folder, cache_key, load
from infrastructure.compute.aot.workload import _series, _settings, _strategies

ROOT = Path(__file__).resolve().parents[2]
NO_NUMBA = '''
import contextlib, io, sys
from app.bootstrap.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(sys.argv[1:])
sys.stdout.write(out.getvalue())
print("numba loaded" if "numba" in sys.modules else "numba not loaded", file=sys.stderr)
raise SystemExit(code)
'''


def quantdesk(args: list[str], kernels: str, script: str | None = None,
              **env_vars: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QUANTDESK_KERNELS": kernels, "PYTHONPATH": str(ROOT), **env_vars}
    head = [sys.executable, "-c", script] if script else [sys.executable, "-m", "app"]
    return subprocess.run([*head, *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = tmp_path_factory.mktemp("kernels-cache")
    done = quantdesk(["kernels", "build"], str(cache))
    assert done.returncode == 0, done.stderr
    assert "compiled kernels ready in" in done.stdout
    return cache


@pytest.fixture
def compiled(built: Path) -> Iterator[list[int]]:
    """The compiled kernels installed in this process, each call counted: [calls so far]."""
    load(built)
    calls = [0]

    def counted(fn: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            calls[0] += 1
            return fn(*args)
        return call

    jit.install({name: [(specs, counted(fn)) for specs, fn in versions] for name, versions in jit._COMPILED.items()})
    try:
        yield calls
    finally:
        jit.install({})


SMA_V1 = {"schema": 1, "name": "SMA", "direction": "long_short",
          "entry_long": {"all": [{"left": {"var": "sma", "params": {"period": 10}}, "op": "crosses_above",
                                  "right": {"var": "sma", "params": {"period": 30}}}]},
          "entry_short": {"all": [{"left": {"var": "sma", "params": {"period": 10}}, "op": "crosses_below",
                                   "right": {"var": "sma", "params": {"period": 30}}}]},
          "exit_long": None, "exit_short": None, "risk": {"position_size_pct": 100, "stop_loss_pct": 2}}


@pytest.mark.parametrize("sample", [None, "upbit_scale_in", "ict_htf_bias"])
def test_a_backtest_from_a_csv_file_prints_the_same_json_and_never_loads_numba(built: Path, tmp_path: Path,
                                                                               sample: str | None) -> None:
    """A v1 cross, and the schema-2 samples (the v2 loop takes its signals and position rules as tuples)."""
    rng = np.random.default_rng(3)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, 8_000)))
    rows = "".join(f"{1_704_067_200_000 + 60_000 * i},{c},{c * 1.002},{c * 0.998},{c},1\n" for i, c in enumerate(close))
    (tmp_path / "bars.csv").write_text("time,open,high,low,close,volume\n" + rows)
    path = tmp_path / "s.json"
    path.write_text(json.dumps(SMA_V1) if sample is None
                    else (ROOT / "resources" / "strategies" / f"{sample}.json").read_text())
    argv = ["backtest", "--strategy", str(path), "--csv", str(tmp_path / "bars.csv"), "--json",
            "--commission", "0.001"]
    fast, slow = quantdesk(argv, str(built), NO_NUMBA), quantdesk(argv, "jit", NO_NUMBA)
    assert fast.returncode == slow.returncode == 0, fast.stderr + slow.stderr
    assert fast.stderr.strip() == "numba not loaded" and slow.stderr.strip() == "numba loaded"
    assert json.loads(fast.stdout)["stats"]["# Trades"] > 0
    assert fast.stdout == slow.stdout


def test_every_sample_strategy_on_every_account_gives_bit_identical_results_compiled_and_jit(
        compiled: list[int]) -> None:
    assert jit.installed() > 20
    checked = 0
    for series in _series():
        for strategy in _strategies():
            for settings in _settings(series):
                before = compiled[0]
                try:
                    fast = run_backtest(strategy, series, settings)
                except ValueError:  # a sample made for another base timeframe (refused the same way under JIT)
                    continue
                assert compiled[0] - before >= 3  # the indicators, the simulation, the statistics at least
                table = dict(jit._COMPILED)
                jit.install({})
                slow = run_backtest(strategy, series, settings)
                jit.install(table)
                assert json.dumps(fast.stats, default=str) == json.dumps(slow.stats, default=str)
                for name, column in slow.trades.columns().items():
                    assert np.array_equal(fast.trades.columns()[name], column, equal_nan=True), name
                assert np.array_equal(fast.equity, slow.equity, equal_nan=True)
                checked += 1
    assert checked >= 100


def test_a_build_for_other_code_is_ignored_and_status_says_so(built: Path, tmp_path: Path) -> None:
    stale = tmp_path / "cache"
    shutil.copytree(build_folder(built), build_folder(stale, "0" * 20))
    assert load(stale) == 0 and jit.installed() == 0
    status = quantdesk(["kernels", "status"], str(stale))
    assert status.returncode == 1 and "not compiled for this code" in status.stdout
    assert quantdesk(["kernels", "status"], str(built)).stdout.strip() == f"compiled: {build_folder(built)}"
    assert cache_key() == build_folder(built).name


def test_building_again_over_a_build_in_use_exports_every_kernel_again(built: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(built, cache)
    def exported() -> set[tuple[str, str]]:  # (kernel, argument types) pairs; export names follow discovery order
        kernels = json.loads((build_folder(cache) / "index.json").read_text())["kernels"]
        return {(name, json.dumps(specs)) for name, exports in kernels.items() for _export, specs in exports}

    before = exported()
    again = quantdesk(["kernels", "build"], str(cache))  # its first kernel call would install the old build
    assert again.returncode == 0, again.stderr
    assert exported() == before


def test_without_a_c_compiler_the_build_says_so_and_leaves_nothing_behind(tmp_path: Path) -> None:
    done = quantdesk(["kernels", "build"], str(tmp_path), CC="/bin/false")
    assert done.returncode == 2
    assert done.stderr.startswith("error: no working C compiler was found")
    assert "numba's JIT compiler" in done.stderr
    assert not (tmp_path / "kernels").exists()  # found out before anything was run or written
