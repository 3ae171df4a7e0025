"""Every indicator's streaming form gives, bar by bar, bit for bit what `compute` gives on the whole series."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from indicator_cases import random_series, real_series, same_bits
from test_indicators_prefix import ALT_PARAMS

from domain.indicators import CATALOG, get_indicator
from domain.indicators.streams import divide
from domain.market import CandleSeries, Timeframe

CASES = [(name, {}) for name in CATALOG] + list(ALT_PARAMS.items())
IDS = [f"{n}{list(p.values())}" for n, p in CASES]


def streamed(name: str, params: dict[str, float], series: CandleSeries) -> dict[str, np.ndarray]:
    ind = get_indicator(name)
    push = ind.stream(params)
    rows = [push(float(series.open[i]), float(series.high[i]), float(series.low[i]), float(series.close[i]),
                 float(series.volume[i])) for i in range(len(series))]
    out = np.array(rows, dtype=np.float64).reshape(len(series), len(ind.outputs))
    return {field: out[:, j] for j, field in enumerate(ind.outputs)}


def assert_same(name: str, params: dict[str, float], series: CandleSeries) -> None:
    full = get_indicator(name).compute(series, params)
    got = streamed(name, params, series)
    for field, values in full.items():
        bad = ~((got[field] == values) | (np.isnan(got[field]) & np.isnan(values)))
        assert same_bits(got[field], values), (
            f"{name}{params}.{field}: first difference at bar {int(np.argmax(bad))} of {len(series)}")


def flat_then_jumps(n: int = 300) -> CandleSeries:
    """Long flat stretches (zero ranges, zero volume), exact repeats and single jumps: the degenerate cases."""
    close = np.full(n, 100.0)
    close[120:180] = 101.0
    close[200] = 0.5
    close[250:] = 1e9
    volume = np.zeros(n)
    volume[150:170] = 2.0
    ts = 1_700_000_040_000 + np.arange(n, dtype=np.int64) * 60_000
    return CandleSeries.from_columns(Timeframe.M1, ts, close.copy(), close.copy(), close.copy(), close, volume)


@pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
def test_streaming_equals_the_vectorised_computation_on_random_data(name: str, params: dict[str, float]) -> None:
    assert_same(name, params, random_series(4, n=1_500))


@pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
@pytest.mark.parametrize("data", ["GOOG", "EURUSD"])
def test_streaming_equals_the_vectorised_computation_on_real_prices(name: str, params: dict[str, float],
                                                                    data: str) -> None:
    assert_same(name, params, real_series(data).take(slice(0, 1_200)))


@pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
def test_streaming_equals_the_vectorised_computation_on_flat_and_jumping_data(name: str,
                                                                              params: dict[str, float]) -> None:
    assert_same(name, params, flat_then_jumps())


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(0, 200), case=st.sampled_from(CASES),
       scale=st.sampled_from([1e-6, 1.0, 5e4]))
def test_streaming_equals_vectorised_for_any_length_and_price_scale(seed: int, n: int,
                                                                    case: tuple[str, dict[str, float]],
                                                                    scale: float) -> None:
    assert_same(case[0], case[1], random_series(seed, n=n, price=scale))


def test_two_streams_of_one_indicator_do_not_share_state() -> None:
    a, b = get_indicator("ema").stream({"period": 5}), get_indicator("ema").stream({"period": 5})
    for i in range(30):
        warmed = a(0.0, 0.0, 0.0, 100.0 + i, 0.0)[0]
    assert warmed == pytest.approx(127.0, abs=2.0)
    assert np.isnan(b(0.0, 0.0, 0.0, 1.0, 0.0)[0])  # b starts fresh: still in its warm-up


def test_division_by_zero_answers_like_numpy() -> None:
    with np.errstate(divide="ignore", invalid="ignore"):
        for a in (1.0, -1.0, 0.0, float("nan")):
            for b in (0.0, -0.0, 2.0):
                assert same_bits(np.array([divide(a, b)]), np.array([a]) / np.array([b])), (a, b)


def test_bad_parameters_are_refused_when_a_stream_is_made() -> None:
    with pytest.raises(ValueError, match="period"):
        get_indicator("sma").stream({"period": 0})
