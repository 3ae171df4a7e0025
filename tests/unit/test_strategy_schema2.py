"""Schema 2: schema-1 files migrate on read with identical results; new keys validate with their JSON paths."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategy_gen import series, strategy_dicts

from domain.backtest import BacktestSettings
from domain.backtest.run import BacktestResult, run_backtest
from domain.market import CandleSeries, Timeframe
from domain.strategy import (
    Distance,
    Risk,
    TakeProfitLevel,
    Trailing,
    check_timeframes,
    evaluate,
    migrate,
    parse_strategy,
    strategy_to_dict,
    validate_strategy,
)

SAMPLES = sorted((Path(__file__).parents[2] / "resources" / "strategies").glob("*.json"))


def walk(n: int = 3000, seed: int = 3) -> CandleSeries:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.r_[close[0], close[:-1]]
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.01, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.01, n))
    ts = np.arange(n, dtype=np.int64) * Timeframe.M5.ms
    return CandleSeries.from_columns(Timeframe.M5, ts, open_, high, low, close, rng.uniform(1, 9, n))


def same_result(a: BacktestResult, b: BacktestResult) -> None:
    assert np.array_equal(a.equity, b.equity)
    for name in ("side", "size", "entry_bar", "exit_bar", "entry_price", "exit_price", "pnl", "exit_reason"):
        assert np.array_equal(getattr(a.trades, name), getattr(b.trades, name)), name
    assert a.stats.keys() == b.stats.keys()


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_every_bundled_sample_migrates_to_schema_2_with_identical_backtests(path: Path) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    migrated = migrate(doc)
    assert migrated["schema"] == 2 and validate_strategy(migrated) == []
    assert migrated.get("notes") == doc.get("notes") and migrated.get("tags") == doc.get("tags")
    old, new = parse_strategy(doc), parse_strategy(migrated)
    assert old == new
    data, cfg = walk(), BacktestSettings(commission=0.001)
    assert evaluate(old, data) == evaluate(new, data)
    same_result(run_backtest(old, data, cfg), run_backtest(new, data, cfg))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strategy_dicts(schemas=(1,)), series(min_size=30, max_size=150))
def test_generated_schema_1_definitions_migrate_to_the_same_strategy_and_trades(doc: dict, bars: CandleSeries) -> None:
    migrated = migrate(doc)
    assert migrated["schema"] == 2 and "stop_loss_pct" not in migrated["risk"]
    old, new = parse_strategy(doc), parse_strategy(migrated)
    assert old == new and old.risk.is_v1
    assert evaluate(old, bars) == evaluate(new, bars)
    cfg = BacktestSettings(commission=0.001)
    try:
        first = run_backtest(old, bars, cfg)
    except ValueError:  # too few bars for this strategy's warm-up: the migrated one refuses alike
        with pytest.raises(ValueError):
            run_backtest(new, bars, cfg)
        return
    same_result(first, run_backtest(new, bars, cfg))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strategy_dicts(schemas=(2,)))
def test_schema_2_definitions_round_trip_through_the_codec(doc: dict) -> None:
    strategy = parse_strategy(doc)
    out = strategy_to_dict(strategy)
    assert parse_strategy(out) == strategy
    assert strategy_to_dict(parse_strategy(out)) == out


def v2(**extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "schema": 2, "name": "v2", "direction": "long_only", "crossover": "strict",
        "entry_long": {"all": [{"left": {"var": "close"}, "op": "gt",
                                "right": {"mul": [{"var": "sma", "params": {"period": 20}}, {"const": 1.02}]}}]},
        "entry_short": None,
        "exit_long": {"any": [{"left": {"var": "position_return_pct"}, "op": "ge", "right": {"const": 5}},
                              {"left": {"var": "bars_in_position"}, "op": "gt", "right": {"const": 48}}]},
        "exit_short": None,
        "risk": {"position_size_pct": 50, "stop_loss": {"atr": {"period": 14, "mult": 2}},
                 "take_profit": [{"pct": 2, "close_pct": 50}, {"atr": {"period": 14, "mult": 4}, "close_pct": 50}],
                 "trailing_stop": {"pct": 3, "anchor": "close"}},
        "scale_in": {"when": {"all": [{"left": {"var": "position_return_pct"}, "op": "ge", "right": {"const": 2}}]},
                     "size_pct": 50, "max_adds": 3, "min_bars_between": 1},
    }
    doc.update(extra)
    return doc


def test_a_full_schema_2_definition_parses_into_the_documented_model_and_writes_back_unchanged() -> None:
    doc = v2()
    strategy = parse_strategy(doc)
    assert strategy.crossover == "strict" and strategy.scale_in is not None and strategy.scale_in.max_adds == 3
    assert strategy.risk == Risk(50, Distance.atr(14, 2), (TakeProfitLevel(Distance.pct(2), 50),
                                                           TakeProfitLevel(Distance.atr(14, 4), 50)),
                                 Trailing(Distance.pct(3), "close"))
    assert strategy_to_dict(strategy) == doc


def test_schema_1_percentages_read_as_pct_distances_and_keep_their_old_names_as_properties() -> None:
    risk = Risk(100, 2.0, 4.0, 1.5)
    assert risk.stop_loss == Distance.pct(2) and risk.take_profit == (TakeProfitLevel(Distance.pct(4)),)
    assert risk.trailing_stop == Trailing(Distance.pct(1.5), "extreme")
    assert (risk.stop_loss_pct, risk.take_profit_pct, risk.trailing_stop_pct) == (2, 4, 1.5) and risk.is_v1
    assert not Risk(100, Distance.atr(14, 2)).is_v1 and Risk(100, Distance.atr(14, 2)).stop_loss_pct is None


def mutate(change: Any) -> list[tuple[str, str]]:
    doc = copy.deepcopy(v2())
    change(doc)
    return [(i.path, i.message) for i in validate_strategy(doc)]


LEFT = "entry_long.all[0].right"


def nested(levels: int) -> dict[str, Any]:
    operand: dict[str, Any] = {"var": "close"}
    for _ in range(levels):
        operand = {"add": [operand, {"const": 1}]}
    return operand
CASES = [
    (lambda d: d["entry_long"]["all"][0]["right"].update(mul=[{"var": "sma"}]), f"{LEFT}.mul",
     "must be a list of two operands"),
    (lambda d: d["entry_long"]["all"][0].update(right={"mul": [{"const": 1}, {"const": 2}]}), LEFT,
     "two constants"),
    (lambda d: d["entry_long"]["all"][0].update(right={"mul": [{"var": "close"}, {"var": "sma"}]}), LEFT,
     "no unit"),
    (lambda d: d["entry_long"]["all"][0].update(right={"div": [{"var": "atr"}, {"var": "close"}]}), "entry_long.all[0]",
     "cannot compare close (price) with (atr(14) / close) (ratio)"),
    (lambda d: d["entry_long"]["all"][0].update(right={"div": [{"const": 1}, {"var": "close"}]}), LEFT,
     "dividing a constant"),
    (lambda d: d["entry_long"]["all"][0].update(right=nested(5)), f"{LEFT}.add[0].add[0].add[0].add[0]",
     "deeper than 4"),
    (lambda d: d["entry_long"]["all"][0]["right"]["mul"][0].update(timeframe="2h"),
     f"{LEFT}.mul[0].timeframe", "must be one of 1m"),
    (lambda d: d["entry_long"]["all"][0].update(left={"var": "position_return_pct"}), "entry_long.all[0].left.var",
     "use it in exit rules or scale_in.when"),
    (lambda d: d["exit_long"]["any"][0]["left"].update(timeframe="1h"), "exit_long.any[0].left.timeframe",
     "takes no timeframe"),
    (lambda d: d["risk"].update(stop_loss={"pct": 2, "atr": {"period": 14, "mult": 2}}), "risk.stop_loss",
     "exactly one of"),
    (lambda d: d["risk"].update(stop_loss={"atr": {"period": 0, "mult": 2}}), "risk.stop_loss.atr.period",
     "must be an integer ≥ 1"),
    (lambda d: d["risk"].update(stop_loss={"atr": {"period": 14}}), "risk.stop_loss.atr.mult", "missing"),
    (lambda d: d["risk"]["take_profit"][1].update(close_pct=40), "risk.take_profit",
     "add up to 100, not 90"),
    (lambda d: d["risk"]["take_profit"][0].pop("close_pct"), "risk.take_profit[0].close_pct", "missing"),
    (lambda d: d["risk"].update(take_profit={"pct": 4, "close_pct": 50}), "risk.take_profit.close_pct",
     "closes the whole position"),
    (lambda d: d["risk"]["trailing_stop"].update(anchor="high"), "risk.trailing_stop.anchor",
     "must be one of extreme, close"),
    (lambda d: d["risk"].update(stop_loss_pct=2), "risk.stop_loss_pct", "risk.stop_loss is set too"),
    (lambda d: d["risk"].update(trailing_stop=None, trailing_stop_pct=0), "risk.trailing_stop_pct",
     "must be a number > 0"),
    (lambda d: d["scale_in"].pop("max_adds"), "scale_in.max_adds", "missing"),
    (lambda d: d["scale_in"].update(size_pct=0), "scale_in.size_pct", "must be a number > 0"),
    (lambda d: d["scale_in"].update(min_bars_between=-1), "scale_in.min_bars_between", "must be an integer ≥ 0"),
    (lambda d: d["scale_in"]["when"]["all"][0].update(op="above"), "scale_in.when.all[0].op", "must be one of"),
    (lambda d: d.update(crossover="both"), "crossover", "must be one of inclusive, strict"),
]


@pytest.mark.parametrize(("change", "path", "fragment"), CASES, ids=[c[1] + ":" + c[2][:20] for c in CASES])
def test_each_schema_2_mistake_names_its_json_path(change: Any, path: str, fragment: str) -> None:
    issues = mutate(change)
    assert any(p == path and fragment in m for p, m in issues), issues


def test_arithmetic_may_nest_four_levels() -> None:
    assert validate_strategy(v2(entry_long={"all": [{"left": nested(4), "op": "gt", "right": {"var": "close"}}]})) == []


def test_a_schema_1_percentage_field_fills_a_null_schema_2_field_as_a_pct_distance() -> None:
    doc = v2()
    doc["risk"].update(stop_loss=None, stop_loss_pct=2.5)
    assert parse_strategy(doc).risk.stop_loss == Distance.pct(2.5)
    assert strategy_to_dict(parse_strategy(doc))["risk"]["stop_loss"] == {"pct": 2.5}


def test_the_documented_arithmetic_examples_are_valid() -> None:
    sma, ema, atr = ({"var": n, "params": {"period": p}} for n, p in (("sma", 20), ("ema", 50), ("atr", 14)))
    conditions = [
        {"left": {"var": "close"}, "op": "gt", "right": {"mul": [sma, {"const": 1.02}]}},
        {"left": {"var": "close"}, "op": "lt", "right": {"sub": [ema, {"mul": [{"const": 2}, atr]}]}},
        {"left": {"div": [atr, {"var": "close"}]}, "op": "gt", "right": {"const": 0.01}},
        {"left": {"sub": [{"var": "close"}, sma]}, "op": "gt", "right": atr},
    ]
    for cond in conditions:
        assert validate_strategy(v2(entry_long={"all": [cond]})) == [], cond


@pytest.mark.parametrize(("base", "higher", "ok"), [
    (Timeframe.M1, "5m", True), (Timeframe.M5, "4h", True), (Timeframe.H1, "1d", True), (Timeframe.M1, "1w", True),
    (Timeframe.M3, "10m", False), (Timeframe.H4, "1h", False), (Timeframe.M15, "1m", False),
])
def test_an_operand_timeframe_must_be_a_whole_multiple_of_the_data_timeframe(base: Timeframe, higher: str,
                                                                             ok: bool) -> None:
    doc = v2()
    doc["entry_long"]["all"][0]["right"]["mul"][0]["timeframe"] = higher
    issues = check_timeframes(parse_strategy(doc), base)
    if ok:
        assert issues == []
    else:
        assert [i.path for i in issues] == [f"{LEFT}.mul[0].timeframe"]
        assert "not a whole multiple" in issues[0].message


@given(st.sampled_from(["1m", "3m", "5m"]))
def test_evaluating_on_bars_the_timeframe_does_not_divide_is_refused_naming_the_path(code: str) -> None:
    doc = v2(exit_long=None, scale_in=None)
    doc["entry_long"]["all"][0]["right"]["mul"][0]["timeframe"] = code
    data = walk(50)  # 5-minute bars
    if code in ("1m", "3m"):
        with pytest.raises(ValueError, match=r"entry_long\.all\[0\]\.right\.mul\[0\]\.timeframe"):
            evaluate(parse_strategy(doc), data)
    else:
        assert len(evaluate(parse_strategy(doc), data)) == 50
