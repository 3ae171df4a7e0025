"""Strategy definitions: the entity, versioned JSON, validation, and evaluation into signals."""

from domain.strategy.codec import dumps_strategy, loads_json, loads_strategy, strategy_to_dict
from domain.strategy.evaluation import Signals, evaluate, indicator_columns, warmup_bars
from domain.strategy.incremental import IncrementalEvaluator, SignalRow
from domain.strategy.model import (
    DIRECTIONS,
    MAX_DEPTH,
    OPERATORS,
    SCHEMA_VERSION,
    SIDES,
    Condition,
    Const,
    Direction,
    Group,
    Operand,
    Risk,
    Strategy,
    Var,
    iter_conditions,
    iter_vars,
)
from domain.strategy.units import comparable
from domain.strategy.validation import StrategyInvalid, ValidationIssue, parse_strategy, validate_strategy

__all__ = [
    "DIRECTIONS", "MAX_DEPTH", "OPERATORS", "SCHEMA_VERSION", "SIDES", "Condition", "Const", "Direction",
    "Group", "IncrementalEvaluator", "Operand", "Risk", "SignalRow", "Signals", "Strategy", "StrategyInvalid",
    "ValidationIssue", "Var", "comparable", "dumps_strategy", "evaluate", "indicator_columns", "iter_conditions",
    "iter_vars", "loads_json", "loads_strategy", "parse_strategy", "strategy_to_dict", "validate_strategy",
    "warmup_bars",
]
