"""What a sweep optimises: one statistic to maximise or minimise, and constraints like `# Trades>=30`."""

from __future__ import annotations

import difflib
import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from domain.backtest.stats import STAT_KEYS, meaningless_ratio
from domain.sweep.metrics import BAR_KEYS, BAR_SHARPE

# Statistics a sweep can rank on or constrain (times excluded; durations count in days), backtesting.py's and
# the per-bar objectives of domain.sweep.metrics.
NUMERIC_KEYS = tuple(k for k in STAT_KEYS if k not in ("Start", "End")) + BAR_KEYS
OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt, "==": operator.eq,
    "=": operator.eq, "!=": operator.ne,
}
# Defined on any run whose equity moved, annualised so windows of different lengths compare (see metrics.py).
DEFAULT_OBJECTIVE = BAR_SHARPE
# A point with fewer closed trades never ranks as best: a handful of trades is luck, not a parameter choice.
DEFAULT_MIN_TRADES = 10
_CONSTRAINT = re.compile(r"^\s*(?P<key>[^<>=!]+?)\s*(?P<op>>=|<=|==|!=|=|>|<)\s*(?P<num>[^<>=!]+?)\s*$")


class ObjectiveError(ValueError):
    """An unknown statistic or a malformed constraint; the message names it and lists what is valid."""


def stat_key(text: str, what: str = "statistic") -> str:
    """The exact stats key for `text` (case-insensitive; a missing ` [%]` is forgiven)."""
    wanted = text.strip().lower()
    for key in NUMERIC_KEYS:
        if key.lower() in (wanted, f"{wanted} [%]"):
            return key
    close = difflib.get_close_matches(text.strip(), NUMERIC_KEYS, n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise ObjectiveError(f"unknown {what} {text.strip()!r}{hint} Known: {', '.join(NUMERIC_KEYS)}")


@dataclass(frozen=True, slots=True)
class Objective:
    """The statistic to optimise and its direction."""

    key: str = DEFAULT_OBJECTIVE
    maximize: bool = True

    @classmethod
    def parse(cls, text: str, maximize: bool = True) -> Objective:
        return cls(stat_key(text, "objective"), maximize)

    def score(self, stats: Mapping[str, Any]) -> float:
        """The objective value, NaN when missing, not a number or a ratio over a ~zero volatility (ranked last)."""
        value = stats.get(self.key)
        return math.nan if meaningless_ratio(self.key, value) else as_float(value)

    def better(self, a: float, b: float) -> bool:
        """Whether score `a` beats `b` (NaN never beats anything)."""
        if math.isnan(a):
            return False
        if math.isnan(b):
            return True
        return a > b if self.maximize else a < b

    def sort_key(self, value: float) -> tuple[int, float]:
        """Ascending sort puts the best first and NaN last."""
        if math.isnan(value):
            return (1, 0.0)
        return (0, -value if self.maximize else value)

    def describe(self) -> str:
        return f"{'maximize' if self.maximize else 'minimize'} {self.key}"


@dataclass(frozen=True, slots=True)
class Constraint:
    """`key op bound`; a NaN statistic fails every constraint."""

    key: str
    op: str
    bound: float

    @classmethod
    def parse(cls, text: str) -> Constraint:
        m = _CONSTRAINT.match(text)
        if m is None:
            raise ObjectiveError(f"constraint {text!r}: expected STAT OP NUMBER with OP one of >= <= > < == !=, "
                                 "e.g. '# Trades>=30' or 'Max. Drawdown [%]>=-25'")
        num = m.group("num").strip().rstrip("%").strip()
        try:
            bound = float(num)
        except ValueError:
            raise ObjectiveError(f"constraint {text!r}: {m.group('num').strip()!r} is not a number") from None
        if not math.isfinite(bound):
            raise ObjectiveError(f"constraint {text!r}: the bound must be a finite number")
        key = stat_key(m.group("key"), f"statistic in constraint {text!r}:")
        return cls(key, "==" if m.group("op") == "=" else m.group("op"), bound)

    def holds(self, stats: Mapping[str, Any]) -> bool:
        value = as_float(stats.get(self.key))
        return not math.isnan(value) and OPS[self.op](value, self.bound)

    def __str__(self) -> str:
        return f"{self.key} {self.op} {self.bound:g}"


def as_float(value: Any) -> float:
    """A stats value as a float: numbers as they are, durations in days, anything else NaN."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if hasattr(value, "total_seconds"):
        return float(value.total_seconds()) / 86_400
    return math.nan
