"""Walk-forward validation: rolling or anchored in-sample/out-of-sample windows, OOS runs and their stitching."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from domain.backtest import BacktestSettings, TradeTable, compute_stats
from domain.backtest.run import indicator_warmup, json_value, run_backtest
from domain.market import CandleSeries
from domain.strategy import Strategy
from domain.sweep.metrics import with_bar_metrics

F64 = npt.NDArray[np.float64]


class WalkForwardError(ValueError):
    """The data is too short for the requested windows, or the window settings are out of range."""


@dataclass(frozen=True, slots=True)
class Window:
    """Bar index ranges [is_start, is_end) and [oos_start, oos_end); the OOS part always follows the IS part."""

    index: int
    is_start: int
    is_end: int
    oos_start: int
    oos_end: int

    @property
    def is_bars(self) -> int:
        return self.is_end - self.is_start

    @property
    def oos_bars(self) -> int:
        return self.oos_end - self.oos_start


def split_windows(n_bars: int, count: int, oos_fraction: float = 0.25, anchored: bool = False,
                  min_is_bars: int = 2) -> list[Window]:
    """`count` windows whose OOS parts tile the end of the data back to back.

    Each window's OOS length is `oos_fraction` of its IS + OOS length (for anchored windows: of the first
    window's). Rolling windows keep the IS length and move by one OOS length; anchored ones start at bar 0.
    Bars before the first window that do not fit are left out of rolling windows.
    """
    if count < 1:
        raise WalkForwardError("--walk-forward needs at least 1 window")
    if not 0 < oos_fraction < 1:
        raise WalkForwardError(f"--oos-fraction must be between 0 and 1 (exclusive), got {oos_fraction:g}")
    ratio = (1 - oos_fraction) / oos_fraction  # IS bars per OOS bar
    oos_len = int(math.floor(n_bars / (count + ratio)))
    is_len = n_bars - count * oos_len if anchored else int(math.floor(oos_len * ratio))
    if oos_len < 1 or is_len < min_is_bars:
        need = math.ceil(max(1.0, min_is_bars / ratio) * (count + ratio))
        raise WalkForwardError(f"{n_bars} bars are too few for {count} walk-forward windows with an "
                               f"out-of-sample fraction of {oos_fraction:g} (each in-sample part needs at least "
                               f"{min_is_bars} bars for the indicators' warm-up); about {need} bars are needed")
    first_oos = n_bars - count * oos_len
    out = []
    for k in range(count):
        oos_start = first_oos + k * oos_len
        is_start = 0 if anchored else oos_start - is_len
        out.append(Window(k, is_start, oos_start, oos_start, oos_start + oos_len))
    return out


@dataclass(frozen=True, slots=True, eq=False)
class OosRun:
    """One window's out-of-sample backtest: equity over the OOS bars only, its trades (bars relative to the
    window's first OOS bar) and stats."""

    window: Window
    equity: F64
    trades: TradeTable
    stats: dict[str, Any]


def run_oos(strategy: Strategy, series: CandleSeries, window: Window, settings: BacktestSettings) -> OosRun:
    """Backtest `strategy` on the window's OOS bars, flat at its start and closed out at its end.

    The indicators warm up on the bars just before the OOS part (the past, which is allowed), so trading can
    start on the first OOS bar; no trade opens before it.
    """
    warmup = indicator_warmup(strategy)
    lo = max(0, window.oos_start - warmup - 1)
    part = series.take(slice(lo, window.oos_end))
    result = run_backtest(strategy, part, replace(settings, finalize_trades=True))
    skip = window.oos_start - lo
    equity = result.equity[skip:]
    cols = result.trades.columns()
    cols["entry_bar"] = cols["entry_bar"] - skip
    cols["exit_bar"] = cols["exit_bar"] - skip
    trades = TradeTable.from_columns(cols)
    oos = part.take(slice(skip, None))
    stats = compute_stats(oos.ts, oos.close, equity, trades)
    plain = {k: json_value(v) for k, v in stats.items()}
    return OosRun(window, equity, trades, with_bar_metrics(oos.ts, equity, plain))


@dataclass(frozen=True, slots=True, eq=False)
class Stitched:
    """The OOS runs chained into one account: bar times, equity, trades (stitched bar indexes) and stats."""

    ts: npt.NDArray[np.int64]
    equity: F64
    trades: TradeTable
    stats: dict[str, Any]


def stitch(series: CandleSeries, runs: list[OosRun], cash: float) -> Stitched:
    """Chain the OOS equity curves: each window (run with `cash`) is scaled to start from the equity the
    previous one ended with, as if the account carried over."""
    if not runs:
        raise WalkForwardError("no out-of-sample windows to stitch")
    runs = sorted(runs, key=lambda r: r.window.oos_start)
    curves, tables, level, offset = [], [], cash, 0
    for run in runs:
        scale = level / cash
        curves.append(run.equity * scale)
        cols = run.trades.columns()
        for name in ("entry_bar", "exit_bar"):
            cols[name] = cols[name] + offset
        for name in ("pnl", "commission", "size"):
            cols[name] = cols[name] * scale
        tables.append(cols)
        level = float(curves[-1][-1])
        offset += run.window.oos_bars
    equity = np.concatenate(curves)
    trades = TradeTable.from_columns({k: np.concatenate([t[k] for t in tables]) for k in tables[0]})
    idx = np.concatenate([np.arange(r.window.oos_start, r.window.oos_end) for r in runs])
    ts, close = series.ts[idx], series.close[idx]
    stats = compute_stats(ts, close, equity, trades)
    plain = {k: json_value(v) for k, v in stats.items()}
    return Stitched(ts, equity, trades, with_bar_metrics(ts, equity, plain))


def efficiency(is_score: float, oos_score: float, maximize: bool = True) -> float:
    """Walk-forward efficiency: the OOS objective as a fraction of the IS objective (1 = held up fully, 0.5 =
    half of it). Defined only for a maximised objective with a positive IS value: a ratio of two losses (IS -50
    → OOS -20 would read 0.4, "worse", for a better result) or of a minimised objective means nothing, so it is
    NaN there and the difference OOS - IS (`change`) is the figure to read."""
    if not maximize or not (math.isfinite(is_score) and math.isfinite(oos_score)) or is_score <= 0:
        return math.nan
    return oos_score / is_score
