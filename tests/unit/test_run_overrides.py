"""Which values of a run's definition differ from the saved strategy's."""

from __future__ import annotations

import copy
from typing import Any

from app.backtests.overrides import overridden_values


def saved() -> dict[str, Any]:
    return {"schema": 1, "name": "EMA 12/26", "direction": "long_only",
            "entry_long": {"all": [{"left": {"var": "ema", "params": {"period": 12}}, "op": "crosses_above",
                                    "right": {"var": "ema", "params": {"period": 26}}}]},
            "risk": {"position_size_pct": 100, "stop_loss_pct": None}}


def test_the_strategy_as_saved_has_no_overrides_even_renamed_or_with_whole_floats() -> None:
    run = copy.deepcopy(saved())
    run["name"] = "EMA 12/26 (copy)"
    run["entry_long"]["all"][0]["left"]["params"]["period"] = 12.0
    assert overridden_values(saved(), run) == {}


def test_each_changed_value_is_named_by_its_path_with_both_values() -> None:
    run = copy.deepcopy(saved())
    run["entry_long"]["all"][0]["left"]["params"]["period"] = 24
    run["risk"]["stop_loss_pct"] = 2.5
    assert overridden_values(saved(), run) == {
        "entry_long.all[0].left.params.period": {"saved": 12, "run": 24},
        "risk.stop_loss_pct": {"saved": None, "run": 2.5},
    }


def test_a_list_of_another_length_is_reported_whole() -> None:
    run = copy.deepcopy(saved())
    extra = {"left": {"var": "close"}, "op": "gt", "right": {"const": 1}}
    run["entry_long"]["all"].append(extra)
    diff = overridden_values(saved(), run)
    assert list(diff) == ["entry_long.all"] and diff["entry_long.all"]["run"][-1] == extra
