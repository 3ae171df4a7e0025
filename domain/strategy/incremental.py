"""Bar-by-bar evaluation for live trading: one new closed bar in, that bar's signals out.

Exactness over cleverness: the evaluator keeps the bars in a growing preallocated column buffer and
asks each distinct indicator for just the outputs the strategy reads, over that buffer (a zero-copy
view), then compares only the last two values in plain Python. Catalog indicators are
prefix-deterministic (the value at t computed on bars[:t+1] is bit-for-bit the value computed on the
whole series), so each row equals what `evaluate` returns for the same bar. Price fields are read
straight from the buffer.

Cost per bar is one pass of each indicator over the buffer (tens of microseconds per thousand bars),
so the buffer is bounded: once it holds `max_bars` bars (default 1,024, raised to sixteen times the
strategy's warm-up if that is longer) the oldest half is dropped, and from then on each row equals
`evaluate` over the bars still held (`series()`). Recursive indicators (EMA, RSI, ATR, MACD, ADX)
then restart from the retained window of at least eight warm-ups, where an N-bar EMA's seed weighs
about e^-16 (≈1e-7 relative). A live bar's latency scales with this window, hence the small default.
`max_bars=None` keeps every bar (exact against the whole history, cost grows).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from domain.indicators import CATALOG, resolve_params
from domain.market import FIELDS, Candle, CandleSeries
from domain.strategy.evaluation import VarKey, wanted_fields, warmup_bars
from domain.strategy.model import SIDES, Condition, Const, Group, Operand, Strategy, iter_vars

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


DEFAULT_MAX_BARS = 1024


@dataclass(frozen=True, slots=True)
class SignalRow:
    """The signals of one bar."""

    entry_long: bool
    exit_long: bool
    entry_short: bool
    exit_short: bool


Kernel = Callable[[CandleSeries], dict[str, F64]]


def _kernel(key: VarKey, fields: frozenset[str]) -> Kernel:
    """The catalog compute for one indicator with its parameters resolved once (no per-bar checks)."""
    indicator = CATALOG[key[0]]
    resolved = resolve_params(indicator, dict(key[1]))
    some = indicator.compute_some_fn
    if some is not None:
        return lambda series: some(series, resolved, fields)
    return lambda series: indicator.compute_fn(series, resolved)


class IncrementalEvaluator:
    """Evaluates `strategy` on `history` plus each bar passed to `update`, one bar at a time."""

    def __init__(self, strategy: Strategy, history: CandleSeries, capacity: int = 4096,
                 max_bars: int | None = DEFAULT_MAX_BARS) -> None:
        floor = 2 * (warmup_bars(strategy) + 2)
        if max_bars == DEFAULT_MAX_BARS:
            max_bars = max(DEFAULT_MAX_BARS, 8 * floor)  # 8 x (2 x warm-up): half kept after a drop ≥ 8x warm-up
        if max_bars is not None and max_bars < floor:
            raise ValueError(f"max_bars must be at least twice the warm-up ({warmup_bars(strategy)} bars) plus 2")
        self.strategy = strategy
        self.timeframe = history.timeframe
        self.max_bars = max_bars
        if max_bars is not None and len(history) > max_bars // 2:
            k = len(history) - max_bars // 2
            history = CandleSeries(history.timeframe, history.ts[k:], history.open[k:], history.high[k:],
                                   history.low[k:], history.close[k:], history.volume[k:])
        self._n = len(history)
        size = max(capacity, 2 * self._n, 16)
        self._ts: I64 = np.empty(size, dtype=np.int64)
        self._ts[: self._n] = history.ts
        self._cols: dict[str, F64] = {c: np.empty(size, dtype=np.float64) for c in FIELDS}
        for c in FIELDS:
            self._cols[c][: self._n] = getattr(history, c)
        self._vars = iter_vars(strategy)
        self._kernels = {key: _kernel(key, fields) for key, fields in wanted_fields(self._vars).items()}
        # Per operand, resolved once: its price column, or its computation and the output it reads.
        self._reads = [(var, var.var, var.key, "") if var.var in FIELDS
                       else (var, None, var.key, var.field or CATALOG[var.var].outputs[0]) for var in self._vars]
        self._now: dict[Operand, float] = {}
        self._prev: dict[Operand, float] = {}
        self._rules = [(side, strategy.rule(side)) for side in SIDES]

    def __len__(self) -> int:
        return self._n

    def series(self) -> CandleSeries:
        """Every bar seen so far (views into the buffer; copy before keeping)."""
        n = self._n
        c = self._cols
        return CandleSeries(self.timeframe, self._ts[:n], c["open"][:n], c["high"][:n], c["low"][:n],
                            c["close"][:n], c["volume"][:n])

    def update(self, candle: Candle) -> SignalRow:
        """Append one closed bar and return its signals. Bars must arrive in time order."""
        i = self._n
        if i and candle.ts <= int(self._ts[i - 1]):
            raise ValueError(f"bar at {candle.ts} is not after the last bar at {int(self._ts[i - 1])}")
        if self.max_bars is not None and i >= self.max_bars:
            i = self._drop_oldest(i - self.max_bars // 2)
        if i == len(self._ts):
            self._grow()
        self._ts[i] = candle.ts
        for c in FIELDS:
            self._cols[c][i] = getattr(candle, c)
        self._n = i + 1
        self._refresh()
        flags = {side: bool(group is not None and self._group(group)) for side, group in self._rules}
        return SignalRow(**flags)

    def _grow(self) -> None:
        size = 2 * len(self._ts)
        ts: I64 = np.empty(size, dtype=np.int64)
        ts[: self._n] = self._ts[: self._n]
        self._ts = ts
        for c in FIELDS:
            col: F64 = np.empty(size, dtype=np.float64)
            col[: self._n] = self._cols[c][: self._n]
            self._cols[c] = col

    def _drop_oldest(self, k: int) -> int:
        keep = self._n - k
        self._ts[:keep] = self._ts[k : self._n]
        for col in self._cols.values():
            col[:keep] = col[k : self._n]
        self._n = keep
        return keep

    def _refresh(self) -> None:
        n = self._n
        view = self.series()
        computed: dict[object, dict[str, F64]] = {}
        for var, column, key, output in self._reads:
            if column is not None:
                values = self._cols[column]
            else:
                outputs = computed.get(key)
                if outputs is None:
                    outputs = computed[key] = self._kernels[key](view)
                values = outputs[output]
            self._now[var] = float(values[n - 1])
            self._prev[var] = float(values[n - 2]) if n > 1 else float("nan")

    def _value(self, operand: Operand, prev: bool) -> float:
        if isinstance(operand, Const):
            return operand.value
        return self._prev[operand] if prev else self._now[operand]

    def _condition(self, cond: Condition) -> bool:
        left, right = self._value(cond.left, False), self._value(cond.right, False)
        op = cond.op
        if op == "gt":
            return left > right
        if op == "lt":
            return left < right
        if op == "ge":
            return left >= right
        if op == "le":
            return left <= right
        pl, pr = self._value(cond.left, True), self._value(cond.right, True)
        if op == "crosses_above":
            return left > right and pl <= pr
        return left < right and pl >= pr

    def _group(self, group: Group) -> bool:
        items = (self._group(i) if isinstance(i, Group) else self._condition(i) for i in group.items)
        return all(items) if group.kind == "all" else any(items)



