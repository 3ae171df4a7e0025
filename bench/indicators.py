"""Indicator benchmark: numba compile/cache-load cost of the catalog, and each indicator on a year of 1-minute bars
against TA-Lib's C implementation measured in the same run.

Run: python bench/indicators.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from domain.indicators import CATALOG  # noqa: E402
from domain.market import CandleSeries, Timeframe  # noqa: E402

N = 525_600

FIRST_CALL = """
import time
t0 = time.perf_counter()
import numpy as np
from domain.indicators import CATALOG
from domain.market import CandleSeries, Timeframe
t1 = time.perf_counter()
x = np.linspace(100.0, 110.0, 300)
s = CandleSeries.from_columns(Timeframe.M1, np.arange(300) * 60_000, x, x + 1, x - 1, x, x)
for ind in CATALOG.values():
    ind.compute(s)
print(f"{t1 - t0:.3f} {time.perf_counter() - t1:.3f}")
"""


def year() -> CandleSeries:
    rng = np.random.default_rng(42)
    close = 50_000 * np.exp(np.cumsum(rng.normal(0, 0.0008, N)))
    open_ = np.r_[close[0], close[:-1]]
    high = np.maximum(open_, close) * (1 + rng.random(N) * 0.001)
    low = np.minimum(open_, close) * (1 - rng.random(N) * 0.001)
    ts = 1_704_067_200_000 + np.arange(N, dtype=np.int64) * 60_000
    return CandleSeries.from_columns(Timeframe.M1, ts, open_, high, low, close, rng.random(N) * 5)


def first_calls() -> None:
    """Run the catalog once in fresh interpreters: cold numba cache (compile), then warm (load from cache)."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache, "PYTHONPATH": str(ROOT)}
        for what in ("cold cache (compile)", "warm cache (load)"):
            out = subprocess.run([sys.executable, "-c", FIRST_CALL], env=env, capture_output=True, text=True,
                                 check=True).stdout.split()
            print(f"first call, {what:21s}: import {float(out[0]) * 1e3:7.0f} ms, all {len(CATALOG)} indicators "
                  f"{float(out[1]) * 1e3:7.0f} ms")


def best_of(fn: Callable[[], object], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def talib_calls(s: CandleSeries) -> dict[str, Callable[[], object]]:
    import talib

    h, lo, c, v = s.high, s.low, s.close, s.volume
    return {
        "typical": lambda: talib.TYPPRICE(h, lo, c), "highest": lambda: talib.MAX(h, 20),
        "lowest": lambda: talib.MIN(lo, 20), "sma": lambda: talib.SMA(c, 20), "ema": lambda: talib.EMA(c, 20),
        "wma": lambda: talib.WMA(c, 20), "macd": lambda: talib.MACD(c, 12, 26, 9),
        "adx": lambda: (talib.ADX(h, lo, c, 14), talib.PLUS_DI(h, lo, c, 14), talib.MINUS_DI(h, lo, c, 14)),
        "rsi": lambda: talib.RSI(c, 14), "stoch": lambda: talib.STOCH(h, lo, c, 14, 3, 0, 3, 0),
        "cci": lambda: talib.CCI(h, lo, c, 20), "roc": lambda: talib.ROC(c, 10),
        "bbands": lambda: talib.BBANDS(c, 20, 2.0, 2.0, 0), "atr": lambda: talib.ATR(h, lo, c, 14),
        "donchian": lambda: (talib.MAX(h, 20), talib.MIN(lo, 20)), "obv": lambda: talib.OBV(c, v),
        "volume_sma": lambda: talib.SMA(v, 20),
    }


def per_indicator() -> None:
    s = year()
    oracle = talib_calls(s)
    print(f"\n{'indicator (defaults)':22s} {'ours ms':>8s} {'TA-Lib ms':>10s} {'ratio':>6s}   ({N:,} bars)")
    for name, ind in CATALOG.items():
        ind.compute(s.take(slice(0, 100)))
        ours = best_of(lambda ind=ind: ind.compute(s))
        ref = best_of(oracle[name]) if name in oracle else None
        ratio = f"{ours / ref:6.2f}" if ref else "     -"
        ref_ms = f"{ref * 1e3:10.2f}" if ref else "         -"
        print(f"{name:22s} {ours * 1e3:8.2f} {ref_ms} {ratio}")
    middle = CATALOG["bbands"]
    print(f"{'bbands fields=[middle]':22s} {best_of(lambda: middle.compute(s, None, ['middle'])) * 1e3:8.2f}")


if __name__ == "__main__":
    first_calls()
    per_indicator()
