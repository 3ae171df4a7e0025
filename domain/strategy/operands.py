"""Operand parsing (schema 1 and 2): variables, constants, arithmetic, position values — with their units."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from domain.indicators import CATALOG, Indicator, check_params
from domain.market import Timeframe
from domain.strategy.issues import Issues, is_number, join, kind
from domain.strategy.model import (
    ARITH_OPS,
    MAX_ARITH_DEPTH,
    POSITION_VARS,
    Arith,
    ArithOp,
    Const,
    Operand,
    Position,
    Var,
)
from domain.strategy.units import SCALE_DEPENDENT, arith_unit

Unit = tuple[str, str, str]  # (variable identity, label, unit class)
POSITION_UNITS = {"position_return_pct": "percent", "bars_in_position": "bars"}
TIMEFRAMES = tuple(t.code for t in Timeframe)


class OperandParser(Issues):
    """Parses one operand; `schema` picks the keys allowed, `position_ok` whether position values may appear."""

    schema: int = 2
    position_ok: bool = False

    def operand(self, value: object, path: str, depth: int = 1) -> Operand | None:
        if isinstance(value, Mapping) and "const" in value:
            doc = self.obj(value, path, ("const",))
            if doc is None or len(doc) != 1:
                return None
            if not is_number(doc["const"]):
                self.err(join(path, "const"), f"must be a finite number, not {kind(doc['const'])}")
                return None
            return Const(float(doc["const"]))
        if self.schema >= 2 and isinstance(value, Mapping) and any(k in value for k in ARITH_OPS):
            return self.arith(value, path, depth)
        keys = ("var", "params", "field", "const") + (("timeframe", *ARITH_OPS) if self.schema >= 2 else ())
        doc = self.obj(value, path, keys)
        if doc is None:
            return None
        if "var" not in doc:
            more = ', {"add": [A, B]} (sub, mul, div)' if self.schema >= 2 else ""
            self.err(path, f'an operand is {{"var": NAME, "params": {{...}}}}, {{"const": NUMBER}}{more}')
            return None
        if self.schema >= 2 and doc["var"] in POSITION_VARS:
            if depth > 1:
                self.err(join(path, "var"), f"{doc['var']} is compared directly, not inside arithmetic")
                return None
            return self.position(doc, path)
        return self.var(doc, path)

    def arith(self, value: Mapping[str, Any], path: str, depth: int) -> Operand | None:
        doc = self.obj(value, path, ARITH_OPS)
        if doc is None:
            return None
        if len(doc) != 1:
            if all(k in ARITH_OPS for k in doc):
                self.err(path, "an arithmetic operand has exactly one key: add, sub, mul or div")
            return None
        if depth > MAX_ARITH_DEPTH:
            self.err(path, f"arithmetic nests deeper than {MAX_ARITH_DEPTH} levels")
            return None
        op = next(iter(doc))
        args = doc[op]
        if not isinstance(args, list) or len(args) != 2:
            self.err(join(path, op), f"must be a list of two operands [A, B], not {kind(args)}"
                     + (f" of {len(args)}" if isinstance(args, list) else ""))
            return None
        left = self.operand(args[0], f"{join(path, op)}[0]", depth + 1)
        right = self.operand(args[1], f"{join(path, op)}[1]", depth + 1)
        if left is None or right is None:
            return None
        result = Arith(cast(ArithOp, op), left, right)
        _, reason = arith_unit(op, unit(left), unit(right))
        if reason:
            self.err(path, reason)
            return None
        return result

    def position(self, doc: Mapping[str, Any], path: str) -> Position | None:
        extra = [k for k in doc if k != "var"]
        if extra:
            self.err(join(path, extra[0]), f"{doc['var']} takes no {extra[0]}")
            return None
        if not self.position_ok:
            self.err(join(path, "var"), f"{doc['var']} reads the open position: use it in exit rules or "
                     "scale_in.when, not in entries")
            return None
        return Position(str(doc["var"]))

    def var(self, doc: Mapping[str, Any], path: str) -> Var | None:
        name = doc["var"]
        if not isinstance(name, str) or name not in CATALOG:
            known = sorted(CATALOG) + (list(POSITION_VARS) if self.schema >= 2 else [])
            self.err(join(path, "var"), f"unknown variable {name!r}; known: {', '.join(known)}")
            return None
        indicator = CATALOG[name]
        params = self.params(indicator, doc.get("params", {}), join(path, "params"))
        field = doc.get("field")
        if field is not None and (not isinstance(field, str) or field not in indicator.outputs):
            self.err(join(path, "field"), f"{name} has no output {field!r}; outputs: "
                     f"{', '.join(indicator.outputs)}")
            return None
        timeframe = doc.get("timeframe")
        if timeframe is not None and timeframe not in TIMEFRAMES:
            self.err(join(path, "timeframe"), f"must be one of {', '.join(TIMEFRAMES)}, not {timeframe!r}")
            return None
        if params is None:
            return None
        return Var(name, params, field if field != indicator.outputs[0] else None, timeframe)

    def params(self, indicator: Indicator, value: object, path: str) -> tuple[tuple[str, float], ...] | None:
        if not isinstance(value, Mapping | None):
            self.err(path, f"must be an object, not {kind(value)}")
            return None
        doc: Mapping[str, Any] = value or {}
        problems = check_params(indicator, doc)
        for name, message in problems:
            self.err(join(path, name), message)
        if problems:
            return None
        return tuple((p.name, _param_value(p.kind, doc.get(p.name, p.default))) for p in indicator.params)


def unit(operand: Operand) -> Unit | None:
    """(identity, label, unit class) of an operand; None for a constant (it takes the other side's unit)."""
    if isinstance(operand, Const):
        return None
    if isinstance(operand, Position):
        return (operand.var, operand.var, POSITION_UNITS[operand.var])
    if isinstance(operand, Arith):
        cls, _ = arith_unit(operand.op, unit(operand.left), unit(operand.right))
        names = {u[0] for u in (unit(operand.left), unit(operand.right)) if u is not None}
        ident = names.pop() if len(names) == 1 and cls in SCALE_DEPENDENT else operand.label
        return (ident, operand.label, cls or "unbounded")
    indicator = CATALOG[operand.var]
    field = operand.field or indicator.outputs[0]
    label = f"{operand.var}.{field}" if len(indicator.outputs) > 1 else operand.var
    if operand.timeframe:
        label = f"{label}@{operand.timeframe}"
    return (operand.var, label, indicator.unit_of(field))


def _param_value(kind_: str, raw: object) -> float:
    return int(cast(float, raw)) if kind_ == "int" else float(cast(float, raw))
