"""Bar-by-bar evaluation for live trading: one new closed bar in, that bar's signals out.

Each distinct indicator the strategy reads runs in its streaming form (`Indicator.stream`): the bar's
prices go in, its outputs come out in O(1), bit-for-bit what the vectorised kernel gives at that bar
over every bar seen since the evaluator started (history included). The conditions then compare the
current and previous values in plain Python, so every row equals what `evaluate` returns for the same
bar on the whole series, however long it grows, at a cost of a few microseconds per bar.

The bars themselves are kept only for charts (`series()`): up to `max_bars` (default 1,024; the oldest
half is dropped when full), or every bar with `max_bars=None`. Signals never depend on that bound.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from domain.indicators import CATALOG
from domain.market import FIELDS, Candle, CandleSeries
from domain.strategy.evaluation import VarKey
from domain.strategy.model import SIDES, Condition, Const, Group, Operand, Strategy, iter_vars

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


DEFAULT_MAX_BARS = 1024
NAN = float("nan")
Row = list[float]


@dataclass(frozen=True, slots=True)
class SignalRow:
    """The signals of one bar."""

    entry_long: bool
    exit_long: bool
    entry_short: bool
    exit_short: bool


class IncrementalEvaluator:
    """Evaluates `strategy` on `history` plus each bar passed to `update`, one bar at a time."""

    def __init__(self, strategy: Strategy, history: CandleSeries, capacity: int = 4096,
                 max_bars: int | None = DEFAULT_MAX_BARS) -> None:
        if max_bars is not None and max_bars < 2:
            raise ValueError("max_bars must be at least 2")
        self.strategy = strategy
        self.timeframe = history.timeframe
        self.max_bars = max_bars
        self.seen = 0  # bars evaluated since the start, history included
        variables = iter_vars(strategy)
        keys: list[VarKey] = list(dict.fromkeys(v.key for v in variables if v.var not in FIELDS))
        self._streams = [CATALOG[key[0]].stream(dict(key[1])) for key in keys]
        # One flat row per bar: each indicator's outputs in turn, then the bar's price fields.
        offsets: list[int] = []
        at = 0
        for key in keys:
            offsets.append(at)
            at += len(CATALOG[key[0]].outputs)
        self._reads: dict[Operand, int] = {}
        for var in variables:
            if var.var in FIELDS:
                self._reads[var] = at + FIELDS.index(var.var)
            else:
                ind = CATALOG[var.var]
                self._reads[var] = offsets[keys.index(var.key)] + ind.outputs.index(var.field or ind.outputs[0])
        self._now: list[float] = [NAN] * (at + len(FIELDS))
        self._prev: list[float] = list(self._now)
        self._rules = compile_rules([strategy.rule(side) for side in SIDES], self._reads)
        for i in range(len(history)):
            self._push(float(history.open[i]), float(history.high[i]), float(history.low[i]),
                       float(history.close[i]), float(history.volume[i]))
        if max_bars is not None and len(history) > max_bars // 2:
            history = history.take(slice(len(history) - max_bars // 2, len(history)))
        self._n = len(history)
        size = max(capacity, 2 * self._n, 16)
        self._ts: I64 = np.empty(size, dtype=np.int64)
        self._ts[: self._n] = history.ts
        self._last_ts = int(history.ts[-1]) if self._n else None
        self._cols: dict[str, F64] = {c: np.empty(size, dtype=np.float64) for c in FIELDS}
        for c in FIELDS:
            self._cols[c][: self._n] = getattr(history, c)

    def __len__(self) -> int:
        """Bars held for `series()` (at most `max_bars`)."""
        return self._n

    def series(self) -> CandleSeries:
        """The bars held, oldest first (views into the buffer; copy before keeping)."""
        n = self._n
        c = self._cols
        return CandleSeries(self.timeframe, self._ts[:n], c["open"][:n], c["high"][:n], c["low"][:n],
                            c["close"][:n], c["volume"][:n])

    def update(self, candle: Candle) -> SignalRow:
        """Append one closed bar and return its signals. Bars must arrive in time order."""
        if self._last_ts is not None and candle.ts <= self._last_ts:
            raise ValueError(f"bar at {candle.ts} is not after the last bar at {self._last_ts}")
        self._last_ts = candle.ts
        self._keep(candle)
        self._push(candle.open, candle.high, candle.low, candle.close, candle.volume)
        return self._rules(self._now, self._prev)

    def _push(self, o: float, h: float, low: float, c: float, v: float) -> None:
        self._prev = self._now
        now: list[float] = []
        for stream in self._streams:
            now.extend(stream(o, h, low, c, v))
        now += (o, h, low, c, v)
        self._now = now
        self.seen += 1

    def _keep(self, candle: Candle) -> None:
        i = self._n
        if self.max_bars is not None and i >= self.max_bars:
            i = self._drop_oldest(i - self.max_bars // 2)
        if i == len(self._ts):
            self._grow()
        self._ts[i] = candle.ts
        cols = self._cols
        cols["open"][i] = candle.open
        cols["high"][i] = candle.high
        cols["low"][i] = candle.low
        cols["close"][i] = candle.close
        cols["volume"][i] = candle.volume
        self._n = i + 1

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


_COMPARE = {"gt": "{l} > {r}", "lt": "{l} < {r}", "ge": "{l} >= {r}", "le": "{l} <= {r}",
            "crosses_above": "({l} > {r} and {pl} <= {pr})", "crosses_below": "({l} < {r} and {pl} >= {pr})"}


def compile_rules(rules: list[Group | None], reads: dict[Operand, int]) -> Callable[[Row, Row], SignalRow]:
    """The four rules as one function of (this bar's row, the previous bar's row) -> SignalRow.

    The rule tree becomes a single Python expression over row indexes, built once per evaluator, so a bar
    costs one call instead of a walk over the tree. Only integers and operators come from the strategy;
    constants are passed in a tuple, never written into the source. NaN compares False, as in `evaluate`.
    """
    consts: list[float] = []

    def ref(operand: Operand, row: str) -> str:
        if isinstance(operand, Const):
            consts.append(float(operand.value))
            return f"c[{len(consts) - 1}]"
        return f"{row}[{reads[operand]}]"

    def expr(item: Condition | Group | None) -> str:
        if item is None:
            return "False"
        if isinstance(item, Group):
            if not item.items:
                return "True" if item.kind == "all" else "False"
            joiner = " and " if item.kind == "all" else " or "
            return "(" + joiner.join(expr(i) for i in item.items) + ")"
        return _COMPARE[item.op].format(l=ref(item.left, "n"), r=ref(item.right, "n"), pl=ref(item.left, "p"),
                                        pr=ref(item.right, "p"))

    body = ", ".join(f"bool({expr(rule)})" for rule in rules)
    namespace: dict[str, object] = {"SignalRow": SignalRow, "consts": tuple(consts)}
    exec(f"def rules(n, p, c=consts):\n    return SignalRow({body})\n", namespace)  # noqa: S102 - source built above
    return namespace["rules"]  # type: ignore[return-value]
