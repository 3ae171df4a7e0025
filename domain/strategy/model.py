"""Strategy entity: condition trees over operands (indicators, arithmetic, position), direction and risk."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

from domain.strategy.risk import Risk, ScaleIn

SCHEMA_VERSION = 2
SCHEMAS = (1, 2)  # readable; schema 1 is migrated on read
DIRECTIONS = ("long_only", "short_only", "long_short")
OPERATORS = ("gt", "lt", "ge", "le", "crosses_above", "crosses_below")
SIDES = ("entry_long", "exit_long", "entry_short", "exit_short")
MAX_DEPTH = 8
MAX_ARITH_DEPTH = 4  # nested add/sub/mul/div operands
ARITH_OPS = ("add", "sub", "mul", "div")
POSITION_VARS = ("position_return_pct", "bars_in_position")
CROSSOVERS = ("inclusive", "strict")

Direction: TypeAlias = Literal["long_only", "short_only", "long_short"]
Operator: TypeAlias = Literal["gt", "lt", "ge", "le", "crosses_above", "crosses_below"]
GroupKind: TypeAlias = Literal["all", "any"]
Crossover: TypeAlias = Literal["inclusive", "strict"]
ArithOp: TypeAlias = Literal["add", "sub", "mul", "div"]


@dataclass(frozen=True, slots=True)
class Var:
    """An indicator (or price field) output. `params` holds every parameter, catalog order, defaults filled."""

    var: str
    params: tuple[tuple[str, float], ...] = ()
    field: str | None = None
    timeframe: str | None = None  # a higher timeframe's code ("1h"): values of its closed bars only

    @property
    def key(self) -> tuple[str, tuple[tuple[str, float], ...], str | None]:
        """Identity of the computation (one compute serves every field)."""
        return (self.var, self.params, self.timeframe)

    @property
    def label(self) -> str:
        """Readable label for previews: `sma(10)`, `macd(12,26,9).signal`, `close`, `sma(50)@1h`."""
        args = ",".join(_fmt(v) for _, v in self.params)
        base = f"{self.var}({args})" if self.params else self.var
        base = f"{base}.{self.field}" if self.field else base
        return f"{base}@{self.timeframe}" if self.timeframe else base


@dataclass(frozen=True, slots=True)
class Const:
    """A fixed number on one side of a comparison."""

    value: float

    @property
    def label(self) -> str:
        return _fmt(self.value)


@dataclass(frozen=True, slots=True)
class Position:
    """A property of the open position: `position_return_pct` (NaN when flat) or `bars_in_position`."""

    var: str

    @property
    def label(self) -> str:
        return self.var


@dataclass(frozen=True, slots=True)
class Arith:
    """`left op right` as a number (`add sub mul div`); division by zero gives NaN, which compares False."""

    op: ArithOp
    left: Operand
    right: Operand

    @property
    def label(self) -> str:
        sign = {"add": "+", "sub": "-", "mul": "*", "div": "/"}[self.op]
        return f"({self.left.label} {sign} {self.right.label})"


Operand: TypeAlias = Var | Const | Position | Arith


@dataclass(frozen=True, slots=True)
class Condition:
    """`left op right`, evaluated on each bar's close."""

    left: Operand
    op: Operator
    right: Operand


@dataclass(frozen=True, slots=True)
class Group:
    """All (AND) or any (OR) of its items; items are conditions or nested groups."""

    kind: GroupKind
    items: tuple[Condition | Group, ...]


@dataclass(frozen=True, slots=True)
class Strategy:
    """A validated strategy definition (build with `parse_strategy`)."""

    schema: int
    name: str
    direction: Direction
    entry_long: Group | None
    entry_short: Group | None
    exit_long: Group | None
    exit_short: Group | None
    risk: Risk
    crossover: Crossover = "inclusive"  # inclusive: previous bar <=, now > (ta.crossover); strict: previous <
    scale_in: ScaleIn | None = None

    @property
    def trades_long(self) -> bool:
        return self.direction in ("long_only", "long_short")

    @property
    def trades_short(self) -> bool:
        return self.direction in ("short_only", "long_short")

    def rule(self, side: str) -> Group | None:
        """The group for `side` if that side is enabled by `direction`, else None."""
        enabled = self.trades_long if side.endswith("long") else self.trades_short
        group: Group | None = getattr(self, side)
        return group if enabled else None


def iter_conditions(group: Group | None) -> list[Condition]:
    """Every condition in a group, depth first."""
    out: list[Condition] = []
    stack: list[Condition | Group] = [group] if group is not None else []
    while stack:
        item = stack.pop()
        if isinstance(item, Group):
            stack.extend(reversed(item.items))
        else:
            out.append(item)
    return out


def rule_groups(strategy: Strategy) -> list[Group | None]:
    """The four side rules (disabled sides as None) and the scale-in rule, in evaluation order."""
    return [*(strategy.rule(side) for side in SIDES), strategy.scale_in.when if strategy.scale_in else None]


def leaves(operand: Operand) -> list[Operand]:
    """The variables, positions and constants inside an operand (itself when it is not arithmetic)."""
    if isinstance(operand, Arith):
        return [*leaves(operand.left), *leaves(operand.right)]
    return [operand]


def iter_operands(strategy: Strategy) -> list[Operand]:
    """Every top-level operand of the enabled rules (scale-in included), depth first."""
    return [o for g in rule_groups(strategy) for c in iter_conditions(g) for o in (c.left, c.right)]


def iter_vars(strategy: Strategy) -> list[Var]:
    """Distinct variable operands of the enabled rules (inside arithmetic too), in first-use order."""
    seen: dict[Var, None] = {}
    for operand in iter_operands(strategy):
        for leaf in leaves(operand):
            if isinstance(leaf, Var):
                seen.setdefault(leaf, None)
    return list(seen)


def uses_position(strategy: Strategy) -> bool:
    """True when some rule reads the open position (its operands then need the engine's state)."""
    return any(isinstance(leaf, Position) for o in iter_operands(strategy) for leaf in leaves(o))


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
