"""Versioned JSON for strategies: text → dict → Strategy and back, in the exact documented shape."""

from __future__ import annotations

import json
from typing import Any

from domain.indicators import CATALOG
from domain.strategy.model import Arith, Condition, Const, Group, Operand, Position, Strategy
from domain.strategy.risk import Distance, Risk, TakeProfitLevel
from domain.strategy.validation import StrategyInvalid, ValidationIssue, parse_strategy


def strategy_to_dict(strategy: Strategy) -> dict[str, Any]:
    """The JSON-ready schema-2 dict (schema, name, direction, crossover, the four rules, risk, scale_in)."""
    out: dict[str, Any] = {"schema": strategy.schema, "name": strategy.name, "direction": strategy.direction,
                           "crossover": strategy.crossover}
    for side in ("entry_long", "entry_short", "exit_long", "exit_short"):
        group = getattr(strategy, side)
        out[side] = None if group is None else _group(group)
    out["risk"] = _risk(strategy.risk)
    s = strategy.scale_in
    if s is not None:
        out["scale_in"] = {"when": _group(s.when), "size_pct": _num(s.size_pct), "max_adds": s.max_adds,
                           "min_bars_between": s.min_bars_between}
    return out


def migrate(doc: Any) -> dict[str, Any]:
    """A valid definition of any readable schema as the schema-2 dict (notes and tags kept)."""
    strategy = parse_strategy(doc)
    out = strategy_to_dict(strategy)
    out.update({k: doc[k] for k in ("notes", "tags") if doc.get(k) not in (None, "", [])})
    return out


def dumps_strategy(strategy: Strategy, **meta: Any) -> str:
    """Pretty JSON text; `meta` (notes, tags) is appended after the rule when given."""
    doc = strategy_to_dict(strategy)
    doc.update({k: v for k, v in meta.items() if v not in (None, "", [], ())})
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def loads_json(text: str | bytes) -> Any:
    """Decode JSON text; malformed input raises StrategyInvalid naming line and column."""
    try:
        return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as err:
        raise StrategyInvalid([ValidationIssue(
            "", f"malformed JSON at line {err.lineno}, column {err.colno}: {err.msg}")]) from None
    except RecursionError:
        raise StrategyInvalid([ValidationIssue("", "JSON nests too deeply to be a strategy")]) from None
    except DuplicateKey as err:
        raise StrategyInvalid([ValidationIssue("", str(err))]) from None
    except (UnicodeDecodeError, ValueError) as err:
        raise StrategyInvalid([ValidationIssue("", f"not JSON text: {err}")]) from None


def loads_strategy(text: str | bytes) -> Strategy:
    """Parse and validate one strategy from JSON text; raises StrategyInvalid listing every problem."""
    return parse_strategy(loads_json(text))


class DuplicateKey(ValueError):
    """A JSON object names the same key twice: which value was meant cannot be known."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKey(f"the key {key!r} appears twice in one object; keep one")
        out[key] = value
    return out


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def _group(group: Group) -> dict[str, Any]:
    return {group.kind: [_group(i) if isinstance(i, Group) else _condition(i) for i in group.items]}


def _condition(c: Condition) -> dict[str, Any]:
    return {"left": _operand(c.left), "op": c.op, "right": _operand(c.right)}


def _operand(o: Operand) -> dict[str, Any]:
    if isinstance(o, Const):
        return {"const": _num(o.value)}
    if isinstance(o, Arith):
        return {o.op: [_operand(o.left), _operand(o.right)]}
    if isinstance(o, Position):
        return {"var": o.var}
    out: dict[str, Any] = {"var": o.var}
    if o.params:  # price fields take none: `{"var": "close"}`
        out["params"] = {k: _num(v) for k, v in o.params}
    outputs = CATALOG[o.var].outputs
    if len(outputs) > 1:  # name the output of multi-output indicators even when it is the default
        out["field"] = o.field or outputs[0]
    if o.timeframe:
        out["timeframe"] = o.timeframe
    return out


def _risk(r: Risk) -> dict[str, Any]:
    levels = r.take_profit
    tp: Any = None
    if len(levels) == 1 and levels[0].close_pct == 100.0:
        tp = _distance(levels[0].distance)
    elif levels:
        tp = [_level(lv) for lv in levels]
    trail = r.trailing_stop
    return {"position_size_pct": _num(r.position_size_pct),
            "stop_loss": None if r.stop_loss is None else _distance(r.stop_loss), "take_profit": tp,
            "trailing_stop": None if trail is None else {**_distance(trail.distance), "anchor": trail.anchor}}


def _distance(d: Distance) -> dict[str, Any]:
    return {"pct": _num(d.value)} if d.kind == "pct" else {"atr": {"period": d.period, "mult": _num(d.value)}}


def _level(level: TakeProfitLevel) -> dict[str, Any]:
    return {**_distance(level.distance), "close_pct": _num(level.close_pct)}


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() and abs(x) < 2**53 else float(x)



