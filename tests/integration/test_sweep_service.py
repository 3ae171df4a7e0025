"""SweepService on a real SQLite file: the local process pool, streaming, persistence, cancel, walk-forward."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from sweep_support import FAST, KEY, SLOW, InlineExecutor, make_service, sma_cross, walk

from app.errors import UserError
from app.sweeps.plan import ParamRange, RunSweep
from app.sweeps.service import SweepProgressed
from domain.backtest import BacktestSettings
from domain.backtest.run import json_value, run_backtest
from domain.market import CandleSeries
from domain.strategy import parse_strategy
from domain.sweep import MARKET_KEYS
from domain.sweep.metrics import with_bar_metrics

SETTINGS = BacktestSettings(cash=10_000, commission=0.001)


def grid(**kw: object) -> RunSweep:
    base = dict(definition=sma_cross(), params=(ParamRange(FAST, "4:12:4"), ParamRange(SLOW, "20:40:10")), key=KEY,
                objective="Return [%]", settings=SETTINGS)
    base.update(kw)
    return RunSweep(**base)  # type: ignore[arg-type]


def test_grid_results_on_the_process_pool_equal_running_each_backtest_alone(db_path: Path) -> None:
    service = make_service(db_path)
    events: list[SweepProgressed] = []
    out = service.run(grid(), workers=2, on_progress=events.append)
    assert out.status == "done" and len(out.ranked) == 9 and out.counts["ok"] == 9
    series = walk()
    for s in out.ranked:
        # backtesting.py's statistics of the lone run, plus the per-bar objectives of its equity curve; the
        # points leave out Alpha and Beta (not ranked on), the best one has them too
        lone = lone_stats(series, s.result.params)
        assert s.result.stats == (lone if s is out.ranked[0] else
                                  {k: v for k, v in lone.items() if k not in MARKET_KEYS})
    assert out.best is out.ranked[0] and set(MARKET_KEYS) <= set(out.best.result.stats)
    scores = [s.score for s in out.ranked]
    assert scores == sorted(scores, reverse=True) and out.best is not None
    assert events[-1].stage == "done" and events[-2].done == 9
    assert any(e.new for e in events)


def lone_stats(series: CandleSeries, params: tuple[float, ...]) -> dict[str, object]:
    """A point's statistics as a single backtest reports them, with the per-bar objectives."""
    fast, slow = (int(v) for v in params)
    alone = run_backtest(parse_strategy(sma_cross(fast, slow)), series, SETTINGS)
    return with_bar_metrics(series.ts, alone.equity, {k: json_value(v) for k, v in alone.stats.items()})


@pytest.mark.parametrize(("objective", "constraints"), [("Beta", ()), ("Return [%]", ("Alpha [%] > -1000",))])
def test_a_sweep_ranking_or_filtering_on_alpha_or_beta_has_them_for_every_point(
        db_path: Path, objective: str, constraints: tuple[str, ...]) -> None:
    out = make_service(db_path).run(grid(objective=objective, constraints=constraints), workers=2)
    series = walk()
    assert out.counts["ok"] == 9
    for s in out.ranked:
        assert s.result.stats == lone_stats(series, s.result.params)


def test_every_result_is_stored_with_the_sweep_and_reopens(db_path: Path) -> None:
    service = make_service(db_path, InlineExecutor())
    out = service.run(grid(constraints=("# Trades>=1",)))
    stored = service.get(out.sweep_id)
    assert stored.summary.status == "done" and stored.summary.done == 9 == stored.summary.total
    assert sorted(p.result.params for p in stored.points) == sorted(s.result.params for s in out.ranked)
    assert stored.config["constraints"] == ["# Trades >= 1"] and stored.outcome["best"]["params"]
    assert service.list()[0].id == out.sweep_id
    assert service.delete(out.sweep_id) and service.list() == []


def test_random_sampling_with_a_seed_runs_the_same_points_every_time(db_path: Path) -> None:
    service = make_service(db_path, InlineExecutor())
    cmd = grid(params=(ParamRange(FAST, "2:20:1"), ParamRange(SLOW, "21:60:1")), method="random", samples=12,
               seed=5)
    a, b = service.run(cmd), service.run(cmd)
    assert len(a.ranked) == 12
    assert sorted(s.result.params for s in a.ranked) == sorted(s.result.params for s in b.ranked)
    assert [s.result.stats for s in a.ranked] == [s.result.stats for s in b.ranked]


def test_invalid_points_are_skipped_and_counted(db_path: Path) -> None:
    definition = {**sma_cross(), "entry_long": {"all": [{"left": {"var": "macd", "params": {"fast": 12, "slow": 26}},
                                                          "op": "gt", "right": {"const": 0}}]}}
    cmd = grid(definition=definition, params=(ParamRange(("entry_long.all[0].left.params.fast",), "10,20,30"),))
    out = make_service(db_path, InlineExecutor()).run(cmd)
    assert out.counts == {"ok": 2, "invalid": 1, "failed": 0}
    assert out.ranked[-1].result.status == "invalid"


@pytest.mark.parametrize("change, words", [
    (dict(params=(ParamRange(("entry_long.all[0].left.params.perid",), "5:10"),)), "no parameter 'perid'"),
    (dict(params=(ParamRange(("name",), "5:10"),)), "not a numeric parameter"),
    (dict(params=(ParamRange(FAST, "10:5:1"),)), "empty"),
    (dict(params=(ParamRange(FAST, "1:200"), ParamRange(SLOW, "201:300")), cap=1000),
     "20,000 combinations, over the cap of 1,000"),
    (dict(objective="Sharpness"), "unknown objective"),
    (dict(constraints=("# Trades >> 3",)), "expected STAT OP NUMBER"),
    (dict(walk_forward=50, oos_fraction=0.5), "too few"),
])
def test_bad_requests_are_refused_before_anything_runs_or_is_stored(db_path: Path, change: dict,
                                                                    words: str) -> None:
    executor = InlineExecutor()
    service = make_service(db_path, executor)
    with pytest.raises(UserError, match=words):
        service.run(grid(**change))
    assert executor.series is None and service.list() == []


def test_cancel_on_the_process_pool_stops_promptly_and_keeps_finished_results(db_path: Path) -> None:
    service = make_service(db_path)
    cancel = threading.Event()

    def on_progress(e: SweepProgressed) -> None:
        if e.done:
            cancel.set()  # as soon as the first batch is in

    cmd = grid(params=(ParamRange(FAST, "2:40:1"), ParamRange(SLOW, "41:80:1")), method="random", samples=600,
               key=None)
    out = service.run(cmd, series=walk(60_000), workers=2, on_progress=on_progress, cancel=cancel)
    assert out.status == "cancelled" and 0 < len(out.ranked) < 600
    stored = service.get(out.sweep_id)
    assert stored.summary.status == "cancelled" and len(stored.points) == len(out.ranked)


def perturb_after(series: CandleSeries, bar: int) -> CandleSeries:
    scale = np.ones(len(series))
    scale[bar:] = np.linspace(1.0, 1.8, len(series) - bar)
    return CandleSeries.from_columns(series.timeframe, series.ts, series.open * scale, series.high * scale,
                                     series.low * scale, series.close * scale, series.volume)


def test_walk_forward_in_sample_optimisation_never_sees_out_of_sample_bars(db_path: Path) -> None:
    executor = InlineExecutor()
    service = make_service(db_path, executor)
    cmd = grid(walk_forward=3, oos_fraction=0.25, key=None)
    series = walk()
    out = service.run(cmd, series=series)
    windows = out.plan.windows
    for task in executor.tasks:
        w = windows[task.window]
        assert w.is_start <= task.lo < task.hi <= w.is_end <= w.oos_start
    # Changing every bar from window 0's OOS part on leaves window 0's in-sample results untouched.
    other = service.run(cmd, series=perturb_after(series, windows[0].oos_start))
    first = lambda o: sorted((p.result.params, p.result.stats["Return [%]"]) for p in o.ranked or [])  # noqa: E731
    assert first(out) == first(other)
    report, report2 = out.walk_forward, other.walk_forward
    assert report is not None and report2 is not None
    assert report.windows[0].params == report2.windows[0].params
    assert report.windows[0].is_stats == report2.windows[0].is_stats
    assert report.windows[0].oos.stats != report2.windows[0].oos.stats  # the OOS run does see its own bars


def test_walk_forward_reports_stitched_equity_and_degradation_and_stores_them(db_path: Path) -> None:
    service = make_service(db_path, InlineExecutor())
    out = service.run(replace(grid(), walk_forward=3, anchored=True))
    report = out.walk_forward
    assert report is not None and report.stitched is not None
    assert len(report.stitched.equity) == sum(w.oos_bars for w in out.plan.windows)
    assert set(report.degradation) >= {"is_objective_mean", "oos_objective_mean", "efficiency_mean"}
    stored = service.get(out.sweep_id)
    assert stored.equity is not None and np.array_equal(stored.equity, report.stitched.equity)
    assert len(stored.outcome["walk_forward"]["windows"]) == 3
    assert {p.result.window for p in stored.points} == {0, 1, 2}


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_forked_and_spawned_pools_give_the_same_results_as_one_process(db_path: Path, method: str) -> None:
    from infrastructure.compute.local_pool import LocalPoolExecutor

    service = make_service(db_path, LocalPoolExecutor(2, start_method=method))
    out = service.run(grid())
    alone = make_service(db_path.with_name("inline.db"), InlineExecutor()).run(grid())
    assert out.executor == "local process pool, 2 workers"
    assert sorted((s.result.params, s.score) for s in out.ranked) == \
        sorted((s.result.params, s.score) for s in alone.ranked)


class BreaksAfterOneBatch(InlineExecutor):
    """Yields the first batch, then fails as a dead worker would."""

    def results(self, tasks, cancel):  # type: ignore[no-untyped-def]
        for i, batch in enumerate(super().results(tasks, cancel)):
            if i:
                raise UserError("a sweep worker process stopped unexpectedly")
            yield batch


def test_a_worker_failure_is_recorded_and_the_finished_points_stay_stored(db_path: Path) -> None:
    service = make_service(db_path, BreaksAfterOneBatch())
    with pytest.raises(UserError, match="stopped unexpectedly"):
        service.run(grid())
    stored = service.get(service.list()[0].id)
    assert stored.summary.status == "failed" and "stopped unexpectedly" in stored.outcome["error"]
    assert 0 < len(stored.points) < 9
