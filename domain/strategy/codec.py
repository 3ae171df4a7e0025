"""Versioned JSON for strategies: text → dict → Strategy and back, in the exact documented shape."""

from __future__ import annotations

import json
from typing import Any

from domain.indicators import CATALOG
from domain.strategy.model import Condition, Const, Group, Operand, Strategy
from domain.strategy.validation import StrategyInvalid, ValidationIssue, parse_strategy


def strategy_to_dict(strategy: Strategy) -> dict[str, Any]:
    """The JSON-ready dict (schema, name, direction, the four rules, risk), as the builder edits it."""
    out: dict[str, Any] = {"schema": strategy.schema, "name": strategy.name, "direction": strategy.direction}
    if strategy.crossover != "inclusive":
        out["crossover"] = strategy.crossover
    for side in ("entry_long", "entry_short", "exit_long", "exit_short"):
        group = getattr(strategy, side)
        out[side] = None if group is None else _group(group)
    r = strategy.risk
    out["risk"] = {"position_size_pct": _num(r.position_size_pct), "stop_loss_pct": _opt(r.stop_loss_pct),
                   "take_profit_pct": _opt(r.take_profit_pct), "trailing_stop_pct": _opt(r.trailing_stop_pct)}
    return out


def dumps_strategy(strategy: Strategy, **meta: Any) -> str:
    """Pretty JSON text; `meta` (notes, tags) is appended after the rule when given."""
    doc = strategy_to_dict(strategy)
    doc.update({k: v for k, v in meta.items() if v not in (None, "", [], ())})
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def loads_json(text: str | bytes) -> Any:
    """Decode JSON text; malformed input raises StrategyInvalid naming line and column."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        raise StrategyInvalid([ValidationIssue(
            "", f"malformed JSON at line {err.lineno}, column {err.colno}: {err.msg}")]) from None
    except RecursionError:
        raise StrategyInvalid([ValidationIssue("", "JSON nests too deeply to be a strategy")]) from None
    except (UnicodeDecodeError, ValueError) as err:
        raise StrategyInvalid([ValidationIssue("", f"not JSON text: {err}")]) from None


def loads_strategy(text: str | bytes) -> Strategy:
    """Parse and validate one strategy from JSON text; raises StrategyInvalid listing every problem."""
    return parse_strategy(loads_json(text))


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def _group(group: Group) -> dict[str, Any]:
    return {group.kind: [_group(i) if isinstance(i, Group) else _condition(i) for i in group.items]}


def _condition(c: Condition) -> dict[str, Any]:
    return {"left": _operand(c.left), "op": c.op, "right": _operand(c.right)}


def _operand(o: Operand) -> dict[str, Any]:
    if isinstance(o, Const):
        return {"const": _num(o.value)}
    out: dict[str, Any] = {"var": o.var}
    if o.params:  # price fields take none: `{"var": "close"}`
        out["params"] = {k: _num(v) for k, v in o.params}
    outputs = CATALOG[o.var].outputs
    if len(outputs) > 1:  # name the output of multi-output indicators even when it is the default
        out["field"] = o.field or outputs[0]
    return out


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() and abs(x) < 2**53 else float(x)


def _opt(x: float | None) -> float | int | None:
    return None if x is None else _num(x)



