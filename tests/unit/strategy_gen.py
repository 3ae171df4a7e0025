"""Hypothesis generators shared by the strategy tests: random valid definitions and random candle series."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from domain.indicators import CATALOG, check_params
from domain.market import CandleSeries, Timeframe
from domain.strategy.units import SCALE_DEPENDENT

OPS = ("gt", "lt", "ge", "le", "crosses_above", "crosses_below")
# Operands grouped by unit class, as (var, field); constants are drawn near each class's typical values.
_BY_UNIT: dict[str, list[tuple[str, str]]] = {}
for _name, _ind in sorted(CATALOG.items()):
    for _field in _ind.outputs:
        _BY_UNIT.setdefault(_ind.unit_of(_field), []).append((_name, _field))
_CONST_RANGE = {"bounded_0_100": (0.0, 100.0), "price": (90.0, 110.0), "volume": (0.0, 20.0),
                "ratio": (-0.5, 1.5), "percent": (-5.0, 5.0)}


@st.composite
def operand_var(draw: st.DrawFn, name: str, field: str) -> dict[str, Any]:
    indicator = CATALOG[name]
    params: dict[str, Any] = {}
    for p in indicator.params:
        hi = min(p.max, p.min + 25)
        params[p.name] = (draw(st.integers(int(p.min), int(hi))) if p.kind == "int"
                          else draw(st.floats(float(p.min), float(min(p.max, p.min + 4)))))
    if check_params(indicator, params):
        params = indicator.defaults()
    out: dict[str, Any] = {"var": name, "params": params}
    if field != indicator.outputs[0] or draw(st.booleans()):
        out["field"] = field
    return out


@st.composite
def condition(draw: st.DrawFn, schema: int = 1) -> dict[str, Any]:
    unit = draw(st.sampled_from(sorted(_BY_UNIT)))
    name, field = draw(st.sampled_from(_BY_UNIT[unit]))
    left = draw(operand_var(name, field))
    if schema >= 2:
        left = draw(v2_operand(left, unit))
        if unit == "price" and draw(st.integers(0, 5)) == 0:  # price / price is a ratio
            ratio = {"div": [left, draw(operand_var(*draw(st.sampled_from(_BY_UNIT["price"]))))]}
            return {"left": ratio, "op": draw(st.sampled_from(OPS)),
                    "right": {"const": draw(st.floats(0.9, 1.1).map(lambda x: round(x, 2)))}}
    if draw(st.booleans()):
        lo, hi = _CONST_RANGE.get(unit, (-2.0, 2.0))
        right: dict[str, Any] = {"const": draw(st.floats(lo, hi).map(lambda x: round(x, 1)))}
    else:
        choices = [c for c in _BY_UNIT[unit] if unit not in SCALE_DEPENDENT or c[0] == name]
        right = draw(operand_var(*draw(st.sampled_from(choices))))
        if schema >= 2:
            right = draw(v2_operand(right, unit))
    if draw(st.booleans()):
        left, right = right, left
    return {"left": left, "op": draw(st.sampled_from(OPS)), "right": right}


@st.composite
def v2_operand(draw: st.DrawFn, operand: dict[str, Any], unit: str) -> dict[str, Any]:
    """`operand` on a higher timeframe of the 1-minute test bars, and/or scaled by a constant (unit kept)."""
    if draw(st.integers(0, 2)) == 0:
        operand = {**operand, "timeframe": draw(st.sampled_from(["3m", "5m"]))}
    if unit not in SCALE_DEPENDENT and draw(st.integers(0, 3)) == 0:
        op = draw(st.sampled_from(["add", "sub", "mul", "div"]))
        const = {"const": draw(st.sampled_from([0.5, 1.0, 1.02, 2.0]))}
        operand = {op: [operand, const]}
    return operand


def group(depth: int = 3, schema: int = 1) -> st.SearchStrategy[dict[str, Any]]:
    item: st.SearchStrategy[dict[str, Any]] = condition(schema)
    if depth > 1:
        item = st.one_of(condition(schema), st.deferred(lambda: group(depth - 1, schema)))
    return st.builds(lambda kind, items: {kind: items}, st.sampled_from(["all", "any"]),
                     st.lists(item, min_size=1, max_size=3))


@st.composite
def strategy_dicts(draw: st.DrawFn, schemas: tuple[int, ...] = (1, 2)) -> dict[str, Any]:
    """A valid definition of one of `schemas` (schema 2 adds timeframes, arithmetic and v2 risk)."""
    direction = draw(st.sampled_from(["long_only", "short_only", "long_short"]))
    schema = draw(st.sampled_from(schemas))
    doc: dict[str, Any] = {"schema": schema, "name": "generated", "direction": direction}
    crossover = draw(st.sampled_from([None, "inclusive", "strict"]))
    if crossover is not None:
        doc["crossover"] = crossover
    for side in ("entry_long", "entry_short", "exit_long", "exit_short"):
        required = side.startswith("entry") and (direction == "long_short" or side.endswith(direction.split("_")[0]))
        doc[side] = draw(group(schema=schema)) if required or draw(st.booleans()) else None
    doc["risk"] = draw(risk_v1() if schema == 1 else risk_v2())
    return doc


def _pct(hi: float) -> st.SearchStrategy[float | None]:
    return st.one_of(st.none(), st.floats(0.1, hi).map(lambda x: round(x, 2)))


@st.composite
def risk_v1(draw: st.DrawFn) -> dict[str, Any]:
    return {"position_size_pct": draw(st.sampled_from([100, 50, 25.5])), "stop_loss_pct": draw(_pct(20)),
            "take_profit_pct": draw(_pct(50)), "trailing_stop_pct": draw(_pct(20))}


@st.composite
def distance(draw: st.DrawFn, hi: float) -> dict[str, Any]:
    if draw(st.booleans()):
        return {"pct": draw(st.floats(0.1, hi).map(lambda x: round(x, 2)))}
    return {"atr": {"period": draw(st.integers(1, 30)), "mult": draw(st.floats(0.5, 5).map(lambda x: round(x, 2)))}}


@st.composite
def risk_v2(draw: st.DrawFn) -> dict[str, Any]:
    stop = draw(st.one_of(st.none(), distance(20)))
    levels = draw(st.integers(0, 3))
    tp: Any = None
    if levels == 1:
        tp = draw(distance(50))
    elif levels > 1:
        shares = [100 // levels] * (levels - 1)
        tp = [{**draw(distance(50)), "close_pct": share} for share in [*shares, 100 - sum(shares)]]
    trail = draw(st.one_of(st.none(), distance(20)))
    if trail is not None:
        trail["anchor"] = draw(st.sampled_from(["extreme", "close"]))
    return {"position_size_pct": draw(st.sampled_from([100, 50, 25.5])), "stop_loss": stop, "take_profit": tp,
            "trailing_stop": trail}


@st.composite
def series(draw: st.DrawFn, min_size: int = 1, max_size: int = 120) -> CandleSeries:
    """A random walk; prices on a 0.5 grid so ties (and touch-then-cross) happen often."""
    n = draw(st.integers(min_size, max_size))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    close = np.round((100 + np.cumsum(rng.normal(0, 1, n))) * 2) / 2
    open_ = np.concatenate([[close[0]], close[:-1]])
    high = np.maximum(open_, close) + np.round(rng.uniform(0, 1, n) * 2) / 2
    low = np.minimum(open_, close) - np.round(rng.uniform(0, 1, n) * 2) / 2
    volume = np.round(rng.uniform(0, 20, n))
    ts = np.arange(n, dtype=np.int64) * Timeframe.M1.ms
    return CandleSeries.from_columns(Timeframe.M1, ts, open_, high, low, close, volume)
