"""Validation problems with their JSON paths, and the small checks every part of the parser shares."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast


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


class Issues:
    """Collects problems while a parser walks a document."""

    def __init__(self) -> None:
        self.issues: list[ValidationIssue] = []

    def err(self, path: str, message: str) -> None:
        self.issues.append(ValidationIssue(path, message))

    def obj(self, value: object, path: str, keys: tuple[str, ...]) -> Mapping[str, Any] | None:
        """`value` as a mapping whose keys are all among `keys` (unknown keys are reported), or None."""
        if not isinstance(value, Mapping):
            self.err(path, f"must be an object, not {kind(value)}")
            return None
        for key in value:
            if key not in keys:
                self.err(join(path, str(key)), f"unknown key; expected one of: {', '.join(keys)}")
        return cast(Mapping[str, Any], value)

    def number(self, value: object, path: str, lo: float, hi: float, lo_open: bool = True) -> float | None:
        """A finite number in (lo, hi] (or [lo, hi] with `lo_open=False`), else None with the problem noted."""
        if is_number(value) and (lo < cast(float, value) if lo_open else lo <= cast(float, value)) \
                and cast(float, value) <= hi:
            return float(cast(float, value))
        self.err(path, f"must be a number {'>' if lo_open else '≥'} {fmt(lo)} and ≤ {fmt(hi)}, not {value!r}")
        return None

    def integer(self, value: object, path: str, lo: int, hi: int) -> int | None:
        """A whole number in [lo, hi], else None with the problem noted."""
        if is_number(value) and float(cast(float, value)).is_integer() and lo <= cast(float, value) <= hi:
            return int(cast(float, value))
        self.err(path, f"must be an integer ≥ {lo} and ≤ {hi}, not {value!r}")
        return None


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def kind(value: object) -> str:
    """How a JSON value reads in a message: `a string`, `null`, `a list`."""
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


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def fmt(x: float | None) -> str:
    return "" if x is None else (str(int(x)) if float(x).is_integer() else str(x))
