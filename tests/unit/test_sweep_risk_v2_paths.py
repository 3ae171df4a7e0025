"""Sweeps reach schema 2's risk and scale-in numbers: ATR multiples and periods, level distances, scale-in sizes."""

from __future__ import annotations

from typing import Any

import pytest
from sweep_fixtures import walk

from domain.backtest import BacktestSettings
from domain.backtest.run import json_value, run_backtest
from domain.strategy import parse_strategy
from domain.sweep import SweepJob, SweepSpace, SweepTask, make_axis, numeric_slots, run_task
from domain.sweep.paths import set_values, short_label
from domain.sweep.space import SpaceError

SETTINGS = BacktestSettings(commission=0.001)
MULT, LEVEL, ADD = "risk.stop_loss.atr.mult", "risk.take_profit[1].pct", "scale_in.size_pct"


def definition() -> dict[str, Any]:
    rsi = {"var": "rsi", "params": {"period": 8}}
    return {"schema": 2, "name": "levels", "direction": "long_only",
            "entry_long": {"all": [{"left": rsi, "op": "crosses_above", "right": {"const": 40}}]},
            "risk": {"position_size_pct": 40, "stop_loss": {"atr": {"period": 14, "mult": 2}},
                     "take_profit": [{"atr": {"period": 14, "mult": 1.5}, "close_pct": 50},
                                     {"pct": 3, "close_pct": 50}],
                     "trailing_stop": {"pct": 2, "anchor": "close"}},
            "scale_in": {"when": {"all": [{"left": {"var": "position_return_pct"}, "op": "le",
                                           "right": {"const": -1}}]},
                         "size_pct": 50, "max_adds": 2, "min_bars_between": 1}}


def test_a_small_sweep_over_atr_multiple_level_distance_and_scale_in_size_equals_lone_backtests() -> None:
    d, series = definition(), walk()
    space = SweepSpace((make_axis(d, [MULT], "1,3"), make_axis(d, [LEVEL], "2,6"), make_axis(d, [ADD], "25,100")))
    job = SweepJob(d, space, SETTINGS, data_key="walk")
    results = run_task(SweepTask(job, tuple(space.grid()), 0, len(series)), series)
    assert len(results) == 8
    for r in results:
        mult, level, add = r.params
        point = set_values(d, {MULT: mult, LEVEL: level, ADD: add})
        strategy = parse_strategy(point)
        assert strategy.risk.stop_loss is not None and strategy.risk.stop_loss.value == mult
        assert strategy.risk.take_profit[1].distance.value == level
        assert strategy.scale_in is not None and strategy.scale_in.size_pct == add
        alone = run_backtest(strategy, series, SETTINGS)
        assert r.stats["# Trades"] == json_value(alone.stats["# Trades"])
        assert r.stats["Return [%]"] == json_value(alone.stats["Return [%]"])
    assert len({r.stats["Return [%]"] for r in results}) > 4  # the swept numbers really change the trades


@pytest.mark.parametrize(("path", "spec", "message"), [
    (MULT, "0,2", "the value 0 must be > 0"),
    ("risk.stop_loss.atr.period", "7.5", "not a whole number"),
    ("risk.stop_loss.atr.period", "0,14", "the value 0 must be ≥ 1"),
    ("risk.take_profit[1].pct", "20000", "must be ≤ 10000"),
    ("risk.trailing_stop.pct", "150", "must be ≤ 100"),
    ("scale_in.max_adds", "0,2", "the value 0 must be ≥ 1"),
    ("risk.take_profit[0].close_pct", "40,60", "close_pct must add up to 100"),
    ("risk.trailing_stop.atr.mult", "1,2", "no such key 'atr'"),
    ("risk.take_profit[2].pct", "1,2", "has only 2 item(s)"),
])
def test_schema_2_paths_are_checked_and_the_error_names_the_path(path: str, spec: str, message: str) -> None:
    with pytest.raises(SpaceError, match=r"risk|scale_in") as err:
        make_axis(definition(), [path], spec)
    assert message in str(err.value) and path.split(".")[0] in str(err.value)


def test_the_sweepable_slots_of_a_schema_2_strategy_are_its_own_risk_and_scale_in_numbers() -> None:
    slots = {s.path: s for s in numeric_slots(definition())}
    for path in ("risk.position_size_pct", "risk.stop_loss.atr.period", MULT, "risk.take_profit[0].atr.mult",
                 LEVEL, "risk.trailing_stop.pct", ADD, "scale_in.max_adds", "scale_in.min_bars_between"):
        assert path in slots
    assert "risk.stop_loss_pct" not in slots
    assert (slots[MULT].kind, slots[MULT].value) == ("float", 2.0)
    assert (slots["scale_in.max_adds"].kind, slots["scale_in.max_adds"].value) == ("int", 2.0)
    assert short_label(definition(), MULT) == "stop_loss.atr.mult"
    assert short_label(definition(), ADD) == "scale_in.size_pct"
