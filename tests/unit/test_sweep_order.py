"""Fast below slow: which swept parameters pair up, and which points are skipped."""

from __future__ import annotations

from typing import Any

from domain.sweep import SweepSpace, fast_below_slow, keep_ordered, make_axis

FAST = "entry_long.all[0].left.params.period"
SLOW = "entry_long.all[0].right.params.period"


def cross(left: str = "ema", right: str = "ema") -> dict[str, Any]:
    return {"schema": 1, "name": "cross", "direction": "long_only",
            "entry_long": {"all": [{"left": {"var": left, "params": {"period": 12}}, "op": "crosses_above",
                                    "right": {"var": right, "params": {"period": 26}}}]},
            "entry_short": None, "exit_long": None, "exit_short": None,
            "risk": {"position_size_pct": 100, "stop_loss_pct": None, "take_profit_pct": None,
                     "trailing_stop_pct": None}}


def test_two_periods_of_the_same_indicator_kind_pair_up_first_param_below_second() -> None:
    definition = cross()
    axes = (make_axis(definition, [FAST], "10:30:10"), make_axis(definition, [SLOW], "10:30:10"))
    rules = fast_below_slow(definition, axes)
    assert [(r.low, r.high, r.label) for r in rules] == [(0, 1, "ema.period")]
    space = SweepSpace(axes)
    kept = keep_ordered(space, space.grid(), rules)
    assert [space.params(c) for c in kept] == [(10.0, 20.0), (10.0, 30.0), (20.0, 30.0)]


def test_periods_of_different_indicator_kinds_and_risk_values_do_not_pair() -> None:
    definition = cross("sma", "ema")
    axes = (make_axis(definition, [FAST], "10,20"), make_axis(definition, [SLOW], "10,20"),
            make_axis(definition, ["risk.position_size_pct"], "50,100"))
    assert fast_below_slow(definition, axes) == ()


def test_macds_own_fast_and_slow_pair_whatever_the_order_they_are_swept_in() -> None:
    definition = cross()
    definition["entry_long"]["all"][0]["left"] = {"var": "macd", "params": {"fast": 12, "slow": 26, "signal": 9}}
    slow = make_axis(definition, ["entry_long.all[0].left.params.slow"], "10,20")
    fast = make_axis(definition, ["entry_long.all[0].left.params.fast"], "10,20")
    rules = fast_below_slow(definition, (slow, fast))
    assert [(r.low, r.high) for r in rules] == [(1, 0)]
    assert rules[0].holds((20.0, 10.0)) and not rules[0].holds((10.0, 10.0))


def test_the_gui_can_ask_which_swept_parameters_fast_below_slow_would_order() -> None:
    from app.sweeps.plan import ParamRange, fast_slow_pairs

    definition = cross()
    assert fast_slow_pairs(definition, [ParamRange((FAST,), "5:20:5"), ParamRange((SLOW,), "20:60:10")]) == [
        (FAST, SLOW)]
    assert fast_slow_pairs(definition, [ParamRange((FAST,), "5:20:5")]) == []
    assert fast_slow_pairs(definition, [ParamRange((FAST,), "5:"), ParamRange((SLOW,), "20:60:10")]) == []
