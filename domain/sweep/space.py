"""The parameter space of a sweep: axes of values over strategy paths, grid or seeded random sampling, a cap."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from domain.sweep.paths import PathError, resolve_slot

DEFAULT_CAP = 10_000
Coords = tuple[int, ...]


class SpaceError(ValueError):
    """A range, list or sampling request is unusable; the message names the parameter."""


class TooManyCombinations(SpaceError):
    """The requested points exceed the cap; `.count` is how many there would be."""

    def __init__(self, count: int, cap: int, what: str = "the grid has") -> None:
        super().__init__(f"{what} {count:,} combinations, over the cap of {cap:,}; narrow the ranges, "
                         "sample with --method random --samples N, or raise the cap")
        self.count = count
        self.cap = cap


@dataclass(frozen=True, slots=True)
class Axis:
    """One swept parameter: the path(s) it sets (linked paths move together) and its values in order."""

    paths: tuple[str, ...]
    values: tuple[float, ...]
    kind: str = "float"

    @property
    def name(self) -> str:
        return self.paths[0] if len(self.paths) == 1 else " = ".join(self.paths)

    @property
    def label(self) -> str:
        """A short name for tables: the last two path parts (`params.period` → the var and param)."""
        head = self.paths[0]
        return head if len(head) <= 28 else "…" + head[-27:]


def parse_values(spec: str, kind: str = "float") -> tuple[float, ...]:
    """`5:50:5` (start:stop:step, stop included when hit) or `10,20,30` → the values; SpaceError if empty/bad."""
    text = spec.strip()
    if not text:
        raise SpaceError("empty range; give start:stop:step (e.g. 5:50:5) or a list (e.g. 10,20,30)")
    if ":" in text:
        parts = text.split(":")
        if len(parts) not in (2, 3):
            raise SpaceError(f"range {spec!r}: expected start:stop:step, e.g. 5:50:5")
        start, stop = _number(parts[0], spec), _number(parts[1], spec)
        step = _number(parts[2], spec) if len(parts) == 3 else 1.0
        if step <= 0:
            raise SpaceError(f"range {spec!r}: the step must be > 0")
        if stop < start:
            raise SpaceError(f"range {spec!r} is empty: stop {stop:g} is below start {start:g}")
        count = int(math.floor((stop - start) / step + 1e-9)) + 1
        if count > 10_000_000:
            raise SpaceError(f"range {spec!r} has {count:,} values; use a larger step")
        values = [_clean(start + i * step) for i in range(count)]
    else:
        values = [_number(p, spec) for p in text.split(",") if p.strip()]
        if not values:
            raise SpaceError(f"list {spec!r} is empty")
    if kind == "int":
        bad = [v for v in values if not float(v).is_integer()]
        if bad:
            raise SpaceError(f"{spec!r}: {bad[0]:g} is not a whole number, and this parameter is an integer")
    return tuple(dict.fromkeys(values))


def make_axis(definition: Mapping[str, Any], paths: Sequence[str], spec: str) -> Axis:
    """An axis over `paths` of `definition` with the values in `spec`; values no strategy could take are errors."""
    try:
        slots = [resolve_slot(definition, p) for p in paths]
    except PathError as err:
        raise SpaceError(str(err)) from None
    kind = "int" if any(s.kind == "int" for s in slots) else "float"
    try:
        values = parse_values(spec, kind)
    except SpaceError as err:
        raise SpaceError(f"{slots[0].path}: {err}") from None
    for slot in slots:
        for v in values:
            problem = slot.problem(v)
            if problem:
                raise SpaceError(f"{slot.path}={spec}: the value {v:g} {problem}")
    return Axis(tuple(s.path for s in slots), values, kind)


@dataclass(frozen=True, slots=True)
class SweepSpace:
    """The axes of a sweep; a point is one index per axis (its coordinates)."""

    axes: tuple[Axis, ...]

    def __post_init__(self) -> None:
        if not self.axes:
            raise SpaceError("no parameters to sweep; give at least one --param PATH=RANGE")
        seen: set[str] = set()
        for axis in self.axes:
            for p in axis.paths:
                if p in seen:
                    raise SpaceError(f"{p} is swept twice")
                seen.add(p)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(a.values) for a in self.axes)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def values(self, coords: Coords) -> dict[str, float]:
        """Path → value for the point at `coords` (linked paths get the same value)."""
        return {p: axis.values[i] for axis, i in zip(self.axes, coords, strict=True) for p in axis.paths}

    def params(self, coords: Coords) -> tuple[float, ...]:
        """One value per axis."""
        return tuple(axis.values[i] for axis, i in zip(self.axes, coords, strict=True))

    def grid(self, cap: int = DEFAULT_CAP) -> list[Coords]:
        """Every point, first axis slowest; TooManyCombinations over the cap."""
        if self.size > cap:
            raise TooManyCombinations(self.size, cap)
        return [tuple(int(i) for i in c) for c in np.ndindex(*self.shape)]

    def sample(self, samples: int, seed: int, cap: int = DEFAULT_CAP) -> list[Coords]:
        """`samples` distinct points drawn uniformly with a seeded generator (all of them if the grid is smaller)."""
        if samples < 1:
            raise SpaceError("--samples must be at least 1")
        if samples > cap:
            raise TooManyCombinations(samples, cap, "random sampling asks for")
        if samples >= self.size:
            return self.grid(cap)
        if self.size >= 2**62:  # numpy draws indexes as int64
            raise SpaceError(f"the space has {self.size:.3g} combinations, too many to sample from; narrow the ranges")
        rng = np.random.default_rng(seed)
        flat = rng.choice(self.size, size=samples, replace=False)
        return [tuple(int(i) for i in np.unravel_index(int(f), self.shape)) for f in flat]


def _number(text: str, spec: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise SpaceError(f"{spec!r}: {text.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise SpaceError(f"{spec!r}: {text.strip()!r} is not a finite number")
    return value


def _clean(x: float) -> float:
    """Round away float drift from start + i * step (0.1 + 2 * 0.1 → 0.3)."""
    return float(round(x, 10))
