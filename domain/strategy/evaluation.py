"""Whole-series evaluation: indicator columns → condition masks → signal arrays, no look-ahead.

A condition at bar t uses only values at t (and t-1 for crosses); every catalog indicator is causal, and a
higher-timeframe operand reads only HTF bars closed by t's close, so signals at t never depend on later
bars. NaN (indicator warm-up, division by zero) compares False.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from domain.indicators import CATALOG
from domain.market import FIELDS, CandleSeries, Timeframe
from domain.strategy import higher
from domain.strategy.issues import StrategyInvalid
from domain.strategy.model import (
    SIDES,
    Arith,
    Condition,
    Const,
    Group,
    Operand,
    Position,
    Strategy,
    Var,
    iter_conditions,
    iter_vars,
    leaves,
    rule_groups,
    uses_position,
)
from domain.strategy.position_rules import PositionRules, compile_position_rules
from domain.strategy.risk import ScaleIn
from domain.strategy.validation import check_timeframes

BoolArray = npt.NDArray[np.bool_]
F64 = npt.NDArray[np.float64]
Outputs = dict[str, F64]


@dataclass(frozen=True, slots=True, eq=False)
class Signals:
    """Per-bar booleans, evaluated on each bar's close; sides disabled by direction are all False."""

    entry_long: BoolArray
    exit_long: BoolArray
    entry_short: BoolArray
    exit_short: BoolArray
    scale_in: BoolArray | None = None  # the scale-in rule on each close (None without one)
    scale_rule: ScaleIn | None = None  # how much and how often to add (the strategy's scale_in block)
    position: PositionRules | None = None  # rules reading the open position, for the engine (None: none do)

    def __len__(self) -> int:
        return len(self.entry_long)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Signals):
            return NotImplemented
        return all(np.array_equal(getattr(self, s), getattr(other, s)) for s in SIDES)


VarKey = tuple[str, tuple[tuple[str, float], ...], str | None]


def wanted_fields(variables: Iterable[Var]) -> dict[VarKey, frozenset[str]]:
    """For each distinct indicator computation, the outputs the strategy reads (so the rest is skipped)."""
    out: dict[VarKey, set[str]] = {}
    for var in variables:
        if var.var not in FIELDS:
            out.setdefault(var.key, set()).add(var.field or CATALOG[var.var].outputs[0])
    return {k: frozenset(v) for k, v in out.items()}


def compute_var(var: Var, series: CandleSeries, fields: frozenset[str] | None = None) -> Outputs:
    """The outputs of the indicator behind `var` on `series` (price fields are the columns themselves)."""
    if var.var in FIELDS:
        return {var.var: series.column(var.var)}
    return CATALOG[var.var].compute(series, dict(var.params), fields)


def var_values(var: Var, outputs: Outputs) -> F64:
    """The output `var` reads (its field, else the indicator's default output)."""
    if var.var in FIELDS:
        return outputs[var.var]
    return outputs[var.field or CATALOG[var.var].outputs[0]]


class _Columns:
    """Computes each distinct indicator once per series, only the outputs the strategy reads.

    `shared`, when given, keeps outputs across evaluations on the same series (keyed by computation and fields).
    """

    def __init__(self, series: CandleSeries, variables: Iterable[Var],
                 shared: MutableMapping[Any, Outputs] | None = None, strict: bool = False) -> None:
        self.series = series
        self.strict = strict  # the strategy's crossover rule
        self._fields = wanted_fields(variables)
        self._cache: dict[VarKey, Outputs] = {}
        self._raw: dict[Any, Outputs] = {}  # higher-timeframe outputs on their own bars
        self._shared = shared
        self._htf: dict[Timeframe, tuple[CandleSeries, higher.Steps]] = {}

    def values(self, operand: Operand) -> F64 | float:
        if isinstance(operand, Const):
            return operand.value
        if isinstance(operand, Arith):
            return arith(operand.op, self.values(operand.left), self.values(operand.right))
        if isinstance(operand, Position):  # flat: the engine runs position rules itself (PositionRules)
            return np.nan
        outputs = self._cache.get(operand.key)
        if outputs is None:
            outputs = self._cache[operand.key] = self._compute(operand, self._fields.get(operand.key))
        return var_values(operand, outputs)

    def _compute(self, operand: Var, fields: frozenset[str] | None) -> Outputs:
        if self._shared is None:
            return self._compute_on_bars(operand, fields)
        key = (operand.key, fields)
        outputs = self._shared.get(key)
        if outputs is None:
            outputs = self._shared[key] = self._compute_on_bars(operand, fields)
        return outputs

    def _compute_on_bars(self, operand: Var, fields: frozenset[str] | None) -> Outputs:
        if operand.timeframe is None:
            return compute_var(operand, self.series, fields)
        _htf, index = self._higher(Timeframe(operand.timeframe))
        return {k: higher.align(v, index) for k, v in self._on_higher(operand).items()}

    def _on_higher(self, operand: Var) -> Outputs:
        """A higher-timeframe operand's outputs on its own (HTF) bars, computed once."""
        fields = self._fields.get(operand.key)
        key = ("htf", operand.key, fields)
        store = self._shared if self._shared is not None else self._raw
        outputs = store.get(key)
        if outputs is None:
            htf, _index = self._higher(Timeframe(str(operand.timeframe)))
            outputs = store[key] = compute_var(operand, htf, fields)
        return outputs

    def higher_pair(self, cond: Condition) -> tuple[F64 | float, F64 | float, higher.Steps] | None:
        """(left, right, closed index) on the HTF bars when both sides read one higher timeframe only (and
        constants): a comparison there, placed on the base bars, equals the comparison of the placed values,
        at a fraction of the bars. None otherwise."""
        tfs = {leaf.timeframe if isinstance(leaf, Var) else "" for o in (cond.left, cond.right) for leaf in leaves(o)
               if not isinstance(leaf, Const)}
        if len(tfs) != 1 or not isinstance(tf := tfs.pop(), str) or not tf:
            return None
        index = self._higher(Timeframe(tf))[1]
        return self._htf_values(cond.left), self._htf_values(cond.right), index

    def _htf_values(self, operand: Operand) -> F64 | float:
        if isinstance(operand, Const):
            return operand.value
        if isinstance(operand, Arith):
            return arith(operand.op, self._htf_values(operand.left), self._htf_values(operand.right))
        assert isinstance(operand, Var)
        return var_values(operand, self._on_higher(operand))

    def _higher(self, tf: Timeframe) -> tuple[CandleSeries, higher.Steps]:
        if tf not in self._htf:
            htf = higher.resample(self.series, tf)
            self._htf[tf] = (htf, higher.closed_index(self.series, htf))
        return self._htf[tf]


def arith(op: str, left: F64 | float, right: F64 | float) -> F64 | float:
    """`left op right` elementwise; a division by zero is NaN (so it compares False), as in the live evaluator."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if op == "add":
            return np.add(left, right)
        if op == "sub":
            return np.subtract(left, right)
        if op == "mul":
            return np.multiply(left, right)
        return np.where(np.equal(right, 0.0), np.nan, np.divide(left, np.where(np.equal(right, 0.0), 1.0, right)))


def _crosses(left: F64 | float, right: F64 | float, n: int, above: bool, strict: bool = False) -> BoolArray:
    """left > right now and left ≤ right on the bar before (mirrored for below); never on the first bar.

    `strict` asks for left < right on the bar before (backtesting.py's `crossover()`), so touching and
    then moving through does not count.
    """
    lv = np.broadcast_to(np.asarray(left, dtype=np.float64), (n,))
    rv = np.broadcast_to(np.asarray(right, dtype=np.float64), (n,))
    out = np.zeros(n, dtype=np.bool_)
    if n < 2:
        return out
    if above:
        np.greater(lv[1:], rv[1:], out=out[1:])
        out[1:] &= (np.less if strict else np.less_equal)(lv[:-1], rv[:-1])
    else:
        np.less(lv[1:], rv[1:], out=out[1:])
        out[1:] &= (np.greater if strict else np.greater_equal)(lv[:-1], rv[:-1])
    return out


def _condition_mask(cond: Condition, cols: _Columns, n: int) -> BoolArray:
    if not cond.op.startswith("crosses"):  # a cross compares with the previous base bar: not on HTF bars
        on_higher = cols.higher_pair(cond)
        if on_higher is not None:
            left, right, index = on_higher
            return higher.align_mask(_compare(cond.op, left, right), index)
    left, right = cols.values(cond.left), cols.values(cond.right)
    if cond.op.startswith("crosses"):
        with np.errstate(invalid="ignore"):
            mask = _crosses(left, right, n, above=cond.op == "crosses_above", strict=cols.strict)
    else:
        mask = _compare(cond.op, left, right)
    return np.broadcast_to(mask, (n,))


def _compare(op: str, left: F64 | float, right: F64 | float) -> BoolArray:
    """`left op right` elementwise for gt, lt, ge, le (NaN compares False)."""
    with np.errstate(invalid="ignore"):
        if op == "gt":
            return np.greater(left, right)
        if op == "lt":
            return np.less(left, right)
        if op == "ge":
            return np.greater_equal(left, right)
        return np.less_equal(left, right)


def _group_mask(group: Group, cols: _Columns, n: int) -> BoolArray:
    out: BoolArray | None = None
    for item in group.items:
        mask = _group_mask(item, cols, n) if isinstance(item, Group) else _condition_mask(item, cols, n)
        if out is None:
            out = mask.copy()
        elif group.kind == "all":
            out &= mask
        else:
            out |= mask
    assert out is not None  # validated groups are never empty
    return out


def evaluate(strategy: Strategy, series: CandleSeries, cache: MutableMapping[Any, Outputs] | None = None) -> Signals:
    """Signals for every bar of `series` (vectorised over whole columns).

    `cache` (optional) keeps indicator outputs between calls on the same `series`, e.g. across the points of a
    parameter sweep; the caller owns it and must not reuse it for other data.
    """
    problems = check_timeframes(strategy, series.timeframe)
    if problems:
        raise StrategyInvalid(problems)
    n = len(series)
    cols = _Columns(series, iter_vars(strategy), cache, strict=strategy.crossover == "strict")
    masks = {}
    for side in SIDES:
        group = strategy.rule(side)
        masks[side] = np.zeros(n, dtype=np.bool_) if group is None else _group_mask(group, cols, n)
    adds = None if strategy.scale_in is None else _group_mask(strategy.scale_in.when, cols, n)
    position = None
    if uses_position(strategy):
        position = compile_position_rules(rule_groups(strategy), n, lambda c: _condition_mask(c, cols, n),
                                          cols.values)
    return Signals(**masks, scale_in=adds, scale_rule=strategy.scale_in, position=position)


def indicator_columns(strategy: Strategy, series: CandleSeries) -> dict[str, F64]:
    """Each variable operand's values keyed by a readable label (`sma(10)`, `macd(12,26,9).signal`)."""
    cols = _Columns(series, iter_vars(strategy))
    return {label(var): np.asarray(cols.values(var), dtype=np.float64) for var in iter_vars(strategy)}


def label(var: Var) -> str:
    """A variable's column label: `sma(10)`, `macd(12,26,9).macd`, `close@1h`."""
    if var.field is None and var.var not in FIELDS and len(CATALOG[var.var].outputs) > 1:
        base = Var(var.var, var.params).label
        tail = f"@{var.timeframe}" if var.timeframe else ""
        return f"{base}.{CATALOG[var.var].outputs[0]}{tail}"
    return var.label


def warmup_bars(strategy: Strategy, base: Timeframe | None = None) -> int:
    """Bars before every operand has a value (one more where a cross needs the previous bar too).

    A higher-timeframe operand needs its indicator's warm-up in HTF bars plus the first of them to close:
    `(warmup + 1) × ratio` base bars at most (with `base` unknown, 1-minute bars are assumed: an upper bound).
    """
    longest = 0
    for group in (strategy.rule(side) for side in SIDES):
        for cond in iter_conditions(group):
            extra = 1 if cond.op.startswith("crosses") else 0
            for operand in (cond.left, cond.right):
                for leaf in leaves(operand):
                    if isinstance(leaf, Var):
                        longest = max(longest, var_warmup(leaf, base) + extra)
    return longest


def htf_warmup(var: Var, series: CandleSeries) -> int:
    """On this data, the index of the first bar where a higher-timeframe `var` has a value (len when none)."""
    assert var.timeframe is not None
    own = int(CATALOG[var.var].warmup(dict(var.params))) if var.var not in FIELDS else 0
    return higher.first_with(series, Timeframe(var.timeframe), own)


def var_warmup(var: Var, base: Timeframe | None = None) -> int:
    """Index of the first base bar where `var` can have a value (an upper bound for a higher timeframe)."""
    own = int(CATALOG[var.var].warmup(dict(var.params))) if var.var not in FIELDS else 0
    if var.timeframe is None:
        return own
    ratio = higher.ratio(base or Timeframe.M1, Timeframe(var.timeframe))
    return (own + 1) * ratio - 1
