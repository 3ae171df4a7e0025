"""Running sweep points: batches, the per-worker indicator cache, and results equal to lone backtests."""

from __future__ import annotations

import numpy as np
from sweep_fixtures import FAST, SLOW, sma_cross, walk

from domain.backtest import BacktestSettings
from domain.backtest.run import json_value, run_backtest
from domain.strategy import parse_strategy
from domain.sweep import IndicatorCache, SweepJob, SweepSpace, SweepTask, batches, make_axis, run_task
from domain.sweep.metrics import with_bar_metrics

SETTINGS = BacktestSettings(commission=0.001)


def job() -> SweepJob:
    d = sma_cross()
    space = SweepSpace((make_axis(d, FAST.split(","), "4:12:4"), make_axis(d, SLOW.split(","), "20:40:10")))
    return SweepJob(d, space, SETTINGS, data_key="walk")


def test_cached_indicators_give_exactly_the_results_of_lone_backtests() -> None:
    series, j = walk(), job()
    cache = IndicatorCache()
    results = run_task(SweepTask(j, tuple(j.space.grid()), 0, len(series)), series, cache=cache)
    assert len(cache) == 6  # three fast and three slow SMAs, each computed once for nine points
    for r in results:
        fast, slow = (int(v) for v in r.params)
        alone = run_backtest(parse_strategy(sma_cross(fast, slow)), series, SETTINGS)
        # backtesting.py's statistics of the lone run, plus the per-bar objectives of its equity curve
        lone = {k: json_value(v) for k, v in alone.stats.items()}
        assert r.stats == with_bar_metrics(series.ts, alone.equity, lone)


def test_the_cache_keeps_bar_ranges_apart() -> None:
    series, j = walk(), job()
    cache = IndicatorCache()
    whole = run_task(SweepTask(j, ((1, 1),), 0, len(series)), series, cache=cache)
    part = run_task(SweepTask(j, ((1, 1),), 200, 900), series, cache=cache)
    fresh = run_task(SweepTask(j, ((1, 1),), 200, 900), series)
    assert part[0].stats == fresh[0].stats != whole[0].stats


def test_the_cache_drops_the_least_recently_used_outputs_past_its_budget() -> None:
    cache = IndicatorCache(budget_bytes=3 * 800)
    for i in range(4):
        cache.put(i, {"x": np.zeros(100)})
    assert len(cache) == 3 and cache.get(0) is None and cache.get(3) is not None
    cache.put("huge", {"x": np.zeros(1000)})
    assert cache.get("huge") is None and cache.bytes <= cache.budget


def test_the_cache_keeps_the_facts_of_the_last_few_bar_ranges_and_computes_each_once() -> None:
    series = walk()
    cache = IndicatorCache()
    first = cache.facts(("walk", 0, 600), series.take(slice(0, 600)))
    assert cache.facts(("walk", 0, 600), series.take(slice(0, 600))) is first
    for lo in range(1, IndicatorCache.FACTS_KEPT + 1):
        cache.facts(("walk", lo, 600), series.take(slice(lo, 600)))
    again = cache.facts(("walk", 0, 600), series.take(slice(0, 600)))
    assert again is not first and np.array_equal(again.market, first.market) and np.array_equal(again.ends, first.ends)


def test_a_task_stops_between_points_when_asked() -> None:
    series, j = walk(), job()
    calls = iter([False, False, True])
    out = run_task(SweepTask(j, tuple(j.space.grid()), 0, len(series)), series, lambda: next(calls))
    assert len(out) == 2


def test_batches_shrink_to_single_points_and_cover_every_point_once() -> None:
    points = [(i,) for i in range(100)]
    chunks = batches(points, workers=2)
    sizes = [len(c) for c in chunks]
    assert [p for c in chunks for p in c] == points and batches([], 2) == []
    assert max(sizes) <= 13 and sizes == sorted(sizes, reverse=True) and sizes[-4:] == [1, 1, 1, 1]
    assert max(len(c) for c in batches([(i,) for i in range(100_000)], workers=2)) == 32
