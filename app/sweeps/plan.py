"""RunSweep (what the user asked for) checked into a SweepPlan (what will run), with clear errors for bad input."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from app.errors import UserError
from domain.backtest import BacktestSettings
from domain.market import SeriesKey
from domain.strategy import StrategyInvalid, parse_strategy
from domain.sweep import (
    DEFAULT_CAP,
    DEFAULT_MIN_TRADES,
    DEFAULT_OBJECTIVE,
    MARKET_KEYS,
    Below,
    Constraint,
    Coords,
    Objective,
    ObjectiveError,
    SpaceError,
    SweepJob,
    SweepSpace,
    WalkForwardError,
    Window,
    fast_below_slow,
    keep_ordered,
    make_axis,
    split_windows,
)


@dataclass(frozen=True, slots=True)
class ParamRange:
    """One swept parameter as typed: its path(s) (linked paths move together) and `start:stop:step` or a list."""

    paths: tuple[str, ...]
    spec: str

    @classmethod
    def parse(cls, text: str) -> ParamRange:
        """`PATH[,PATH...]=RANGE`."""
        path, sep, spec = text.partition("=")
        if not sep or not path.strip():
            raise UserError(f"--param {text!r}: expected PATH=RANGE, e.g. entry_long.all[0].left.params.period=5:50:5")
        return cls(tuple(p.strip() for p in path.split(",") if p.strip()), spec.strip())


@dataclass(frozen=True, slots=True)
class RunSweep:
    """Sweep `definition` over `params` on stored candles of `key` (or a series given to the service)."""

    definition: dict[str, Any]
    params: tuple[ParamRange, ...]
    key: SeriesKey | None = None
    start_ms: int | None = None
    end_ms: int | None = None
    objective: str = DEFAULT_OBJECTIVE
    maximize: bool = True
    constraints: tuple[str, ...] = ()
    method: str = "grid"
    samples: int | None = None
    seed: int = 0
    cap: int = DEFAULT_CAP
    walk_forward: int = 0
    oos_fraction: float = 0.25
    anchored: bool = False
    settings: BacktestSettings = field(default_factory=BacktestSettings)
    strategy_id: int | None = None
    min_trades: int = DEFAULT_MIN_TRADES  # a point with fewer trades never ranks as best (never below 1)
    fast_below_slow: bool = False  # skip points where a fast period is not below its slow one


@dataclass(frozen=True, slots=True, eq=False)
class SweepPlan:
    """A checked sweep: the job every task shares, the points, the objective and the walk-forward windows."""

    cmd: RunSweep
    job: SweepJob
    coords: list[Coords]
    objective: Objective
    constraints: tuple[Constraint, ...]
    windows: list[Window]
    n_bars: int
    order: tuple[Below, ...] = ()  # fast-below-slow rules the points already satisfy
    skipped: int = 0  # points left out by those rules (never run)

    @property
    def min_trades(self) -> int:
        return max(1, self.cmd.min_trades)

    @property
    def rules(self) -> tuple[Constraint, ...]:
        """What a point must meet to rank: the user's constraints and the minimum number of trades."""
        return (*self.constraints, Constraint("# Trades", ">=", float(self.min_trades)))

    @property
    def total(self) -> int:
        return len(self.coords) * max(1, len(self.windows))

    def config(self, executor: str) -> dict[str, Any]:
        """JSON-ready description stored with the sweep."""
        c = self.cmd
        return {
            "axes": [{"paths": list(a.paths), "values": list(a.values), "kind": a.kind} for a in self.job.space.axes],
            "objective": self.objective.key, "maximize": self.objective.maximize,
            "constraints": [str(x) for x in self.constraints], "method": c.method, "samples": c.samples,
            "seed": c.seed, "points": len(self.coords), "walk_forward": c.walk_forward,
            "oos_fraction": c.oos_fraction, "anchored": c.anchored, "executor": executor,
            "windows": [[w.is_start, w.is_end, w.oos_start, w.oos_end] for w in self.windows],
            "min_trades": self.min_trades, "skipped": self.skipped,
            "fast_below_slow": [[list(self.job.space.axes[r.low].paths), list(self.job.space.axes[r.high].paths)]
                                for r in self.order],
        }


def make_plan(cmd: RunSweep, n_bars: int) -> SweepPlan:
    """Check everything that can be checked before any work starts; UserError names the bad input."""
    problems = cmd.settings.problems()
    if cmd.min_trades < 1:
        problems.append(f"min_trades: must be at least 1 (a point without trades has nothing to rank), "
                        f"got {cmd.min_trades}")
    if problems:
        raise UserError("; ".join(problems))
    try:
        parse_strategy(cmd.definition)
    except StrategyInvalid as err:
        raise UserError("the strategy is invalid: " + "; ".join(str(e) for e in err.errors)) from None
    try:
        axes = tuple(make_axis(cmd.definition, p.paths, p.spec) for p in cmd.params)
        space = SweepSpace(axes)
        objective = Objective.parse(cmd.objective, cmd.maximize)
        constraints = tuple(Constraint.parse(c) for c in cmd.constraints)
        if cmd.method == "grid":
            coords = space.grid(cmd.cap)
        elif cmd.method == "random":
            coords = space.sample(cmd.samples or min(space.size, 100), cmd.seed, cmd.cap)
        else:
            raise UserError(f"unknown method {cmd.method!r}; use grid or random")
        order = _order_rules(cmd, space)
        before = len(coords)
        coords = keep_ordered(space, coords, order)
        if not coords:
            raise UserError(f"fast below slow leaves none of the {before} points; widen the ranges so some fast "
                            "periods are below the slow ones")
        windows = split_windows(n_bars, cmd.walk_forward, cmd.oos_fraction, cmd.anchored,
                                _longest_warmup(cmd.definition, space) + 2) if cmd.walk_forward else []
    except (SpaceError, ObjectiveError, WalkForwardError) as err:
        raise UserError(str(err)) from None
    ranked_on = {objective.key, *(c.key for c in constraints)}
    job = SweepJob(cmd.definition, space, cmd.settings, data_key=uuid.uuid4().hex,
                   market_stats=any(k in ranked_on for k in MARKET_KEYS))
    return SweepPlan(cmd, job, coords, objective, constraints, windows, n_bars, order, before - len(coords))


def fast_slow_pairs(definition: dict[str, Any], params: Sequence[ParamRange]) -> list[tuple[str, str]]:
    """(fast, slow) parameter names the "fast below slow" option would order, in the order of `params` (the GUI
    offers the option only when this is not empty). Ranges that do not parse yet are left out."""
    axes = []
    for p in params:
        try:
            axes.append(make_axis(definition, p.paths, p.spec))
        except SpaceError:
            continue
    return [(axes[r.low].name, axes[r.high].name) for r in fast_below_slow(definition, axes)]


def _order_rules(cmd: RunSweep, space: SweepSpace) -> tuple[Below, ...]:
    if not cmd.fast_below_slow:
        return ()
    rules = fast_below_slow(cmd.definition, space.axes)
    if not rules:
        raise UserError("fast below slow needs two swept periods of the same indicator kind (e.g. the periods of "
                        "two EMAs, or MACD's fast and slow); the swept parameters are: "
                        + ", ".join(a.name for a in space.axes))
    return rules


def _longest_warmup(definition: dict[str, Any], space: SweepSpace) -> int:
    """Indicator warm-up with every swept parameter at its largest value (the longest an in-sample window needs)."""
    from domain.backtest.run import indicator_warmup
    from domain.sweep import set_values

    top = {p: max(a.values) for a in space.axes for p in a.paths}
    for candidate in (set_values(definition, top), definition):
        try:
            return indicator_warmup(parse_strategy(candidate))
        except StrategyInvalid:
            continue
    return 0
