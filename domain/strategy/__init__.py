"""Strategy definitions: the entity, versioned JSON, validation, and evaluation into signals."""

from domain.strategy.codec import dumps_strategy, loads_json, loads_strategy, migrate, strategy_to_dict
from domain.strategy.evaluation import Signals, evaluate, indicator_columns, warmup_bars
from domain.strategy.incremental import IncrementalEvaluator, SignalRow
from domain.strategy.model import (
    DIRECTIONS,
    MAX_DEPTH,
    OPERATORS,
    SCHEMA_VERSION,
    SIDES,
    Arith,
    Condition,
    Const,
    Direction,
    Group,
    Operand,
    Position,
    Strategy,
    Var,
    iter_conditions,
    iter_operands,
    iter_vars,
    leaves,
    uses_position,
)
from domain.strategy.risk import Distance, Risk, ScaleIn, TakeProfitLevel, Trailing
from domain.strategy.units import comparable
from domain.strategy.validation import (
    StrategyInvalid,
    ValidationIssue,
    check_timeframes,
    parse_strategy,
    validate_strategy,
)

__all__ = [
    "DIRECTIONS", "MAX_DEPTH", "OPERATORS", "SCHEMA_VERSION", "SIDES", "Arith", "Condition", "Const", "Direction",
    "Distance", "Group", "IncrementalEvaluator", "Operand", "Position", "Risk", "ScaleIn", "SignalRow", "Signals",
    "Strategy", "StrategyInvalid", "TakeProfitLevel", "Trailing", "ValidationIssue", "Var", "check_timeframes",
    "comparable", "dumps_strategy", "evaluate", "indicator_columns", "iter_conditions", "iter_operands",
    "iter_vars", "leaves", "loads_json", "loads_strategy", "migrate", "parse_strategy", "strategy_to_dict",
    "uses_position", "validate_strategy", "warmup_bars",
]
