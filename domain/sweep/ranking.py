"""Scoring sweep results: objective and constraints, the ranking, and the robustness of the best point."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from domain.sweep.objective import Constraint, Objective
from domain.sweep.runner import OK, PointResult
from domain.sweep.space import Coords


@dataclass(frozen=True, slots=True)
class Scored:
    """A result with its objective value and whether it met every constraint."""

    result: PointResult
    score: float
    passed: bool


def score(result: PointResult, objective: Objective, constraints: Sequence[Constraint] = ()) -> Scored:
    if result.status != OK:
        return Scored(result, math.nan, False)
    passed = all(c.holds(result.stats) for c in constraints)
    return Scored(result, objective.score(result.stats), passed)


def rank(results: Iterable[PointResult], objective: Objective,
         constraints: Sequence[Constraint] = ()) -> list[Scored]:
    """Best first: points meeting the constraints by objective, then the rest; ties keep grid order."""
    scored = [score(r, objective, constraints) for r in results]
    return sorted(scored, key=lambda s: (not s.passed, *objective.sort_key(s.score), s.result.coords))


def best(results: Iterable[PointResult], objective: Objective,
         constraints: Sequence[Constraint] = ()) -> Scored | None:
    """The best point that met the constraints and has a finite objective, or None."""
    ranked = rank(results, objective, constraints)
    if ranked and ranked[0].passed and not math.isnan(ranked[0].score):
        return ranked[0]
    return None


@dataclass(frozen=True, slots=True)
class Robustness:
    """How the grid neighbours of the best point (one step away on any axes) did."""

    neighbours: int
    scored: int
    passed: int
    mean: float
    min: float
    max: float
    best: float

    @property
    def retained(self) -> float:
        """Neighbours' mean objective as a fraction of the best's (NaN when undefined)."""
        if not self.best or math.isnan(self.mean) or math.isnan(self.best):
            return math.nan
        return self.mean / self.best


def neighbours(center: Coords, results: Iterable[PointResult]) -> list[PointResult]:
    """Results at most one step from `center` on every axis (itself excluded)."""
    return [r for r in results if r.coords != center and len(r.coords) == len(center)
            and all(abs(a - b) <= 1 for a, b in zip(r.coords, center, strict=True))]


def robustness(top: Scored, results: Sequence[PointResult], objective: Objective,
               constraints: Sequence[Constraint] = ()) -> Robustness:
    """Objective statistics of the best point's neighbours that ran (invalid points do not count)."""
    near = neighbours(top.result.coords, results)
    scored = [score(r, objective, constraints) for r in near if r.status == OK]
    values = np.array([s.score for s in scored if not math.isnan(s.score)], dtype=np.float64)
    has = len(values) > 0
    return Robustness(
        neighbours=len(near), scored=len(values), passed=sum(s.passed for s in scored),
        mean=float(values.mean()) if has else math.nan, min=float(values.min()) if has else math.nan,
        max=float(values.max()) if has else math.nan, best=top.score,
    )


def objective_grid(scored: Iterable[Scored], shape: Sequence[int], x_axis: int, y_axis: int | None,
                   objective: Objective) -> tuple[np.ndarray, dict[tuple[int, int], Scored]]:
    """The objective over two axes (NaN where nothing ran or met the constraints), taking the best point over
    the other axes; also which point each cell shows (for opening it). With `y_axis` None the grid is one column."""
    grid = np.full((shape[x_axis], shape[y_axis] if y_axis is not None else 1), np.nan)
    cells: dict[tuple[int, int], Scored] = {}
    for s in scored:
        if not s.passed or math.isnan(s.score):
            continue
        cell = (s.result.coords[x_axis], s.result.coords[y_axis] if y_axis is not None else 0)
        held = cells.get(cell)
        if held is None or objective.better(s.score, held.score):
            cells[cell] = s
            grid[cell] = s.score
    return grid, cells
