"""Bar-by-bar evaluation for live trading: one new closed bar in, that bar's signals out.

Each distinct indicator the strategy reads runs in its streaming form (`Indicator.stream`): the bar's
prices go in, its outputs come out in O(1), bit-for-bit what the vectorised kernel gives at that bar
over every bar seen since the evaluator started (history included). The conditions then compare the
current and previous values in plain Python, so every row equals what `evaluate` returns for the same
bar on the whole series, however long it grows, at a cost of a few microseconds per bar.

The bars themselves are kept only for charts (`series()`): the latest `max_bars` (default 1,024), or
every bar with `max_bars=None`. Signals never depend on that bound.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from domain.indicators import CATALOG
from domain.indicators.base import Stream
from domain.market import FIELDS, Candle, CandleSeries, Timeframe
from domain.strategy.evaluation import VarKey, label
from domain.strategy.higher import HtfBuilder
from domain.strategy.model import (
    POSITION_VARS,
    Arith,
    Condition,
    Const,
    Group,
    Operand,
    Position,
    Strategy,
    Var,
    iter_vars,
    rule_groups,
)

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
    scale_in: bool = False


@dataclass(slots=True)
class _Segment:
    """One higher timeframe: its bar builder, its indicators' streams and the values of its last closed bar."""

    builder: HtfBuilder
    streams: list[Stream]
    width: int  # outputs of every stream, without the bar's own five fields
    reads: dict[Var, int]
    last: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.width += len(FIELDS)
        self.last = [NAN] * self.width


def _streams_for(variables: list[Var]) -> tuple[list[Stream], int, dict[Var, int]]:
    """Streams of the distinct indicators in `variables`, their outputs' width, and where each variable reads.

    Price fields read past the outputs (`width + FIELDS.index(name)`), where the bar's own values follow them.
    """
    keys: list[VarKey] = list(dict.fromkeys(v.key for v in variables if v.var not in FIELDS))
    streams = [CATALOG[key[0]].stream(dict(key[1])) for key in keys]
    offsets: list[int] = []
    at = 0
    for key in keys:
        offsets.append(at)
        at += len(CATALOG[key[0]].outputs)
    reads: dict[Var, int] = {}
    for var in variables:
        if var.var in FIELDS:
            reads[var] = (at if var.timeframe else 0) + FIELDS.index(var.var)
        else:
            ind = CATALOG[var.var]
            reads[var] = offsets[keys.index(var.key)] + ind.outputs.index(var.field or ind.outputs[0])
    return streams, at, reads


class IncrementalEvaluator:
    """Evaluates `strategy` on `history` plus each bar passed to `update`, one bar at a time."""

    def __init__(self, strategy: Strategy, history: CandleSeries, max_bars: int | None = DEFAULT_MAX_BARS) -> None:
        if max_bars is not None and max_bars < 2:
            raise ValueError("max_bars must be at least 2")
        self.strategy = strategy
        self.timeframe = history.timeframe
        self.max_bars = max_bars
        self.seen = 0  # bars evaluated since the start, history included
        variables = iter_vars(strategy)
        self._streams, base_width, base_reads = _streams_for([v for v in variables if v.timeframe is None])
        self._segments: list[_Segment] = []
        at = base_width
        self._reads: dict[Operand, int] = {}
        for code in dict.fromkeys(v.timeframe for v in variables if v.timeframe is not None):
            seg = _Segment(HtfBuilder(history.timeframe, Timeframe(code)),
                           *_streams_for([v for v in variables if v.timeframe == code]))
            self._reads.update({var: at + i for var, i in seg.reads.items()})
            self._segments.append(seg)
            at += seg.width
        self._reads.update({var: (at + i if var.var in FIELDS else i) for var, i in base_reads.items()})
        # the open position's values (return %, bars held) sit after the bar's fields; NaN when flat
        self._reads.update({Position(name): at + len(FIELDS) + k for k, name in enumerate(POSITION_VARS)})
        self._now: list[float] = [NAN] * (at + len(FIELDS) + len(POSITION_VARS))
        self._prev: list[float] = list(self._now)
        self._rules = compile_rules(rule_groups(strategy), self._reads,
                                    strict=strategy.crossover == "strict")
        columns = (history.ts.tolist(), *(history.column(c).tolist() for c in FIELDS))
        for ts, *row in zip(*columns, strict=True):
            self._push(ts, *row)
        keep = len(history) if max_bars is None else min(len(history), max_bars)
        self._bars: deque[Candle] = deque((history.candle(i) for i in range(len(history) - keep, len(history))),
                                          maxlen=max_bars)
        self._last_ts = int(history.ts[-1]) if len(history) else None

    def __len__(self) -> int:
        """Bars held for `series()` (at most `max_bars`)."""
        return len(self._bars)

    def series(self) -> CandleSeries:
        """The bars held, oldest first, as new arrays."""
        bars = self._bars
        n = len(bars)
        ts: I64 = np.fromiter((b.ts for b in bars), dtype=np.int64, count=n)
        cols = [np.fromiter((getattr(b, c) for b in bars), dtype=np.float64, count=n) for c in FIELDS]
        return CandleSeries(self.timeframe, ts, *cols)

    def values(self) -> dict[str, float]:
        """Each variable operand's value at the last bar, keyed as `indicator_columns` keys its columns."""
        return {label(var): self._now[i] for var, i in self._reads.items() if isinstance(var, Var)}

    def update(self, candle: Candle, position: tuple[float, float] | None = None) -> SignalRow:
        """Append one closed bar and return its signals. Bars must arrive in time order.

        `position` is the open position at this close, (return % from its average entry, bars held), for rules
        that read it; None when flat.
        """
        if self._last_ts is not None and candle.ts <= self._last_ts:
            raise ValueError(f"bar at {candle.ts} is not after the last bar at {self._last_ts}")
        self._last_ts = candle.ts
        self._bars.append(candle)
        self._push(candle.ts, candle.open, candle.high, candle.low, candle.close, candle.volume)
        if position is not None:
            self._now[-2:] = position
        return self._rules(self._now, self._prev)

    def _push(self, ts: int, o: float, h: float, low: float, c: float, v: float) -> None:
        self._prev = self._now
        now: list[float] = []
        for stream in self._streams:
            now.extend(stream(o, h, low, c, v))
        for seg in self._segments:  # higher timeframes: values change only when one of their bars closes
            for bar in seg.builder.push(ts, o, h, low, c, v):
                values: list[float] = []
                for stream in seg.streams:
                    values.extend(stream(*bar))
                seg.last = [*values, *bar]
            now.extend(seg.last)
        now += (o, h, low, c, v, NAN, NAN)
        self._now = now
        self.seen += 1


_COMPARE = {"gt": "{l} > {r}", "lt": "{l} < {r}", "ge": "{l} >= {r}", "le": "{l} <= {r}",
            "crosses_above": "({l} > {r} and {pl} <= {pr})", "crosses_below": "({l} < {r} and {pl} >= {pr})"}
_SIGNS = {"add": "+", "sub": "-", "mul": "*"}


def _div(a: float, b: float) -> float:
    """Division as the vectorised evaluator does it: by zero gives NaN."""
    return NAN if b == 0.0 else a / b


_STRICT = {**_COMPARE, "crosses_above": "({l} > {r} and {pl} < {pr})", "crosses_below": "({l} < {r} and {pl} > {pr})"}


def compile_rules(rules: list[Group | None], reads: dict[Operand, int],
                  strict: bool = False) -> Callable[[Row, Row], SignalRow]:
    """The rules (four sides, then scale-in) as one function of (this bar's row, the previous bar's row).

    `strict` selects the strategy's strict crossover rule (previous bar strictly on the other side).

    The rule tree becomes a single Python expression over row indexes, built once per evaluator, so a bar
    costs one call instead of a walk over the tree. Only integers and operators come from the strategy;
    constants are passed in a tuple, never written into the source. NaN compares False, as in `evaluate`.
    """
    consts: list[float] = []
    compare = _STRICT if strict else _COMPARE

    def ref(operand: Operand, row: str) -> str:
        if isinstance(operand, Const):
            consts.append(float(operand.value))
            return f"c[{len(consts) - 1}]"
        if isinstance(operand, Arith):
            a, b = ref(operand.left, row), ref(operand.right, row)
            return f"_div({a}, {b})" if operand.op == "div" else f"({a} {_SIGNS[operand.op]} {b})"
        return f"{row}[{reads[operand]}]"

    def expr(item: Condition | Group | None) -> str:
        if item is None:
            return "False"
        if isinstance(item, Group):
            if not item.items:
                return "True" if item.kind == "all" else "False"
            joiner = " and " if item.kind == "all" else " or "
            return "(" + joiner.join(expr(i) for i in item.items) + ")"
        return compare[item.op].format(l=ref(item.left, "n"), r=ref(item.right, "n"), pl=ref(item.left, "p"),
                                        pr=ref(item.right, "p"))

    body = ", ".join(f"bool({expr(rule)})" for rule in [*rules, None, None, None, None, None][:5])
    namespace: dict[str, object] = {"SignalRow": SignalRow, "consts": tuple(consts), "_div": _div}
    exec(f"def rules(n, p, c=consts):\n    return SignalRow({body})\n", namespace)  # noqa: S102 - source built above
    return namespace["rules"]  # type: ignore[return-value]
