"""Indicators are causal and prefix-deterministic: series[:k] gives bit for bit the first k values of the full run."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from indicator_cases import random_series, real_series, same_bits

from domain.indicators import CATALOG, get_indicator

ALT_PARAMS: dict[str, dict[str, float]] = {
    "sma": {"period": 7}, "ema": {"period": 5}, "wma": {"period": 9}, "rsi": {"period": 3},
    "macd": {"fast": 3, "slow": 7, "signal": 4}, "bbands": {"period": 6, "std": 1.5}, "atr": {"period": 4},
    "stoch": {"k_period": 5, "k_slow": 2, "d_period": 2}, "cci": {"period": 6}, "adx": {"period": 5},
    "roc": {"period": 3}, "donchian": {"period": 6}, "highest": {"period": 4}, "lowest": {"period": 4},
    "volume_sma": {"period": 5}, "vwap": {"period": 6},
}

CASES = [(name, {}) for name in CATALOG] + list(ALT_PARAMS.items())


@pytest.mark.parametrize(("name", "params"), CASES, ids=[f"{n}{list(p.values())}" for n, p in CASES])
def test_computing_on_a_prefix_gives_the_same_bits_as_the_full_series(name: str, params: dict[str, float]) -> None:
    ind = get_indicator(name)
    series = random_series(11, n=420)
    full = ind.compute(series, params)
    warm = ind.warmup(params)
    for k in sorted({1, 2, warm, warm + 1, warm + 2, 57, 100, 211, 419}):
        part = ind.compute(series.take(slice(0, k)), params)
        for field, values in part.items():
            assert same_bits(values, full[field][:k]), f"{name}.{field} differs on the first {k} bars"


@pytest.mark.parametrize("name", list(CATALOG))
def test_changing_future_bars_never_changes_earlier_values(name: str) -> None:
    ind = get_indicator(name)
    series = real_series("EURUSD").take(slice(0, 1500))
    cut = 1000
    alt = random_series(5, n=500, price=float(series.close[cut - 1]))
    spliced = type(series).from_columns(
        series.timeframe, series.ts,
        *(np.concatenate([getattr(series, f)[:cut], getattr(alt, f)]) for f in ("open", "high", "low", "close",
                                                                                   "volume")),
    )
    a, b = ind.compute(series), ind.compute(spliced)
    for field in a:
        assert same_bits(a[field][:cut], b[field][:cut]), f"{name}.{field} looked ahead"


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 300), k=st.integers(0, 300),
       name=st.sampled_from(sorted(ALT_PARAMS)))
def test_prefix_determinism_holds_for_random_lengths(seed: int, n: int, k: int, name: str) -> None:
    ind = get_indicator(name)
    series = random_series(seed, n=n)
    k = min(k, n)
    full = ind.compute(series, ALT_PARAMS[name])
    part = ind.compute(series.take(slice(0, k)), ALT_PARAMS[name])
    for field, values in part.items():
        assert same_bits(values, full[field][:k])
