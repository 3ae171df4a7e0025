"""Fast below slow: of two swept periods of one indicator kind, run only points where the first is below the second."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.sweep.paths import PathError, resolve_slot
from domain.sweep.space import Axis, Coords, SweepSpace

_FAST_SLOW = ("fast", "slow")  # one indicator's own fast and slow parameters (MACD)


# EMA 18 against EMA 18 never crosses, and EMA 30 against EMA 10 is EMA 10 against EMA 30 mirrored: neither
# point is worth a backtest.
@dataclass(frozen=True, slots=True)
class Below:
    """Axis `low` must take a smaller value than axis `high` at every point that runs."""

    low: int
    high: int
    label: str  # what is compared, e.g. "ema.period"

    def holds(self, params: Sequence[float]) -> bool:
        return params[self.low] < params[self.high]


def _param(definition: Mapping[str, Any], axis: Axis) -> tuple[str, str] | None:
    """(indicator var, parameter name) of an axis over an indicator parameter, else None."""
    try:
        label = resolve_slot(definition, axis.paths[0]).label
    except PathError:
        return None
    parts = axis.paths[0].split(".")
    if len(parts) < 2 or parts[-2] != "params":
        return None
    var, _, name = label.partition(".")
    return (var, name) if name else None


def fast_below_slow(definition: Mapping[str, Any], axes: Sequence[Axis]) -> tuple[Below, ...]:
    """The ordering rules among `axes`: two axes over the same period parameter of the same indicator kind
    (the earlier `--param` is the fast one), and an indicator's own `fast` and `slow` parameters."""
    params = [_param(definition, a) for a in axes]
    rules = []
    for i, a in enumerate(params):
        for j in range(i + 1, len(params)):
            b = params[j]
            if a is None or b is None or a[0] != b[0]:
                continue
            if a[1] == b[1] and "period" in a[1]:
                rules.append(Below(i, j, f"{a[0]}.{a[1]}"))
            elif {a[1], b[1]} == set(_FAST_SLOW):
                low, high = (i, j) if a[1] == "fast" else (j, i)
                rules.append(Below(low, high, f"{a[0]}.fast/slow"))
    return tuple(rules)


def keep_ordered(space: SweepSpace, coords: Sequence[Coords], rules: Sequence[Below]) -> list[Coords]:
    """The points that satisfy every rule (the others are skipped, never run)."""
    return [c for c in coords if all(r.holds(space.params(c)) for r in rules)]
