"""Parse a JSON-shaped dict into a Strategy, collecting every problem with its JSON path."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from domain.market import Timeframe
from domain.strategy.issues import StrategyInvalid, ValidationIssue, is_number, join, kind
from domain.strategy.model import (
    CROSSOVERS,
    DIRECTIONS,
    MAX_DEPTH,
    OPERATORS,
    SCHEMA_VERSION,
    SCHEMAS,
    SIDES,
    Arith,
    Condition,
    Const,
    Crossover,
    Direction,
    Group,
    GroupKind,
    Operand,
    Operator,
    Position,
    Strategy,
    Var,
    rule_groups,
)
from domain.strategy.operands import OperandParser, unit
from domain.strategy.risk import ScaleIn
from domain.strategy.risk_parse import RISK_LIMITS, RiskParser
from domain.strategy.units import comparable

__all__ = ["RISK_LIMITS", "StrategyInvalid", "ValidationIssue", "check_timeframes", "parse_strategy",
           "validate_strategy"]

MAX_NAME = 120
META_KEYS = ("notes", "tags")  # carried by files and the store, not part of the rule itself
TOP_KEYS_V1 = ("schema", "name", "direction", "crossover", *SIDES, "risk", *META_KEYS)
TOP_KEYS = ("schema", "name", "direction", "crossover", *SIDES, "risk", "scale_in", *META_KEYS)
SCALE_KEYS = ("when", "size_pct", "max_adds", "min_bars_between")


def validate_strategy(data: object) -> list[ValidationIssue]:
    """Every problem in `data` (empty when it is a valid definition)."""
    parser = _Parser()
    parser.strategy(data)
    return parser.issues


def parse_strategy(data: object) -> Strategy:
    """The Strategy in `data` (schema 1 is migrated to schema 2); raises StrategyInvalid listing every problem."""
    parser = _Parser()
    result = parser.strategy(data)
    if parser.issues or result is None:
        raise StrategyInvalid(parser.issues or [ValidationIssue("", "not a strategy")])
    return result


def check_timeframes(strategy: Strategy, base: Timeframe) -> list[ValidationIssue]:
    """Problems running `strategy` on `base` bars: each operand timeframe must be a whole multiple of it."""
    out = []
    for path, var in _timeframe_vars(strategy):
        tf = Timeframe(var.timeframe)
        if tf.ms < base.ms or tf.ms % base.ms or (tf is Timeframe.W1 and base.ms > 86_400_000):
            out.append(ValidationIssue(join(path, "timeframe"), f"{tf.code} is not a whole multiple of the data's "
                                       f"{base.code} bars; use {base.code} or a longer timeframe made of them"))
    return out


def _timeframe_vars(strategy: Strategy) -> list[tuple[str, Var]]:
    groups = [(s, strategy.rule(s)) for s in SIDES] + [("scale_in.when", rule_groups(strategy)[-1])]
    out: list[tuple[str, Var]] = []
    for root, group in groups:
        stack: list[tuple[str, object]] = [(root, group)] if group is not None else []
        while stack:
            path, item = stack.pop()
            if isinstance(item, Group):
                stack += [(f"{path}.{item.kind}[{i}]", x) for i, x in enumerate(item.items)]
            elif isinstance(item, Condition):
                stack += [(f"{path}.left", item.left), (f"{path}.right", item.right)]
            elif isinstance(item, Arith):
                stack += [(f"{path}.{item.op}[0]", item.left), (f"{path}.{item.op}[1]", item.right)]
            elif isinstance(item, Var) and item.timeframe:
                out.append((path, item))
    return sorted(out, key=lambda pv: pv[0])


class _Parser(OperandParser, RiskParser):
    def strategy(self, data: object) -> Strategy | None:
        if not isinstance(data, Mapping):
            self.err("", f"must be an object, not {kind(data)}")
            return None
        schema = data.get("schema")
        if "schema" not in data:
            self.err("schema", f"missing; this QuantDesk reads schema {SCHEMA_VERSION} (and migrates 1)")
        elif not is_number(schema) or schema not in SCHEMAS:
            self.err("schema", f"unknown schema version {schema!r}; this QuantDesk reads "
                     f"{' and '.join(map(str, SCHEMAS))}")
            return None  # another version's fields cannot be judged by this version's rules
        self.schema = 1 if schema == 1 else SCHEMA_VERSION
        doc = self.obj(data, "", TOP_KEYS_V1 if self.schema == 1 else TOP_KEYS)
        assert doc is not None
        name = self.name(doc.get("name"))
        direction = self.direction(doc.get("direction"))
        crossover = self.crossover(doc.get("crossover", "inclusive"))
        rules = {side: self.side(doc, side, direction) for side in SIDES}
        risk = self.risk_v1(doc.get("risk", {})) if self.schema == 1 else self.risk_v2(doc.get("risk", {}))
        scale_in = self.scale_in(doc.get("scale_in"))
        self.meta(doc)
        if self.issues or name is None or direction is None or risk is None or crossover is None:
            return None
        return Strategy(SCHEMA_VERSION, name, direction, rules["entry_long"], rules["entry_short"],
                        rules["exit_long"], rules["exit_short"], risk, crossover, scale_in)

    def scale_in(self, value: object) -> ScaleIn | None:
        if value is None:
            return None
        doc = self.obj(value, "scale_in", SCALE_KEYS)
        if doc is None:
            return None
        for key in SCALE_KEYS[:3]:
            if key not in doc:
                self.err(f"scale_in.{key}", "missing")
        self.position_ok = True
        when = self.group(doc["when"], "scale_in.when", 1) if "when" in doc else None
        self.position_ok = False
        size = self.number(doc.get("size_pct"), "scale_in.size_pct", 0.0, 1000.0) if "size_pct" in doc else None
        adds = self.integer(doc.get("max_adds"), "scale_in.max_adds", 1, 100) if "max_adds" in doc else None
        gap = self.integer(doc.get("min_bars_between", 1), "scale_in.min_bars_between", 0, 1_000_000)
        if when is None or size is None or adds is None or gap is None:
            return None
        return ScaleIn(when, size, adds, gap)

    def name(self, value: object) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.err("name", f"must be a non-empty string, not {kind(value)}" if not isinstance(value, str)
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
        self.position_ok = side.startswith("exit")
        group = self.group(value, side, 1)
        self.position_ok = False
        return group

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
        group_kind = next(iter(doc))
        items_path = f"{path}.{group_kind}"
        items = doc[group_kind]
        if not isinstance(items, list):
            self.err(items_path, f"must be a list of conditions, not {kind(items)}")
            return None
        if not items:
            self.err(items_path, "must hold at least one condition")
            return None
        parsed = [self.item(item, f"{items_path}[{i}]", depth) for i, item in enumerate(items)]
        if any(p is None for p in parsed):
            return None
        return Group(cast(GroupKind, group_kind), tuple(p for p in parsed if p is not None))

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
                self.err(join(path, key), "missing")
        left = self.operand(doc["left"], join(path, "left")) if "left" in doc else None
        op = doc.get("op")
        if "op" in doc and op not in OPERATORS:
            self.err(join(path, "op"), f"must be one of {', '.join(OPERATORS)}, not {op!r}")
        right = self.operand(doc["right"], join(path, "right")) if "right" in doc else None
        if left is None or right is None or op not in OPERATORS:
            return None
        if (isinstance(left, Position) or isinstance(right, Position)) and op.startswith("crosses"):
            self.err(join(path, "op"), "a position value is compared with gt, lt, ge or le, not crossed")
            return None
        reason = self.incomparable(left, right)
        if reason:
            self.err(path, reason)
            return None
        return Condition(left, cast(Operator, op), right)

    def incomparable(self, left: Operand, right: Operand) -> str | None:
        if isinstance(left, Const) and isinstance(right, Const):
            return "compares two constants; at least one side must be a variable"
        lu, ru = unit(left), unit(right)
        if lu is not None and ru is not None:
            return comparable(lu, ru)
        return None

    def meta(self, doc: Mapping[str, Any]) -> None:
        notes = doc.get("notes")
        if notes is not None and not isinstance(notes, str):
            self.err("notes", f"must be a string, not {kind(notes)}")
        tags = doc.get("tags")
        if tags is not None and (not isinstance(tags, list) or not all(isinstance(t, str) for t in tags)):
            self.err("tags", "must be a list of strings")


