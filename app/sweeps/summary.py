"""Sweep outcomes as JSON-ready dicts (stored with the sweep, printed by `optimize --json`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from domain.sweep import Robustness, Scored, WalkForwardReport

if TYPE_CHECKING:
    from app.sweeps.plan import SweepPlan
    from app.sweeps.service import SweepOutcome


def _num(x: float) -> float | None:
    return x if isinstance(x, int | float) and math.isfinite(x) else None


def point_json(plan: SweepPlan, s: Scored, with_stats: bool = True) -> dict[str, Any]:
    """A scored point: its parameter values by axis name, objective, constraint verdict and stats."""
    r = s.result
    out: dict[str, Any] = {
        "params": {axis.name: v for axis, v in zip(plan.job.space.axes, r.params, strict=True)},
        "objective": _num(s.score), "passed": s.passed, "status": r.status,
    }
    if r.message:
        out["message"] = r.message
    if with_stats:
        out["stats"] = r.stats
    return out


def robustness_json(rob: Robustness | None) -> dict[str, Any] | None:
    if rob is None:
        return None
    return {"neighbours": rob.neighbours, "scored": rob.scored, "passed": rob.passed, "mean": _num(rob.mean),
            "min": _num(rob.min), "max": _num(rob.max), "best": _num(rob.best), "retained": _num(rob.retained)}


def walk_forward_json(plan: SweepPlan, report: WalkForwardReport | None, ts: Any) -> dict[str, Any] | None:
    if report is None:
        return None
    windows = []
    for w in report.windows:
        win = w.window
        windows.append({
            "window": win.index, "is_bars": [win.is_start, win.is_end], "oos_bars": [win.oos_start, win.oos_end],
            "is_start_ms": int(ts[win.is_start]), "oos_start_ms": int(ts[win.oos_start]),
            "oos_end_ms": int(ts[win.oos_end - 1]),
            "params": None if w.params is None else
            {a.name: v for a, v in zip(plan.job.space.axes, w.params, strict=True)},
            "is_objective": _num(w.is_score), "oos_objective": _num(w.oos_score), "efficiency": _num(w.efficiency),
            "change": _num(w.change),
            "oos_stats": w.oos.stats if w.oos is not None else None,
        })
    return {"windows": windows, "degradation": {k: _num(v) for k, v in report.degradation.items()},
            "stats": report.stitched.stats if report.stitched is not None else None}


def outcome_json(outcome: SweepOutcome, top: int = 10) -> dict[str, Any]:
    plan = outcome.plan
    best = outcome.best
    return {
        "sweep_id": outcome.sweep_id, "status": outcome.status, "executor": outcome.executor,
        "seconds": round(outcome.seconds, 3), "objective": plan.objective.describe(),
        "constraints": [str(c) for c in plan.constraints], "min_trades": plan.min_trades,
        "skipped": plan.skipped, "points": len(plan.coords), "counts": outcome.counts,
        "best": point_json(plan, best) if best is not None else None,
        "robustness": robustness_json(outcome.robustness),
        "top": [point_json(plan, s, with_stats=False) for s in outcome.ranked[:top]],
        "walk_forward": walk_forward_json(plan, outcome.walk_forward, outcome.bar_ts),
    }

