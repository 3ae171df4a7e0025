"""Walk-forward windows, out-of-sample runs, stitching, ranking and robustness of the best point."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sweep_fixtures import FAST, SLOW, sma_cross, walk

from domain.backtest import BacktestSettings
from domain.backtest.run import run_backtest
from domain.strategy import parse_strategy
from domain.sweep import (
    OK,
    Objective,
    PointResult,
    SweepJob,
    SweepSpace,
    WalkForwardError,
    Window,
    best,
    make_axis,
    neighbours,
    rank,
    robustness,
    run_oos,
    run_point,
    split_windows,
    stitch,
)

SETTINGS = BacktestSettings(cash=10_000, commission=0.001)


@given(n=st.integers(10, 5000), count=st.integers(1, 12), frac=st.floats(0.05, 0.95), anchored=st.booleans())
def test_windows_never_let_in_sample_bars_reach_out_of_sample(n: int, count: int, frac: float,
                                                              anchored: bool) -> None:
    try:
        windows = split_windows(n, count, frac, anchored)
    except WalkForwardError:
        return
    assert len(windows) == count
    for w in windows:
        assert 0 <= w.is_start < w.is_end <= w.oos_start < w.oos_end <= n
        assert w.is_bars >= 2 and w.oos_bars >= 1
        if anchored:
            assert w.is_start == 0
    for a, b in zip(windows, windows[1:], strict=False):
        assert a.oos_end == b.oos_start  # OOS parts tile the tail without overlap
        assert b.is_start >= a.is_start
    assert windows[-1].oos_end == n


@given(n=st.integers(50, 5000), count=st.integers(1, 10), frac=st.floats(0.1, 0.5))
def test_rolling_windows_keep_the_requested_out_of_sample_share(n: int, count: int, frac: float) -> None:
    try:
        windows = split_windows(n, count, frac)
    except WalkForwardError:
        return
    w = windows[0]
    share = w.oos_bars / (w.is_bars + w.oos_bars)
    assert abs(share - frac) <= 1.0 / w.is_bars + 1e-9
    assert len({(x.is_bars, x.oos_bars) for x in windows}) == 1


def test_too_little_data_for_the_windows_says_how_much_is_needed() -> None:
    with pytest.raises(WalkForwardError, match="too few .* about \\d+ bars are needed"):
        split_windows(5, 4, 0.25)
    with pytest.raises(WalkForwardError, match="between 0 and 1"):
        split_windows(500, 4, 1.5)


def test_an_out_of_sample_run_trades_only_inside_its_window_and_starts_flat() -> None:
    series = walk(1200)
    strategy = parse_strategy(sma_cross(5, 20))
    w = Window(0, 0, 800, 800, 1000)
    run = run_oos(strategy, series, w, SETTINGS)
    assert len(run.equity) == w.oos_bars and run.equity[0] == pytest.approx(SETTINGS.cash)
    assert len(run.trades) > 0 and run.trades.entry_bar.min() >= 0 and run.trades.exit_bar.max() < w.oos_bars
    assert run.stats["Start"].startswith("2024") and run.stats["# Trades"] == len(run.trades)


def test_stitching_chains_the_windows_equity_into_one_account() -> None:
    series = walk(1200)
    strategy = parse_strategy(sma_cross(5, 20))
    windows = split_windows(len(series), 3, 0.25)
    runs = [run_oos(strategy, series, w, SETTINGS) for w in windows]
    out = stitch(series, runs, SETTINGS.cash)
    assert len(out.equity) == sum(w.oos_bars for w in windows) == len(out.ts)
    growth = np.prod([r.equity[-1] / SETTINGS.cash for r in runs])
    assert out.equity[-1] == pytest.approx(SETTINGS.cash * growth)
    assert out.stats["# Trades"] == sum(len(r.trades) for r in runs)
    assert np.all(np.diff(out.ts) > 0)


def job() -> SweepJob:
    d = sma_cross()
    space = SweepSpace((make_axis(d, FAST.split(","), "4:12:2"), make_axis(d, SLOW.split(","), "15:35:5")))
    return SweepJob(d, space, SETTINGS)


def test_a_point_gives_exactly_the_stats_of_running_that_backtest_alone() -> None:
    series, j = walk(), job()
    got = run_point(j, (1, 2), series)
    alone = run_backtest(parse_strategy(sma_cross(6, 25)), series, SETTINGS)
    assert got.status == OK and got.params == (6, 25)
    assert got.stats["Return [%]"] == alone.stats["Return [%]"]
    assert got.stats["# Trades"] == alone.stats["# Trades"]


def test_a_point_the_validator_rejects_is_reported_invalid_not_raised() -> None:
    d = {**sma_cross(), "entry_long": {"all": [{"left": {"var": "macd", "params": {"fast": 12, "slow": 26}},
                                                 "op": "gt", "right": {"const": 0}}]}}
    space = SweepSpace((make_axis(d, ["entry_long.all[0].left.params.fast"], "10,30"),))
    results = [run_point(SweepJob(d, space, SETTINGS), (i,), walk()) for i in range(2)]
    assert [r.status for r in results] == ["ok", "invalid"]
    assert "fast" in results[1].message


def fake(coords: tuple[int, ...], sharpe: float, trades: int = 40) -> PointResult:
    return PointResult(coords, tuple(float(c) for c in coords), OK, {"Sharpe Ratio": sharpe, "# Trades": trades})


def test_ranking_puts_points_meeting_constraints_first_then_by_objective() -> None:
    from domain.sweep import Constraint

    results = [fake((0, 0), 2.0, trades=5), fake((0, 1), 1.0), fake((1, 0), math.nan), fake((1, 1), 1.5)]
    ranked = rank(results, Objective("Sharpe Ratio"), [Constraint.parse("# Trades>=30")])
    assert [r.result.coords for r in ranked] == [(1, 1), (0, 1), (1, 0), (0, 0)]
    top = best(results, Objective("Sharpe Ratio", maximize=False), [Constraint.parse("# Trades>=30")])
    assert top is not None and top.result.coords == (0, 1)


def test_robustness_summarises_the_grid_neighbours_of_the_best_point() -> None:
    results = [fake((i, j), float(i + j)) for i in range(4) for j in range(4)]
    top = best(results, Objective("Sharpe Ratio"))
    assert top is not None and top.result.coords == (3, 3)
    assert {r.coords for r in neighbours((3, 3), results)} == {(2, 2), (2, 3), (3, 2)}
    rob = robustness(top, results, Objective("Sharpe Ratio"))
    assert (rob.neighbours, rob.scored, rob.min, rob.max) == (3, 3, 4.0, 5.0)
    assert rob.retained == pytest.approx((4 + 5 + 5) / 3 / 6)


@settings(max_examples=15, deadline=None)
@given(count=st.integers(1, 4), frac=st.floats(0.15, 0.4), anchored=st.booleans(), seed=st.integers(0, 10**6))
def test_in_sample_results_do_not_change_when_out_of_sample_bars_do(count: int, frac: float, anchored: bool,
                                                                    seed: int) -> None:
    from domain.market import CandleSeries
    from domain.sweep import SweepTask, run_task

    series = walk(600)
    j = job()
    windows = split_windows(len(series), count, frac, anchored, min_is_bars=40)
    rng = np.random.default_rng(seed)
    for w in windows:
        noise = np.ones(len(series))
        noise[w.oos_start:] = np.exp(rng.normal(0, 0.05, len(series) - w.oos_start))
        changed = CandleSeries.from_columns(series.timeframe, series.ts, series.open * noise, series.high * noise,
                                            series.low * noise, series.close * noise, series.volume)
        task = SweepTask(j, ((0, 0), (2, 3)), w.is_start, w.is_end, w.index)
        assert [r.stats for r in run_task(task, series)] == [r.stats for r in run_task(task, changed)]
