"""Properties of evaluation: bar-by-bar equals whole-series, and the future never changes the past."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategy_gen import series, strategy_dicts

from domain.market import CandleSeries
from domain.strategy import SIDES, IncrementalEvaluator, evaluate, parse_strategy, validate_strategy

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(strategy_dicts())
def test_generated_definitions_are_valid(doc: dict) -> None:
    assert validate_strategy(doc) == []


@SETTINGS
@given(strategy_dicts(), series(min_size=1, max_size=120), st.integers(0, 40))
def test_incremental_evaluation_equals_vectorised_on_every_bar(doc: dict, bars: CandleSeries, warm: int) -> None:
    strategy = parse_strategy(doc)
    whole = evaluate(strategy, bars)
    start = min(warm, len(bars))
    evaluator = IncrementalEvaluator(strategy, bars.take(slice(0, start)), max_bars=None)
    for i in range(start, len(bars)):
        row = evaluator.update(bars.candle(i))
        expected = tuple(bool(getattr(whole, side)[i]) for side in SIDES)
        assert tuple(getattr(row, side) for side in SIDES) == expected, f"bar {i}"


@SETTINGS
@given(strategy_dicts(), series(min_size=2, max_size=150), st.data())
def test_cutting_off_future_bars_never_changes_earlier_signals(doc: dict, bars: CandleSeries,
                                                                data: st.DataObject) -> None:
    strategy = parse_strategy(doc)
    whole = evaluate(strategy, bars)
    cut = data.draw(st.integers(1, len(bars)))
    past = evaluate(strategy, bars.take(slice(0, cut)))
    for side in SIDES:
        assert np.array_equal(getattr(past, side), getattr(whole, side)[:cut]), side


@SETTINGS
@given(strategy_dicts(), series(min_size=60, max_size=60))
def test_disabled_sides_never_signal(doc: dict, bars: CandleSeries) -> None:
    strategy = parse_strategy(doc)
    signals = evaluate(strategy, bars)
    if not strategy.trades_long:
        assert not signals.entry_long.any() and not signals.exit_long.any()
    if not strategy.trades_short:
        assert not signals.entry_short.any() and not signals.exit_short.any()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strategy_dicts(), series(min_size=1, max_size=160), st.integers(0, 60), st.integers(2, 40))
def test_a_bounded_evaluator_signals_as_on_the_whole_series(doc: dict, bars: CandleSeries, warm: int,
                                                            bound: int) -> None:
    strategy = parse_strategy(doc)
    whole = evaluate(strategy, bars)
    start = min(warm, len(bars))
    evaluator = IncrementalEvaluator(strategy, bars.take(slice(0, start)), max_bars=bound)
    for i in range(start, len(bars)):
        row = evaluator.update(bars.candle(i))
        held = evaluator.series()
        assert len(held) <= bound and held.ts[-1] == bars.ts[i]
        assert tuple(getattr(row, side) for side in SIDES) == tuple(bool(getattr(whole, s)[i]) for s in SIDES)
