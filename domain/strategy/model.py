"""Strategy entity: condition trees over indicator operands, direction and the risk block."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

SCHEMA_VERSION = 1
DIRECTIONS = ("long_only", "short_only", "long_short")
OPERATORS = ("gt", "lt", "ge", "le", "crosses_above", "crosses_below")
SIDES = ("entry_long", "exit_long", "entry_short", "exit_short")
MAX_DEPTH = 8
CROSSOVERS = ("inclusive", "strict")

Direction: TypeAlias = Literal["long_only", "short_only", "long_short"]
Operator: TypeAlias = Literal["gt", "lt", "ge", "le", "crosses_above", "crosses_below"]
GroupKind: TypeAlias = Literal["all", "any"]
Crossover: TypeAlias = Literal["inclusive", "strict"]


@dataclass(frozen=True, slots=True)
class Var:
    """An indicator (or price field) output. `params` holds every parameter, catalog order, defaults filled."""

    var: str
    params: tuple[tuple[str, float], ...] = ()
    field: str | None = None

    @property
    def key(self) -> tuple[str, tuple[tuple[str, float], ...]]:
        """Identity of the computation (one compute serves every field)."""
        return (self.var, self.params)

    @property
    def label(self) -> str:
        """Readable label for previews: `sma(10)`, `macd(12,26,9).signal`, `close`."""
        args = ",".join(_fmt(v) for _, v in self.params)
        base = f"{self.var}({args})" if self.params else self.var
        return f"{base}.{self.field}" if self.field else base


@dataclass(frozen=True, slots=True)
class Const:
    """A fixed number on one side of a comparison."""

    value: float

    @property
    def label(self) -> str:
        return _fmt(self.value)


Operand: TypeAlias = Var | Const


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
class Risk:
    """Position sizing and exits applied by the engine; percentages of equity / entry price."""

    position_size_pct: float = 100.0
    stop_loss_pct: float | None = None
    take_profit_pct: float | None = None
    trailing_stop_pct: float | None = None


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


def iter_vars(strategy: Strategy) -> list[Var]:
    """Distinct variable operands of the enabled sides, in first-use order."""
    seen: dict[Var, None] = {}
    for side in SIDES:
        for cond in iter_conditions(strategy.rule(side)):
            for operand in (cond.left, cond.right):
                if isinstance(operand, Var):
                    seen.setdefault(operand, None)
    return list(seen)


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
