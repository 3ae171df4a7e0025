"""Strategy validation names every problem by its JSON path; the JSON shape round-trips exactly."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from domain.strategy import (
    MAX_DEPTH,
    StrategyInvalid,
    dumps_strategy,
    loads_strategy,
    parse_strategy,
    strategy_to_dict,
    validate_strategy,
)


def sma(period: Any) -> dict[str, Any]:
    return {"var": "sma", "params": {"period": period}}


def sma_cross() -> dict[str, Any]:
    return {
        "schema": 1, "name": "SMA 10/20 cross", "direction": "long_short",
        "entry_long": {"all": [{"left": sma(10), "op": "crosses_above", "right": sma(20)}]},
        "entry_short": {"all": [{"left": sma(10), "op": "crosses_below", "right": sma(20)}]},
        "exit_long": None, "exit_short": None,
        "risk": {"position_size_pct": 100, "stop_loss_pct": None, "take_profit_pct": None,
                 "trailing_stop_pct": None},
    }


def messages(doc: Any) -> list[str]:
    return [str(issue) for issue in validate_strategy(doc)]


def test_the_documented_example_is_valid_and_migrates_to_the_schema_2_dict_which_round_trips() -> None:
    doc = sma_cross()
    assert validate_strategy(doc) == []
    v2 = strategy_to_dict(parse_strategy(doc))
    expected = {**doc, "schema": 2, "crossover": "inclusive",
                "risk": {"position_size_pct": 100, "stop_loss": None, "take_profit": None, "trailing_stop": None}}
    assert v2 == expected
    assert strategy_to_dict(parse_strategy(v2)) == v2
    assert loads_strategy(dumps_strategy(parse_strategy(doc))) == parse_strategy(doc) == parse_strategy(v2)


def test_a_bad_period_is_reported_at_its_exact_path() -> None:
    doc = sma_cross()
    doc["entry_long"] = {"all": [{"left": {"var": "rsi", "params": {"period": 14}}, "op": "lt",
                                  "right": {"const": 30}},
                                 {"left": {"var": "close"}, "op": "gt", "right": sma(0)}]}
    assert messages(doc) == ["entry_long.all[1].right.params.period: must be an integer ≥ 1"]


def test_every_problem_is_reported_not_just_the_first() -> None:
    doc = sma_cross()
    doc["name"] = ""
    doc["direction"] = "sideways"
    doc["entry_long"]["all"][0]["left"] = {"var": "smaa"}
    doc["entry_short"]["all"][0]["right"]["params"]["period"] = 2.5
    doc["risk"]["stop_loss_pct"] = -1
    paths = [issue.path for issue in validate_strategy(doc)]
    assert paths == ["name", "direction", "entry_long.all[0].left.var",
                     "entry_short.all[0].right.params.period", "risk.stop_loss_pct"]


@pytest.mark.parametrize(("mutate", "path", "fragment"), [
    (lambda d: d["entry_long"]["all"][0].update(op="above"), "entry_long.all[0].op", "must be one of"),
    (lambda d: d["entry_long"]["all"][0]["left"].update(field="signal"), "entry_long.all[0].left.field",
     "has no output 'signal'"),
    (lambda d: d["entry_long"]["all"][0]["left"]["params"].update(length=3), "entry_long.all[0].left.params.length",
     "unknown parameter"),
    (lambda d: d["entry_long"].update(all=[]), "entry_long.all", "at least one condition"),
    (lambda d: d.update(entry_short=None), "entry_short", "required for direction long_short"),
    (lambda d: d.update(entry_long=[1]), "entry_long", "must be an object, not a list"),
    (lambda d: d["entry_long"]["all"][0].pop("right"), "entry_long.all[0].right", "missing"),
    (lambda d: d["entry_long"]["all"][0].update(right={"const": "30"}), "entry_long.all[0].right.const",
     "finite number"),
    (lambda d: d["entry_long"]["all"][0].update(right={"var": "rsi"}), "entry_long.all[0]",
     "their units differ"),
    (lambda d: d["entry_long"]["all"][0].update(left={"const": 1}, right={"const": 2}), "entry_long.all[0]",
     "two constants"),
    (lambda d: d["entry_long"]["all"][0].update(left={"var": "cci"}, right={"var": "obv"}), "entry_long.all[0]",
     "units differ"),
    (lambda d: d.update(colour="red"), "colour", "unknown key"),
    (lambda d: d["risk"].update(position_size_pct=150), "risk.position_size_pct", "≤ 100"),
    (lambda d: d["entry_long"].update(any=[]), "entry_long", 'exactly one key'),
    (lambda d: d.update(schema=3), "schema", "unknown schema version 3"),
    (lambda d: d.pop("schema"), "schema", "missing"),
    (lambda d: d["entry_long"]["all"][0]["left"]["params"].update(period=True), "entry_long.all[0].left.params.period",
     "must be an integer"),
])
def test_each_kind_of_mistake_names_its_path(mutate: Any, path: str, fragment: str) -> None:
    doc = copy.deepcopy(sma_cross())
    mutate(doc)
    issues = validate_strategy(doc)
    assert any(i.path == path and fragment in i.message for i in issues), issues


def test_indicators_with_cross_parameter_rules_report_them() -> None:
    doc = sma_cross()
    doc["entry_long"]["all"][0] = {"left": {"var": "macd", "params": {"fast": 30, "slow": 10, "signal": 9}},
                                   "op": "gt", "right": {"const": 0}}
    assert [i.path.startswith("entry_long.all[0].left.params") for i in validate_strategy(doc)] == [True]


def test_comparable_pairs_are_accepted() -> None:
    doc = sma_cross()
    doc["entry_long"] = {"all": [
        {"left": {"var": "close"}, "op": "gt", "right": {"var": "bbands", "params": {"period": 20}, "field": "upper"}},
        {"left": {"var": "rsi"}, "op": "lt", "right": {"var": "stoch", "field": "k"}},
        {"left": {"var": "macd", "field": "macd"}, "op": "crosses_above", "right": {"var": "macd", "field": "signal"}},
        {"left": {"var": "cci", "params": {"period": 14}}, "op": "gt",
         "right": {"var": "cci", "params": {"period": 50}}},
        {"left": {"var": "volume"}, "op": "gt", "right": {"var": "volume_sma"}},
        {"left": {"var": "close"}, "op": "gt", "right": {"const": 50_000}},
    ]}
    assert validate_strategy(doc) == []


def test_missing_params_take_the_catalog_defaults() -> None:
    doc = sma_cross()
    doc["entry_long"]["all"][0]["left"] = {"var": "sma"}
    strategy = parse_strategy(doc)
    assert strategy_to_dict(strategy)["entry_long"]["all"][0]["left"] == {"var": "sma", "params": {"period": 20}}


def test_nesting_deeper_than_the_bound_is_refused_without_recursing_further() -> None:
    group: dict[str, Any] = {"all": [{"left": {"var": "close"}, "op": "gt", "right": {"const": 1}}]}
    for _ in range(500):
        group = {"any": [group]}
    doc = sma_cross()
    doc["exit_long"] = group
    (issue,) = validate_strategy(doc)
    assert issue.path == "exit_long" + ".any[0]" * MAX_DEPTH
    assert f"deeper than {MAX_DEPTH}" in issue.message


def test_groups_at_the_depth_bound_are_accepted() -> None:
    group: dict[str, Any] = {"all": [{"left": {"var": "close"}, "op": "gt", "right": {"const": 1}}]}
    for _ in range(MAX_DEPTH - 1):
        group = {"any": [group]}
    doc = sma_cross()
    doc["exit_long"] = group
    assert validate_strategy(doc) == []


def test_malformed_json_names_line_and_column() -> None:
    text = json.dumps(sma_cross(), indent=2).replace('"direction"', "direction", 1)
    with pytest.raises(StrategyInvalid) as info:
        loads_strategy(text)
    assert "malformed JSON at line 4, column 3" in str(info.value)


def test_absurdly_deep_json_is_refused_with_a_message() -> None:
    with pytest.raises(StrategyInvalid, match="nests too deeply"):
        loads_strategy("[" * 200_000 + "]" * 200_000)


def test_nan_constants_are_not_json() -> None:
    with pytest.raises(StrategyInvalid, match="NaN"):
        loads_strategy(json.dumps(sma_cross()).replace('"stop_loss_pct": null', '"stop_loss_pct": NaN'))


def test_a_non_object_document_is_refused() -> None:
    assert messages([1, 2]) == ["must be an object, not a list"]


def test_multi_output_indicators_name_their_field_when_written_back() -> None:
    doc = sma_cross()
    doc["entry_long"]["all"][0] = {"left": {"var": "macd"}, "op": "crosses_above",
                                   "right": {"var": "macd", "field": "signal"}}
    written = strategy_to_dict(parse_strategy(doc))["entry_long"]["all"][0]
    assert written["left"] == {"var": "macd", "params": {"fast": 12, "slow": 26, "signal": 9}, "field": "macd"}
    assert parse_strategy({**doc, "entry_long": {"all": [written]}}) == parse_strategy(doc)


def test_a_cyclic_group_is_stopped_by_the_depth_bound() -> None:
    group: dict[str, Any] = {"any": []}
    group["any"].append(group)
    doc = sma_cross()
    doc["exit_long"] = group
    (issue,) = validate_strategy(doc)
    assert issue.path.startswith("exit_long.any[0]") and "deeper than" in issue.message


def test_an_unknown_crossover_rule_is_rejected_naming_its_key() -> None:
    doc = {"schema": 1, "name": "x", "direction": "long_only", "crossover": "loose",
           "entry_long": {"all": [{"left": {"var": "close"}, "op": "gt", "right": {"const": 1}}]},
           "risk": {"position_size_pct": 100}}
    issues = validate_strategy(doc)
    assert [(i.path, i.message) for i in issues] == [("crossover", "must be one of inclusive, strict, not 'loose'")]
