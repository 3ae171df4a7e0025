"""Sweep definitions: parameter paths, ranges, grid and seeded random sampling, objectives and constraints."""

from __future__ import annotations

import math

import pytest
from sweep_fixtures import FAST, SLOW, sma_cross

from domain.sweep import (
    Constraint,
    Objective,
    ObjectiveError,
    PathError,
    SpaceError,
    SweepSpace,
    TooManyCombinations,
    linked_slots,
    make_axis,
    numeric_slots,
    parse_path,
    parse_values,
    resolve_slot,
    set_values,
)


def test_paths_parse_into_keys_and_list_indexes() -> None:
    assert parse_path("entry_long.all[0].left.params.period") == ("entry_long", "all", 0, "left", "params", "period")


@pytest.mark.parametrize("path, words", [
    ("entry_long.all[0].left.params.perio", "has no parameter 'perio'"),
    ("entry_long.all[3].left.params.period", "has only 1 item"),
    ("name", "not a numeric parameter"),
    ("entry_long.all[0].op", "not a numeric parameter"),
    ("entry_long..all", "malformed path"),
    ("risk.stop_loss", "no such key 'stop_loss'"),
])
def test_bad_paths_are_rejected_with_what_is_wrong(path: str, words: str) -> None:
    with pytest.raises(PathError, match=words):
        resolve_slot(sma_cross(), path)


def test_indicator_params_carry_kind_and_bounds_from_the_catalog() -> None:
    slot = resolve_slot(sma_cross(), "entry_long.all[0].right.params.period")
    assert (slot.kind, slot.low, slot.value) == ("int", 1.0, 20.0)


def test_a_null_risk_field_is_still_a_numeric_slot() -> None:
    slot = resolve_slot(sma_cross(), "risk.stop_loss_pct")
    assert slot.value is None and slot.problem(0.0) == "must be > 0"


def test_numeric_slots_and_linked_groups_cover_both_entry_sides() -> None:
    paths = [s.path for s in numeric_slots(sma_cross())]
    assert "entry_short.all[0].left.params.period" in paths and "risk.trailing_stop_pct" in paths
    groups = [[s.path for s in g] for g in linked_slots(sma_cross())]
    assert groups[0] == FAST.split(",") and groups[1] == SLOW.split(",")


def test_set_values_copies_and_changes_only_the_given_paths() -> None:
    base = sma_cross()
    out = set_values(base, {"entry_long.all[0].left.params.period": 7, "risk.stop_loss_pct": 1.5})
    assert out["entry_long"]["all"][0]["left"]["params"]["period"] == 7
    assert out["risk"]["stop_loss_pct"] == 1.5
    assert base["entry_long"]["all"][0]["left"]["params"]["period"] == 10


@pytest.mark.parametrize("spec, values", [
    ("5:20:5", (5, 10, 15, 20)), ("5:22:5", (5, 10, 15, 20)), ("0.1:0.3:0.1", (0.1, 0.2, 0.3)),
    ("10,20, 30", (10, 20, 30)), ("7", (7,)), ("3:3:1", (3,)),
])
def test_ranges_include_the_stop_when_hit_and_lists_keep_their_order(spec: str, values: tuple[float, ...]) -> None:
    assert parse_values(spec) == values


@pytest.mark.parametrize("spec, words", [
    ("50:5:5", "empty"), ("5:50:0", "step must be > 0"), ("", "empty range"), ("a:5", "not a number"),
    ("1:2:3:4", "start:stop:step"),
])
def test_bad_ranges_say_why(spec: str, words: str) -> None:
    with pytest.raises(SpaceError, match=words):
        parse_values(spec)


def test_an_integer_parameter_refuses_fractional_or_out_of_bounds_values() -> None:
    with pytest.raises(SpaceError, match="not a whole number"):
        make_axis(sma_cross(), ["entry_long.all[0].left.params.period"], "5:10:0.5")
    with pytest.raises(SpaceError, match="0 must be ≥ 1"):
        make_axis(sma_cross(), ["entry_long.all[0].left.params.period"], "0:10:5")


def space() -> SweepSpace:
    d = sma_cross()
    return SweepSpace((make_axis(d, FAST.split(","), "5:25:5"), make_axis(d, SLOW.split(","), "20:60:10")))


def test_the_grid_enumerates_every_combination_first_axis_slowest() -> None:
    s = space()
    grid = s.grid()
    assert len(grid) == s.size == 25 and grid[0] == (0, 0) and grid[1] == (0, 1)
    assert s.values(grid[6])["entry_short.all[0].right.params.period"] == 30


def test_a_grid_over_the_cap_reports_its_size() -> None:
    with pytest.raises(TooManyCombinations, match="25 combinations, over the cap of 10") as err:
        space().grid(cap=10)
    assert err.value.count == 25


def test_random_sampling_is_reproducible_with_a_seed_and_draws_distinct_points() -> None:
    a, b, c = space().sample(10, seed=7), space().sample(10, seed=7), space().sample(10, seed=8)
    assert a == b and a != c and len(set(a)) == 10


def test_asking_for_more_samples_than_points_gives_the_whole_grid() -> None:
    assert sorted(space().sample(100, seed=1)) == space().grid()


def test_one_path_cannot_be_swept_twice() -> None:
    d = sma_cross()
    with pytest.raises(SpaceError, match="swept twice"):
        SweepSpace((make_axis(d, [FAST.split(",")[0]], "5"), make_axis(d, [FAST.split(",")[0]], "6")))


def test_objectives_accept_known_keys_case_insensitively_and_suggest_on_typos() -> None:
    assert Objective.parse("sharpe ratio").key == "Sharpe Ratio"
    assert Objective.parse("Return").key == "Return [%]"
    with pytest.raises(ObjectiveError, match="did you mean 'Sharpe Ratio'"):
        Objective.parse("Sharp Ratio")


def test_objective_ranks_nan_last_in_both_directions() -> None:
    up, down = Objective("SQN"), Objective("SQN", maximize=False)
    assert sorted([1.0, math.nan, 3.0], key=up.sort_key)[0] == 3.0
    assert sorted([1.0, math.nan, 3.0], key=down.sort_key)[0] == 1.0
    assert math.isnan(sorted([1.0, math.nan], key=down.sort_key)[-1])


@pytest.mark.parametrize("maximize", [True, False])
def test_a_ratio_over_a_vanishing_volatility_is_no_score_and_never_the_best_point(maximize: bool) -> None:
    from domain.sweep.ranking import best, rank
    from domain.sweep.runner import PointResult

    points = [PointResult((i,), (float(i),), "ok", {"Sharpe Ratio": sharpe, "Sortino Ratio": 3.0e9})
              for i, sharpe in enumerate((1.2, -8.1e8, 4.5e8, 0.4))]
    objective = Objective("Sharpe Ratio", maximize)
    assert math.isnan(objective.score(points[1].stats)) and math.isnan(objective.score(points[2].stats))
    assert [s.result.coords for s in rank(points, objective)][:2] == ([(0,), (3,)] if maximize else [(3,), (0,)])
    found = best(points, objective)
    assert found is not None and found.score == (1.2 if maximize else 0.4)
    assert math.isnan(Objective("Sortino Ratio").score(points[0].stats))
    assert Objective("Return [%]").score({"Return [%]": 5_000.0}) == 5_000.0  # only ratios are judged this way


@pytest.mark.parametrize("text, key, op, bound", [
    ("# Trades>=30", "# Trades", ">=", 30.0), ("Max. Drawdown [%]>=-25", "Max. Drawdown [%]", ">=", -25.0),
    ("max. drawdown >= -25%", "Max. Drawdown [%]", ">=", -25.0), ("Win Rate = 50", "Win Rate [%]", "==", 50.0),
])
def test_constraints_parse(text: str, key: str, op: str, bound: float) -> None:
    assert Constraint.parse(text) == Constraint(key, op, bound)


@pytest.mark.parametrize("text, words", [
    ("# Trades>>30", "not a number|expected"), ("Trades>=30", "unknown statistic"), ("# Trades", "expected STAT OP"),
    ("# Trades>=lots", "not a number"),
])
def test_bad_constraints_are_explained(text: str, words: str) -> None:
    with pytest.raises(ObjectiveError, match=words):
        Constraint.parse(text)


def test_constraints_fail_on_missing_or_nan_statistics() -> None:
    c = Constraint.parse("# Trades>=30")
    assert c.holds({"# Trades": 30}) and not c.holds({"# Trades": 29}) and not c.holds({"# Trades": None})
