"""Look-ahead check: cut the data at several bars, re-run, and report any earlier signal or trade that changes."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from domain.backtest import BacktestSettings
from domain.backtest.run import BacktestResult, NotEnoughData, backtest_signals, indicator_warmup
from domain.backtest.trades import TradeTable
from domain.market import CandleSeries
from domain.strategy.evaluation import Signals, evaluate, indicator_columns
from domain.strategy.model import SIDES, Strategy

SIGNALS = (*SIDES, "scale_in")
TRADE_FIELDS = ("side", "size", "entry_bar", "exit_bar", "entry_price", "exit_price", "pnl", "exit_reason")


@dataclass(frozen=True, slots=True)
class Change:
    """A value at bar `bar` that differs between all the data and the data cut after bar `cut`."""

    cut: int  # index of the last bar kept
    cut_ts: int
    bar: int
    ts: int
    what: str  # "entry_long signal", "sma(10)@1h value", "trade 3 exit_price", "trade count"
    full: str  # the value on all the data
    truncated: str  # the value on the cut data


@dataclass(frozen=True, slots=True)
class LookaheadReport:
    """The cuts made (indexes of the last bar kept), every change found and how much was compared."""

    bars: int
    cuts: tuple[int, ...]
    changes: tuple[Change, ...]
    signals_compared: int  # bar × signal pairs
    values_compared: int  # bar × operand pairs
    trades_compared: int

    @property
    def ok(self) -> bool:
        return not self.changes


def cut_points(n: int, first: int, cuts: int = 8, random_cuts: int = 4, seed: int = 0) -> list[int]:
    """Indexes of the last bar kept: `cuts` spread evenly over bars [first, n - 1), plus `random_cuts` seeded ones.

    The last bar is never a cut (keeping every bar changes nothing); fewer come back when the range is short.
    """
    last = n - 2
    if last < max(first, 0):
        return []
    first = max(first, 0)
    even = np.linspace(first, last, cuts).round().astype(int).tolist() if cuts > 0 else []
    span = range(first, last + 1)
    extra = random.Random(seed).sample(span, min(random_cuts, len(span)))
    return sorted(set(even) | set(extra))


def check_lookahead(strategy: Strategy, series: CandleSeries, settings: BacktestSettings | None = None,
                    cuts: int = 8, random_cuts: int = 4, seed: int = 0) -> LookaheadReport:
    """Evaluate and backtest `strategy` on all of `series` and on each cut of it; every operand value and signal on
    a bar kept, and every trade closed by the last bar kept, must be the same both ways. A difference means some
    value read bars after the one it was computed for."""
    cfg = settings or BacktestSettings()
    full = evaluate(strategy, series)
    full_values = indicator_columns(strategy, series)
    full_trades = _trades(strategy, series, full, cfg)
    points = cut_points(len(series), indicator_warmup(strategy, series), cuts, random_cuts, seed)
    changes: list[Change] = []
    signals_compared = values_compared = trades_compared = 0
    for cut in points:
        part = series.take(slice(0, cut + 1))
        signals = evaluate(strategy, part)
        changes += _value_changes(full_values, indicator_columns(strategy, part), series, cut)
        values_compared += (cut + 1) * len(full_values)
        changes += _signal_changes(full, signals, series, cut)
        signals_compared += (cut + 1) * len(SIGNALS)
        if full_trades is not None:
            found, compared = _trade_changes(full_trades, _trades(strategy, part, signals, cfg), series, cut)
            changes += found
            trades_compared += compared
    return LookaheadReport(len(series), tuple(points), tuple(changes), signals_compared, values_compared,
                           trades_compared)


def _mask(signals: Signals, name: str) -> np.ndarray:
    mask = signals.scale_in if name == "scale_in" else getattr(signals, name)
    return np.zeros(len(signals), dtype=np.bool_) if mask is None else np.asarray(mask)


def _value_changes(full: dict[str, np.ndarray], part: dict[str, np.ndarray], series: CandleSeries,
                   cut: int) -> list[Change]:
    """The first bar, per operand, where its value on the cut data differs from the full data's (NaN equals NaN)."""
    out = []
    for name, values in full.items():
        a, b = values[: cut + 1], part[name]
        diff = np.flatnonzero((a != b) & ~(np.isnan(a) & np.isnan(b)))
        if len(diff):
            i = int(diff[0])
            out.append(Change(cut, int(series.ts[cut]), i, int(series.ts[i]), f"{name} value", f"{a[i]:.10g}",
                              f"{b[i]:.10g}"))
    return out


def _signal_changes(full: Signals, part: Signals, series: CandleSeries, cut: int) -> list[Change]:
    """The first bar, per signal, where the cut data's signal differs from the full data's."""
    out = []
    for name in SIGNALS:
        a, b = _mask(full, name)[: cut + 1], _mask(part, name)
        diff = np.flatnonzero(a != b)
        if len(diff):
            i = int(diff[0])
            out.append(Change(cut, int(series.ts[cut]), i, int(series.ts[i]), f"{name} signal",
                              str(bool(a[i])).lower(), str(bool(b[i])).lower()))
    return out


def _trades(strategy: Strategy, series: CandleSeries, signals: Signals, cfg: BacktestSettings) -> TradeTable | None:
    """The closed trades of a backtest of these signals, or None when the bars are too few to trade."""
    try:
        result: BacktestResult = backtest_signals(series, signals, strategy.direction, strategy.risk, cfg,
                                                  indicator_warmup(strategy, series))
    except NotEnoughData:
        return None
    return result.trades


def _closed_by(trades: TradeTable, cut: int) -> list[tuple[float, ...]]:
    """Each trade closed on or before bar `cut`, as a row of TRADE_FIELDS."""
    keep = np.flatnonzero(trades.exit_bar <= cut)
    cols = [getattr(trades, f) for f in TRADE_FIELDS]
    return [tuple(float(c[i]) for c in cols) for i in keep]


def _trade_changes(full: TradeTable, part: TradeTable | None, series: CandleSeries,
                   cut: int) -> tuple[list[Change], int]:
    """The first trade closed by bar `cut` that differs between the full and the cut backtest; trades compared."""
    expected = _closed_by(full, cut)
    got = [] if part is None else _closed_by(part, cut)
    stamp = int(series.ts[cut])
    for k, (a, b) in enumerate(zip(expected, got, strict=False)):
        for name, x, y in zip(TRADE_FIELDS, a, b, strict=True):
            if x != y:
                bar = int(a[TRADE_FIELDS.index("entry_bar")])
                return [Change(cut, stamp, bar, int(series.ts[bar]), f"trade {k + 1} {name}", f"{x:g}", f"{y:g}")], k
    if len(expected) != len(got):
        k = min(len(expected), len(got))
        rows = expected if len(expected) > k else got
        bar = int(rows[k][TRADE_FIELDS.index("entry_bar")])
        return [Change(cut, stamp, bar, int(series.ts[bar]), "trade count", str(len(expected)), str(len(got)))], k
    return [], len(expected)
