"""Evaluation semantics: exact crosses, warm-up NaN compares False, groups, previews and warm-up length."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from domain.indicators import CATALOG
from domain.market import Candle, CandleSeries, Timeframe
from domain.strategy import (
    IncrementalEvaluator,
    evaluate,
    indicator_columns,
    parse_strategy,
    strategy_to_dict,
    warmup_bars,
)


def bars(close: list[float]) -> CandleSeries:
    c = np.asarray(close, dtype=np.float64)
    ts = np.arange(len(c), dtype=np.int64) * Timeframe.M1.ms
    return CandleSeries.from_columns(Timeframe.M1, ts, c, c + 1, c - 1, c, np.ones(len(c)))


def long_only(entry: dict[str, Any], exit_: dict[str, Any] | None = None) -> Any:
    return parse_strategy({"schema": 1, "name": "t", "direction": "long_only", "entry_long": entry,
                           "entry_short": None, "exit_long": exit_, "exit_short": None,
                           "risk": {"position_size_pct": 100}})


def close_vs(op: str, value: float) -> dict[str, Any]:
    return {"all": [{"left": {"var": "close"}, "op": op, "right": {"const": value}}]}


def test_crosses_above_needs_at_or_below_before_and_strictly_above_now() -> None:
    series = bars([9, 10, 11, 11, 10, 12, 12, 9, 11])
    got = evaluate(long_only(close_vs("crosses_above", 10)), series).entry_long
    # 10→11 crosses (was equal), 10→12 crosses, 9→11 crosses; staying above does not.
    assert got.tolist() == [False, False, True, False, False, True, False, False, True]


def test_crosses_below_is_the_mirror() -> None:
    series = bars([11, 10, 9, 9, 10, 8, 11])
    got = evaluate(long_only(close_vs("crosses_below", 10)), series).entry_long
    assert got.tolist() == [False, False, True, False, False, True, False]


def strict(strategy: Any) -> Any:
    return parse_strategy({**strategy_to_dict(strategy), "crossover": "strict"})


def test_a_strict_cross_needs_the_previous_bar_strictly_on_the_other_side() -> None:
    series = bars([9, 10, 11, 11, 10, 12, 12, 9, 11])
    got = evaluate(strict(long_only(close_vs("crosses_above", 10))), series).entry_long
    # 10→11 and 10→12 only touched before: no cross under the strict rule; 9→11 crosses.
    assert got.tolist() == [False, False, False, False, False, False, False, False, True]


def test_a_strict_cross_below_is_the_mirror() -> None:
    series = bars([11, 10, 9, 9, 10, 8, 11, 12, 9])
    got = evaluate(strict(long_only(close_vs("crosses_below", 10))), series).entry_long
    assert got.tolist() == [False, False, False, False, False, False, False, False, True]


@pytest.mark.parametrize("rule", ["inclusive", "strict"])
def test_the_incremental_evaluator_follows_the_strategy_crossover_rule(rule: str) -> None:
    strategy = parse_strategy({**strategy_to_dict(long_only(close_vs("crosses_above", 10), close_vs(
        "crosses_below", 10))), "crossover": rule})
    series = bars([9, 10, 11, 11, 10, 9, 10, 12, 10, 10, 8, 9, 11])
    whole = evaluate(strategy, series)
    live = IncrementalEvaluator(strategy, series.take(slice(0, 1)))
    rows = [live.update(series.candle(i)) for i in range(1, len(series))]
    assert [r.entry_long for r in rows] == whole.entry_long[1:].tolist()
    assert [r.exit_long for r in rows] == whole.exit_long[1:].tolist()


def test_the_first_bar_never_crosses() -> None:
    assert not evaluate(long_only(close_vs("crosses_above", 0)), bars([5.0])).entry_long[0]


@pytest.mark.parametrize(("op", "expected"), [
    ("gt", [False, False, True]), ("ge", [False, True, True]),
    ("lt", [True, False, False]), ("le", [True, True, False]),
])
def test_plain_comparisons_treat_equality_as_documented(op: str, expected: list[bool]) -> None:
    assert evaluate(long_only(close_vs(op, 10)), bars([9, 10, 11])).entry_long.tolist() == expected


def test_indicator_warm_up_compares_false_even_against_permissive_operators() -> None:
    entry = {"all": [{"left": {"var": "sma", "params": {"period": 3}}, "op": "le", "right": {"const": 1e9}}]}
    got = evaluate(long_only(entry), bars([1, 2, 3, 4])).entry_long
    assert got.tolist() == [False, False, True, True]


def test_all_and_any_groups_nest() -> None:
    entry = {"any": [{"all": [{"left": {"var": "close"}, "op": "gt", "right": {"const": 2}},
                              {"left": {"var": "close"}, "op": "lt", "right": {"const": 5}}]},
                     {"left": {"var": "close"}, "op": "ge", "right": {"const": 9}}]}
    got = evaluate(long_only(entry), bars([1, 3, 4, 6, 9, 10])).entry_long
    assert got.tolist() == [False, True, True, False, True, True]


def test_exit_rules_and_disabled_sides() -> None:
    strategy = long_only(close_vs("gt", 2), close_vs("lt", 2))
    signals = evaluate(strategy, bars([1, 3]))
    assert signals.exit_long.tolist() == [True, False]
    assert not signals.entry_short.any() and not signals.exit_short.any()


def test_indicator_columns_are_keyed_by_readable_labels() -> None:
    entry = {"all": [{"left": {"var": "sma", "params": {"period": 2}}, "op": "gt",
                      "right": {"var": "close"}},
                     {"left": {"var": "macd", "field": "signal"}, "op": "gt", "right": {"const": 0}},
                     {"left": {"var": "macd"}, "op": "gt", "right": {"const": 0}}]}
    series = bars([1, 2, 3, 4])
    cols = indicator_columns(long_only(entry), series)
    assert list(cols) == ["sma(2)", "close", "macd(12,26,9).signal", "macd(12,26,9).macd"]
    assert np.allclose(cols["sma(2)"][1:], [1.5, 2.5, 3.5]) and np.isnan(cols["sma(2)"][0])
    np.testing.assert_array_equal(cols["close"], series.close)


def test_warmup_counts_the_slowest_operand_and_one_more_bar_for_crosses() -> None:
    entry = {"all": [{"left": {"var": "sma", "params": {"period": 10}}, "op": "crosses_above",
                      "right": {"var": "sma", "params": {"period": 30}}},
                     {"left": {"var": "rsi", "params": {"period": 14}}, "op": "lt", "right": {"const": 70}}]}
    sma30 = CATALOG["sma"].warmup({"period": 30})
    assert warmup_bars(long_only(entry)) == max(sma30 + 1, CATALOG["rsi"].warmup({"period": 14}))


def test_incremental_refuses_a_bar_that_is_not_newer() -> None:
    evaluator = IncrementalEvaluator(long_only(close_vs("gt", 1)), bars([1, 2]))
    with pytest.raises(ValueError, match="not after"):
        evaluator.update(Candle(Timeframe.M1.ms, 1, 2, 0, 1, 1))


def test_incremental_grows_its_buffer_and_matches_whole_series() -> None:
    entry = {"all": [{"left": {"var": "ema", "params": {"period": 5}}, "op": "crosses_above",
                      "right": {"var": "sma", "params": {"period": 8}}}]}
    strategy = long_only(entry)
    rng = np.random.default_rng(7)
    series = bars(list(100 + np.cumsum(rng.normal(0, 1, 300))))
    evaluator = IncrementalEvaluator(strategy, series.take(slice(0, 0)), max_bars=None)
    rows = [evaluator.update(series.candle(i)).entry_long for i in range(len(series))]
    assert rows == evaluate(strategy, series).entry_long.tolist()
    assert any(rows) and len(evaluator) == 300


def test_a_bounded_evaluator_keeps_few_bars_yet_signals_as_on_the_whole_series() -> None:
    entry = {"all": [{"left": {"var": "rsi", "params": {"period": 5}}, "op": "crosses_above",
                      "right": {"const": 50}}]}
    strategy = long_only(entry)
    rng = np.random.default_rng(3)
    series = bars(list(100 + np.cumsum(rng.normal(0, 1, 400))))
    whole = evaluate(strategy, series).entry_long
    evaluator = IncrementalEvaluator(strategy, series.take(slice(0, 100)), max_bars=64)
    assert len(evaluator) == 64 and evaluator.seen == 100
    for i in range(100, 400):
        row = evaluator.update(series.candle(i))
        held = evaluator.series()
        assert len(held) <= 64 and held.ts[-1] == series.ts[i]
        assert np.array_equal(held.close, series.close[i + 1 - len(held) : i + 1])
        assert row.entry_long == bool(whole[i]), f"bar {i}"
    assert evaluator.seen == 400


def test_long_runs_stay_exact_for_recursive_indicators() -> None:
    entry = {"all": [{"left": {"var": "macd", "params": {"fast": 12, "slow": 26, "signal": 9}, "field": "macd"},
                      "op": "crosses_above",
                      "right": {"var": "macd", "params": {"fast": 12, "slow": 26, "signal": 9}, "field": "signal"}},
                     {"left": {"var": "close"}, "op": "gt", "right": {"var": "ema", "params": {"period": 100}}}]}
    strategy = long_only(entry)
    rng = np.random.default_rng(11)
    series = bars(list(100 + np.cumsum(rng.normal(0, 1, 6_000))))
    whole = evaluate(strategy, series).entry_long
    evaluator = IncrementalEvaluator(strategy, series.take(slice(0, 500)))
    rows = [evaluator.update(series.candle(i)).entry_long for i in range(500, len(series))]
    assert rows == whole[500:].tolist() and sum(rows) > 20
    assert len(evaluator) <= 1024


def test_a_bound_below_two_bars_is_refused() -> None:
    with pytest.raises(ValueError, match="max_bars"):
        IncrementalEvaluator(long_only(close_vs("gt", 1)), bars([1.0]), max_bars=1)


def test_the_live_evaluator_reads_the_open_position_it_is_given_and_nan_when_flat() -> None:
    ret, held = {"var": "position_return_pct"}, {"var": "bars_in_position"}
    strategy = parse_strategy({
        "schema": 2, "name": "t", "direction": "long_only", "entry_long": close_vs("gt", 10),
        "entry_short": None, "exit_short": None,
        "exit_long": {"any": [{"left": ret, "op": "ge", "right": {"const": 2}},
                              {"left": held, "op": "gt", "right": {"const": 5}}]},
        "scale_in": {"when": {"all": [{"left": ret, "op": "le", "right": {"const": -3}}]}, "size_pct": 50,
                     "max_adds": 2}})
    series = bars([9, 11, 12, 13, 12, 11])
    live = IncrementalEvaluator(strategy, series.take(slice(0, 1)))
    flat = live.update(series.candle(1))
    assert flat.entry_long and not flat.exit_long and not flat.scale_in
    assert live.update(series.candle(2), (2.5, 1)).exit_long
    assert not live.update(series.candle(3), (1.0, 5)).exit_long
    row = live.update(series.candle(4), (-3.0, 6))
    assert row.exit_long and row.scale_in
    assert evaluate(strategy, series).exit_long.tolist() == [False] * 6  # ahead of the engine: flat everywhere
