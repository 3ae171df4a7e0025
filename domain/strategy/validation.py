"""Parse a JSON-shaped dict into a Strategy, collecting every problem with its JSON path."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from domain.indicators import CATALOG, Indicator, check_params
from domain.strategy.model import (
    CROSSOVERS,
    DIRECTIONS,
    MAX_DEPTH,
    OPERATORS,
    SCHEMA_VERSION,
    SIDES,
    Condition,
    Const,
    Crossover,
    Direction,
    Group,
    GroupKind,
    Operand,
    Operator,
    Risk,
    Strategy,
    Var,
)
from domain.strategy.units import comparable

MAX_NAME = 120
META_KEYS = ("notes", "tags")  # carried by files and the store, not part of the rule itself
TOP_KEYS = ("schema", "name", "direction", "crossover", *SIDES, "risk", *META_KEYS)
RISK_LIMITS = {  # name: (low, high, low inclusive, may be null)
    "position_size_pct": (0.0, 100.0, False, False),
    "stop_loss_pct": (0.0, 100.0, False, True),
    "take_profit_pct": (0.0, 10_000.0, False, True),
    "trailing_stop_pct": (0.0, 100.0, False, True),
}


@dataclass(frozen=True, slots=True)
class ValidationIssue:
    """One problem: where (`entry_long.all[1].right.params.period`) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class StrategyInvalid(ValueError):
    """A definition was rejected; `.errors` lists every problem."""

    def __init__(self, errors: list[ValidationIssue]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


def validate_strategy(data: object) -> list[ValidationIssue]:
    """Every problem in `data` (empty when it is a valid definition)."""
    parser = _Parser()
    parser.strategy(data)
    return parser.issues


def parse_strategy(data: object) -> Strategy:
    """The Strategy in `data`; raises StrategyInvalid listing every problem."""
    parser = _Parser()
    result = parser.strategy(data)
    if parser.issues or result is None:
        raise StrategyInvalid(parser.issues or [ValidationIssue("", "not a strategy")])
    return result


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


class _Parser:
    def __init__(self) -> None:
        self.issues: list[ValidationIssue] = []

    def err(self, path: str, message: str) -> None:
        self.issues.append(ValidationIssue(path, message))

    def obj(self, value: object, path: str, keys: tuple[str, ...]) -> Mapping[str, Any] | None:
        if not isinstance(value, Mapping):
            self.err(path, f"must be an object, not {_kind(value)}")
            return None
        for key in value:
            if key not in keys:
                self.err(_join(path, str(key)), f"unknown key; expected one of: {', '.join(keys)}")
        return cast(Mapping[str, Any], value)

    def strategy(self, data: object) -> Strategy | None:
        doc = self.obj(data, "", TOP_KEYS)
        if doc is None:
            return None
        schema = doc.get("schema")
        if "schema" not in doc:
            self.err("schema", f"missing; this QuantDesk reads schema {SCHEMA_VERSION}")
        elif not _is_number(schema) or schema != SCHEMA_VERSION:
            self.err("schema", f"unknown schema version {schema!r}; this QuantDesk reads {SCHEMA_VERSION}")
            return None  # another version's fields cannot be judged by this version's rules
        name = self.name(doc.get("name"))
        direction = self.direction(doc.get("direction"))
        crossover = self.crossover(doc.get("crossover", "inclusive"))
        rules = {side: self.side(doc, side, direction) for side in SIDES}
        risk = self.risk(doc.get("risk", {}))
        self.meta(doc)
        if self.issues or name is None or direction is None or risk is None or crossover is None:
            return None
        return Strategy(SCHEMA_VERSION, name, direction, rules["entry_long"], rules["entry_short"],
                        rules["exit_long"], rules["exit_short"], risk, crossover)

    def name(self, value: object) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.err("name", f"must be a non-empty string, not {_kind(value)}" if not isinstance(value, str)
                     else "must not be empty")
            return None
        if len(value) > MAX_NAME or value != value.strip() or any(ord(c) < 32 for c in value):
            self.err("name", f"must be at most {MAX_NAME} characters, without control characters "
                     "or leading/trailing spaces")
            return None
        return value

    def direction(self, value: object) -> Direction | None:
        if value not in DIRECTIONS:
            self.err("direction", f"must be one of {', '.join(DIRECTIONS)}, not {value!r}")
            return None
        return cast(Direction, value)

    def crossover(self, value: object) -> Crossover | None:
        if value not in CROSSOVERS:
            self.err("crossover", f"must be one of {', '.join(CROSSOVERS)}, not {value!r}")
            return None
        return cast(Crossover, value)

    def side(self, doc: Mapping[str, Any], side: str, direction: Direction | None) -> Group | None:
        value = doc.get(side)
        enabled = direction is not None and (
            direction == "long_short" or direction.startswith(side.rsplit("_", 1)[1]))
        if value is None:
            if side.startswith("entry") and enabled:
                self.err(side, f"an entry rule is required for direction {direction}")
            return None
        return self.group(value, side, 1)

    def group(self, value: object, path: str, depth: int) -> Group | None:
        if depth > MAX_DEPTH:
            self.err(path, f"groups nest deeper than {MAX_DEPTH} levels")
            return None
        doc = self.obj(value, path, ("all", "any"))
        if doc is None:
            return None
        if len(doc) != 1 or next(iter(doc)) not in ("all", "any"):
            if not any(k not in ("all", "any") for k in doc):
                self.err(path, 'a group has exactly one key, "all" or "any"')
            return None
        kind = next(iter(doc))
        items_path = f"{path}.{kind}"
        items = doc[kind]
        if not isinstance(items, list):
            self.err(items_path, f"must be a list of conditions, not {_kind(items)}")
            return None
        if not items:
            self.err(items_path, "must hold at least one condition")
            return None
        parsed = [self.item(item, f"{items_path}[{i}]", depth) for i, item in enumerate(items)]
        if any(p is None for p in parsed):
            return None
        return Group(cast(GroupKind, kind), tuple(p for p in parsed if p is not None))

    def item(self, value: object, path: str, depth: int) -> Condition | Group | None:
        if isinstance(value, Mapping) and ("all" in value or "any" in value):
            return self.group(value, path, depth + 1)
        return self.condition(value, path)

    def condition(self, value: object, path: str) -> Condition | None:
        doc = self.obj(value, path, ("left", "op", "right"))
        if doc is None:
            return None
        for key in ("left", "op", "right"):
            if key not in doc:
                self.err(_join(path, key), "missing")
        left = self.operand(doc["left"], _join(path, "left")) if "left" in doc else None
        op = doc.get("op")
        if "op" in doc and op not in OPERATORS:
            self.err(_join(path, "op"), f"must be one of {', '.join(OPERATORS)}, not {op!r}")
        right = self.operand(doc["right"], _join(path, "right")) if "right" in doc else None
        if left is None or right is None or op not in OPERATORS:
            return None
        reason = self.incomparable(left, right)
        if reason:
            self.err(path, reason)
            return None
        return Condition(left, cast(Operator, op), right)

    def incomparable(self, left: Operand, right: Operand) -> str | None:
        if isinstance(left, Const) and isinstance(right, Const):
            return "compares two constants; at least one side must be a variable"
        if isinstance(left, Var) and isinstance(right, Var):
            return comparable(_unit(left), _unit(right))
        return None

    def operand(self, value: object, path: str) -> Operand | None:
        if isinstance(value, Mapping) and "const" in value:
            doc = self.obj(value, path, ("const",))
            if doc is None or len(doc) != 1:
                return None
            if not _is_number(doc["const"]):
                self.err(_join(path, "const"), f"must be a finite number, not {_kind(doc['const'])}")
                return None
            return Const(float(doc["const"]))
        doc = self.obj(value, path, ("var", "params", "field", "const"))
        if doc is None:
            return None
        if "var" not in doc:
            self.err(path, 'an operand is {"var": NAME, "params": {...}} or {"const": NUMBER}')
            return None
        return self.var(doc, path)

    def var(self, doc: Mapping[str, Any], path: str) -> Var | None:
        name = doc["var"]
        if not isinstance(name, str) or name not in CATALOG:
            self.err(_join(path, "var"), f"unknown variable {name!r}; known: {', '.join(sorted(CATALOG))}")
            return None
        indicator = CATALOG[name]
        params = self.params(indicator, doc.get("params", {}), _join(path, "params"))
        field = doc.get("field")
        if field is not None and (not isinstance(field, str) or field not in indicator.outputs):
            self.err(_join(path, "field"), f"{name} has no output {field!r}; outputs: "
                     f"{', '.join(indicator.outputs)}")
            return None
        if params is None:
            return None
        return Var(name, params, field if field != indicator.outputs[0] else None)

    def params(self, indicator: Indicator, value: object, path: str) -> tuple[tuple[str, float], ...] | None:
        if not isinstance(value, Mapping | None):
            self.err(path, f"must be an object, not {_kind(value)}")
            return None
        doc: Mapping[str, Any] = value or {}
        problems = check_params(indicator, doc)
        for name, message in problems:
            self.err(_join(path, name), message)
        if problems:
            return None
        return tuple((p.name, _param_value(p.kind, doc.get(p.name, p.default))) for p in indicator.params)

    def risk(self, value: object) -> Risk | None:
        doc = self.obj(value, "risk", tuple(RISK_LIMITS))
        if doc is None:
            return None
        values: dict[str, float | None] = {}
        for key, (lo, hi, _, nullable) in RISK_LIMITS.items():
            raw = doc.get(key, 100.0 if key == "position_size_pct" else None)
            if raw is None and nullable:
                values[key] = None
            elif not _is_number(raw) or not lo < raw <= hi:
                null = " or null" if nullable else ""
                self.err(f"risk.{key}", f"must be a number > {_num(lo)} and ≤ {_num(hi)}{null}, not {raw!r}")
            else:
                values[key] = float(raw)
        if any(k not in values for k in RISK_LIMITS):
            return None
        return Risk(**values)  # type: ignore[arg-type]

    def meta(self, doc: Mapping[str, Any]) -> None:
        notes = doc.get("notes")
        if notes is not None and not isinstance(notes, str):
            self.err("notes", f"must be a string, not {_kind(notes)}")
        tags = doc.get("tags")
        if tags is not None and (not isinstance(tags, list) or not all(isinstance(t, str) for t in tags)):
            self.err("tags", "must be a list of strings")


def _unit(v: Var) -> tuple[str, str, str]:
    indicator = CATALOG[v.var]
    field = v.field or indicator.outputs[0]
    label = f"{v.var}.{field}" if len(indicator.outputs) > 1 else v.var
    return (v.var, label, indicator.unit_of(field))


def _param_value(kind: str, raw: object) -> float:
    return int(cast(float, raw)) if kind == "int" else float(cast(float, raw))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _num(x: float | None) -> str:
    return "" if x is None else (str(int(x)) if float(x).is_integer() else str(x))
