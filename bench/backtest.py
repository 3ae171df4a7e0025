"""Backtest benchmark: a year of 1-minute bars, SMA(10)/SMA(30) cross long_short, 2% stop-loss, 0.1% commission.

QuantDesk end to end (indicators + signals + simulation + stats, data in memory), warm and first-in-a-fresh-process,
against backtesting.py and vectorbt (Portfolio.from_signals) measured in the same run; then 100 parameter
combinations run sequentially by QuantDesk. A schema-2 version of the strategy (1h trend filter on closed hourly
bars, ATR stop, two take-profit levels, scaling in on strength) is timed against the v1 run in the same process.

Run: python bench/backtest.py [--skip-backtesting-py] [--v2-only]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from domain.backtest import BacktestSettings  # noqa: E402
from domain.backtest.run import run_backtest  # noqa: E402
from domain.market import CandleSeries, Timeframe  # noqa: E402
from domain.strategy import evaluate, parse_strategy  # noqa: E402

N = 525_600
CASH = 1_000_000.0
COMMISSION = 0.001
STOP = 2.0
SETTINGS = BacktestSettings(cash=CASH, commission=COMMISSION, lot_size=1)  # whole units, as backtesting.py

FRESH = """
import sys, time
t0 = time.perf_counter()
sys.path.insert(0, {root!r})
sys.argv = ["bench"]
import bench.backtest as b
t1 = time.perf_counter()
series = b.year()
strategy = b.strategy(10, 30)
t2 = time.perf_counter()
result = b.run_backtest(strategy, series, b.SETTINGS)
t3 = time.perf_counter()
print(f"{{t1 - t0:.3f}} {{t3 - t2:.3f}} {{len(result.trades)}}")
"""


def year() -> CandleSeries:
    rng = np.random.default_rng(42)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.0008, N)))
    open_ = np.r_[close[0], close[:-1]] * np.exp(rng.normal(0, 0.0002, N))
    high = np.maximum(open_, close) * (1 + rng.random(N) * 0.001)
    low = np.minimum(open_, close) * (1 - rng.random(N) * 0.001)
    ts = 1_704_067_200_000 + np.arange(N, dtype=np.int64) * 60_000
    return CandleSeries.from_columns(Timeframe.M1, ts, open_, high, low, close, rng.random(N) * 5)


def strategy(fast: int, slow: int):  # type: ignore[no-untyped-def]
    def leg(op: str) -> dict:
        return {"all": [{"left": {"var": "sma", "params": {"period": fast}}, "op": op,
                         "right": {"var": "sma", "params": {"period": slow}}}]}

    return parse_strategy({
        "schema": 1, "name": f"SMA {fast}/{slow}", "direction": "long_short",
        "entry_long": leg("crosses_above"), "entry_short": leg("crosses_below"), "exit_long": None,
        "exit_short": None, "risk": {"position_size_pct": 100, "stop_loss_pct": STOP}})


def strategy_v2(fast: int, slow: int):  # type: ignore[no-untyped-def]
    """The v1 cross with every v2 feature: an hourly EMA(50) filter, ATR stop, two TP levels, scale-in."""
    def leg(op: str, trend: str) -> dict:
        return {"all": [{"left": {"var": "sma", "params": {"period": fast}}, "op": op,
                         "right": {"var": "sma", "params": {"period": slow}}},
                        {"left": {"var": "close", "timeframe": "1h"}, "op": trend,
                         "right": {"var": "ema", "params": {"period": 50}, "timeframe": "1h"}}]}

    atr = {"period": 14, "mult": 3}
    return parse_strategy({
        "schema": 2, "name": f"SMA {fast}/{slow} v2", "direction": "long_short",
        "entry_long": leg("crosses_above", "gt"), "entry_short": leg("crosses_below", "lt"), "exit_long": None,
        "exit_short": None,
        "risk": {"position_size_pct": 50, "stop_loss": {"atr": atr},
                 "take_profit": [{"atr": {"period": 14, "mult": 3}, "close_pct": 50},
                                 {"atr": {"period": 14, "mult": 6}, "close_pct": 50}]},
        "scale_in": {"when": {"all": [{"left": {"var": "position_return_pct"}, "op": "ge", "right": {"const": 0.5}}]},
                     "size_pct": 50, "max_adds": 2, "min_bars_between": 5}})


def v1_against_v2(series: CandleSeries) -> None:
    """Warm times of the v1 and v2 strategies, interleaved (best of 10 each)."""
    v1, v2 = strategy(10, 30), strategy_v2(10, 30)
    r1, r2 = run_backtest(v1, series, SETTINGS), run_backtest(v2, series, SETTINGS)
    runs = (lambda: run_backtest(v1, series, SETTINGS), lambda: run_backtest(v2, series, SETTINGS))
    t1, t2 = best_of(*runs, repeat=20)
    c1, c2 = best_of(*runs, repeat=20, clock=time.process_time)
    partial = int(np.sum(r2.trades.entry_bar[1:] == r2.trades.entry_bar[:-1]))
    print(f"v1 run (SMA cross, % stop), warm:        {t1:.4f} s, {len(r1.trades)} trades")
    print(f"v2 run (+1h filter, ATR stop, 2 TP levels, scale-in), warm: {t2:.4f} s, {len(r2.trades)} trade rows "
          f"({partial} partial fills)  -> v2/v1 = {t2 / t1:.2f}x")
    print(f"the same in CPU time (less sensitive to a busy machine): v1 {c1:.4f} s, v2 {c2:.4f} s "
          f" -> v2/v1 = {c2 / c1:.2f}x")


def best_of(*fns, repeat: int = 10, clock=time.perf_counter) -> list[float]:  # type: ignore[no-untyped-def]
    """Best time of each function by `clock`, calls interleaved so a busy machine slows them alike."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, spent in zip(fns, times, strict=True):
            t = clock()
            fn()
            spent.append(clock() - t)
    return [min(spent) for spent in times]


def fresh_process(cache_dir: str | None = None) -> tuple[float, float, int]:
    """(import s, first run s, trades) in a new interpreter; with `cache_dir` numba compiles from scratch."""
    env = dict(os.environ)
    if cache_dir:
        env["NUMBA_CACHE_DIR"] = cache_dir
    out = subprocess.run([sys.executable, "-c", FRESH.format(root=str(ROOT))], capture_output=True, text=True,
                         check=True, cwd=ROOT, env=env).stdout.split()
    return float(out[0]), float(out[1]), int(out[2])


def backtesting_py(series: CandleSeries) -> tuple[float, int]:
    """backtesting.py with the same signals; the stop is set from the known next open, as QuantDesk's fill."""
    import pandas as pd
    from backtesting import Backtest, Strategy

    sig = evaluate(strategy(10, 30), series)
    up, down, opens = sig.entry_long, sig.entry_short, series.open
    df = pd.DataFrame({"Open": series.open, "High": series.high, "Low": series.low, "Close": series.close,
                       "Volume": series.volume}, index=pd.DatetimeIndex(series.ts.astype("datetime64[ms]")))

    class SmaCross(Strategy):
        def init(self) -> None:
            c = self.data.Close
            self.fast = self.I(lambda: pd.Series(c).rolling(10).mean().values)
            self.slow = self.I(lambda: pd.Series(c).rolling(30).mean().values)

        def next(self) -> None:
            i = len(self.data) - 1
            if i >= N - 1 or not (up[i] or down[i]):
                return
            side = 1 if up[i] else -1
            if self.position.size * side >= 0 and self.position:
                return
            self.position.close()
            order = self.buy() if side > 0 else self.sell()
            order._replace(sl_price=opens[i + 1] * (1 - side * STOP / 100))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt = Backtest(df, SmaCross, cash=CASH, commission=COMMISSION)
        t = time.perf_counter()
        stats = bt.run()
        return time.perf_counter() - t, int(stats["# Trades"])


def vectorbt(series: CandleSeries):  # type: ignore[no-untyped-def]
    """A warmed-up `run() -> trades` for vectorbt on the same signals (computed once, outside the timing)."""
    try:
        import vectorbt as vbt
    except Exception as err:  # optional comparison
        print(f"vectorbt: import failed ({err}); skipped")
        return None
    sig = evaluate(strategy(10, 30), series)
    # Signals on a close fill at the next open: shift them one bar and price fills at the open.
    shift = lambda a: np.r_[False, a[:-1]]  # noqa: E731

    def run() -> int:
        pf = vbt.Portfolio.from_signals(
            series.close, entries=shift(sig.entry_long), short_entries=shift(sig.entry_short),
            price=series.open, open=series.open, high=series.high, low=series.low, sl_stop=STOP / 100,
            fees=COMMISSION, init_cash=CASH, size_granularity=1, freq="1min")
        return int(pf.trades.count())

    run()  # compile
    return run


def combos(series: CandleSeries) -> tuple[float, int]:
    grid = [(f, s) for f in range(5, 15) for s in range(20, 70, 5)]
    t = time.perf_counter()
    total = sum(len(run_backtest(strategy(f, s), series, SETTINGS).trades) for f, s in grid)
    return time.perf_counter() - t, len(grid) if total >= 0 else 0


def main() -> None:
    series = year()
    if "--v2-only" in sys.argv:
        v1_against_v2(series)
        return
    st = strategy(10, 30)
    print(f"{N:,} 1-minute bars, SMA(10)/SMA(30) cross long_short, {STOP:g}% stop-loss, {COMMISSION:.1%} commission")
    with tempfile.TemporaryDirectory() as empty:
        _, compiled, _ = fresh_process(empty)
    imp, first, fresh_trades = fresh_process()
    print(f"QuantDesk first run, empty numba cache:  {compiled:.3f} s (one-off compile cost)")
    print(f"QuantDesk first run in a fresh process: {first:.3f} s (+ {imp:.3f} s imports), {fresh_trades} trades")
    result = run_backtest(st, series, SETTINGS)
    quantdesk = lambda: run_backtest(st, series, SETTINGS)  # noqa: E731
    vb = vectorbt(series)
    if vb is None:
        (warm,) = best_of(quantdesk)
    else:
        warm, vb_time = best_of(quantdesk, vb)
    print(f"QuantDesk warm (end to end, best of 10): {warm:.4f} s, {len(result.trades)} trades")
    if "--skip-backtesting-py" not in sys.argv:
        bt_time, bt_trades = backtesting_py(series)
        print(f"backtesting.py:                          {bt_time:.2f} s, {bt_trades} trades"
              f"  -> QuantDesk {bt_time / warm:,.0f}x faster")
    if vb is not None:
        print(f"vectorbt from_signals (best of 10; signals precomputed): {vb_time:.4f} s, {vb()} trades"
              f"  -> QuantDesk {vb_time / warm:.1f}x faster")
    v1_against_v2(series)
    elapsed, n = combos(series)
    print(f"{n} parameter combinations, sequential:    {elapsed:.2f} s ({elapsed / n * 1000:.1f} ms each)")


if __name__ == "__main__":
    main()
