"""Parameter sweeps: spaces over strategy JSON paths, objectives and constraints, walk-forward validation."""

from domain.sweep.cache import IndicatorCache
from domain.sweep.fast_stats import MARKET_KEYS, DataFacts, sweep_stats
from domain.sweep.objective import (
    DEFAULT_MIN_TRADES,
    DEFAULT_OBJECTIVE,
    NUMERIC_KEYS,
    Constraint,
    Objective,
    ObjectiveError,
    as_float,
    stat_key,
)
from domain.sweep.order import Below, fast_below_slow, keep_ordered
from domain.sweep.paths import (
    PathError,
    Slot,
    linked_slots,
    numeric_slots,
    parse_path,
    resolve_slot,
    set_values,
    short_label,
)
from domain.sweep.ranking import Robustness, Scored, best, neighbours, objective_grid, rank, robustness, score
from domain.sweep.report import WalkForwardReport, WindowReport, walk_forward_report
from domain.sweep.runner import (
    FAILED,
    INVALID,
    OK,
    PointResult,
    SweepJob,
    SweepTask,
    batches,
    full_stats,
    point_definition,
    run_point,
    run_task,
)
from domain.sweep.space import (
    DEFAULT_CAP,
    Axis,
    Coords,
    SpaceError,
    SweepSpace,
    TooManyCombinations,
    make_axis,
    parse_values,
)
from domain.sweep.walkforward import OosRun, Stitched, WalkForwardError, Window, run_oos, split_windows, stitch

__all__ = [
    "DEFAULT_CAP", "DEFAULT_MIN_TRADES", "DEFAULT_OBJECTIVE", "Below", "fast_below_slow", "keep_ordered",
    "DataFacts", "MARKET_KEYS", "full_stats", "sweep_stats",
    "FAILED", "INVALID", "IndicatorCache", "NUMERIC_KEYS", "OK", "Axis", "Constraint", "Coords",
    "Objective",
    "ObjectiveError", "OosRun", "PathError", "PointResult", "Robustness", "Scored", "Slot", "SpaceError",
    "Stitched", "SweepJob", "SweepSpace", "SweepTask", "TooManyCombinations", "WalkForwardError",
    "WalkForwardReport", "Window", "WindowReport", "as_float", "batches", "best", "linked_slots", "make_axis",
    "neighbours", "numeric_slots", "objective_grid", "parse_path", "parse_values", "point_definition", "rank",
    "resolve_slot", "robustness", "run_oos", "run_point", "run_task", "score", "set_values", "short_label",
    "split_windows", "stat_key", "stitch", "walk_forward_report",
]
