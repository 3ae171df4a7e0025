"""Walk-forward report: the best in-sample point of each window, its out-of-sample run, and the stitched whole."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from domain.market import CandleSeries
from domain.strategy import parse_strategy
from domain.sweep.objective import Constraint, Objective
from domain.sweep.ranking import best
from domain.sweep.runner import PointResult, SweepJob, point_definition
from domain.sweep.walkforward import OosRun, Stitched, Window, efficiency, run_oos, stitch


@dataclass(frozen=True, slots=True, eq=False)
class WindowReport:
    """One window: its ranges, the best IS point (None if no point met the constraints) and both sides' stats."""

    window: Window
    coords: tuple[int, ...] | None
    params: tuple[float, ...] | None
    is_stats: dict[str, Any]
    oos: OosRun | None
    is_score: float = math.nan
    oos_score: float = math.nan
    maximize: bool = True

    @property
    def efficiency(self) -> float:
        """OOS objective / IS objective where that means something (see walkforward.efficiency), else NaN."""
        return efficiency(self.is_score, self.oos_score, self.maximize) if self.oos is not None else math.nan

    @property
    def change(self) -> float:
        """OOS objective minus IS objective (defined for negative objectives too)."""
        return self.oos_score - self.is_score if self.oos is not None else math.nan


@dataclass(frozen=True, slots=True, eq=False)
class WalkForwardReport:
    """Per-window reports, the stitched OOS account, and how much the objective degraded IS → OOS."""

    windows: list[WindowReport]
    stitched: Stitched | None
    degradation: dict[str, float] = field(default_factory=dict)


def walk_forward_report(job: SweepJob, series: CandleSeries, windows: Sequence[Window],
                        results: Sequence[PointResult], objective: Objective,
                        constraints: Sequence[Constraint] = ()) -> WalkForwardReport:
    """Pick each window's best IS point from `results` (tagged by window) and run it on that window's OOS bars."""
    reports = []
    for w in windows:
        top = best([r for r in results if r.window == w.index], objective, constraints)
        if top is None:
            reports.append(WindowReport(w, None, None, {}, None))
            continue
        strategy = parse_strategy(point_definition(job, top.result.coords))
        oos = run_oos(strategy, series, w, job.settings)
        reports.append(WindowReport(w, top.result.coords, top.result.params, top.result.stats, oos,
                                    top.score, objective.score(oos.stats), objective.maximize))
    runs = [r.oos for r in reports if r.oos is not None]
    stitched = stitch(series, runs, job.settings.cash) if runs else None
    return WalkForwardReport(reports, stitched, _degradation(reports))


def _degradation(reports: Sequence[WindowReport]) -> dict[str, float]:
    done = [r for r in reports if r.oos is not None]
    if not done:
        return {}
    is_mean = float(np.nanmean([r.is_score for r in done])) if any(not math.isnan(r.is_score) for r in done) \
        else math.nan
    oos_vals = [r.oos_score for r in done if not math.isnan(r.oos_score)]
    oos_mean = float(np.mean(oos_vals)) if oos_vals else math.nan
    effs = [r.efficiency for r in done if not math.isnan(r.efficiency)]
    return {
        "is_objective_mean": is_mean,
        "oos_objective_mean": oos_mean,
        "change": oos_mean - is_mean,
        "efficiency_mean": float(np.mean(effs)) if effs else math.nan,
        "efficiency_windows": float(len(effs)),  # windows where the efficiency is defined (IS objective > 0)
        "windows_tested": float(len(done)),
    }
