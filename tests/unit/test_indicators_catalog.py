"""Catalog metadata is complete and consistent; parameter checks name every problem in words a trader reads."""

from __future__ import annotations

import numpy as np
import pytest
from indicator_cases import random_series

from domain.indicators import CATALOG, CATEGORIES, UNITS, check_params, get_indicator
from domain.market import CandleSeries, Timeframe

AGREED = {
    "open": ("value",), "high": ("value",), "low": ("value",), "close": ("value",), "volume": ("value",),
    "typical": ("value",), "sma": ("value",), "ema": ("value",), "wma": ("value",), "rsi": ("value",),
    "macd": ("macd", "signal", "hist"), "bbands": ("upper", "middle", "lower", "percent_b", "width"),
    "atr": ("value",), "stoch": ("k", "d"), "cci": ("value",), "adx": ("adx", "plus_di", "minus_di"),
    "obv": ("value",), "roc": ("value",), "donchian": ("upper", "lower", "middle"), "highest": ("value",),
    "lowest": ("value",), "volume_sma": ("value",), "vwap": ("value",),
}


def test_the_catalog_holds_exactly_the_agreed_indicators_and_outputs() -> None:
    assert {name: ind.outputs for name, ind in CATALOG.items()} == AGREED


@pytest.mark.parametrize("name", list(CATALOG))
def test_every_entry_carries_complete_metadata(name: str) -> None:
    ind = CATALOG[name]
    assert ind.name == name and ind.label and ind.category in CATEGORIES
    assert len(ind.help) >= 40, "help is shown as a tooltip and must say what the indicator measures"
    assert all(ind.unit_of(f) in UNITS for f in ind.outputs)
    assert ind.default_field == ind.outputs[0]
    for p in ind.params:
        assert p.kind in ("int", "float") and p.label and p.help
        assert p.min <= p.default <= p.max
        assert isinstance(p.default, int) == (p.kind == "int")


@pytest.mark.parametrize("name", list(CATALOG))
def test_defaults_pass_the_parameter_check(name: str) -> None:
    ind = CATALOG[name]
    assert check_params(ind, {}) == []
    assert check_params(name, ind.defaults()) == []


@pytest.mark.parametrize("name", list(CATALOG))
def test_declared_warmup_is_the_first_valid_bar_of_every_output(name: str) -> None:
    ind = CATALOG[name]
    series = random_series(7, n=300)
    out = ind.compute(series)
    warm = ind.warmup()
    assert set(out) == set(ind.outputs)
    for field, values in out.items():
        assert values.dtype == np.float64 and values.shape == (len(series),)
        assert np.isnan(values[:warm]).all(), f"{field} has values during warm-up"
        assert np.isfinite(values[warm:]).all(), f"{field} has NaN after warm-up"


@pytest.mark.parametrize("name", list(CATALOG))
@pytest.mark.parametrize("n", [0, 1, 3])
def test_series_shorter_than_the_warmup_give_all_nan_without_error(name: str, n: int) -> None:
    ind = CATALOG[name]
    series = random_series(3, n=max(n, 1)).take(slice(0, n))
    for values in ind.compute(series).values():
        assert values.shape == (n,)
        assert np.isnan(values[: ind.warmup()]).all()


def test_unknown_indicator_names_list_the_valid_ones() -> None:
    with pytest.raises(KeyError, match="unknown indicator 'smaa'; valid: open, high"):
        get_indicator("smaa")


@pytest.mark.parametrize(("name", "params", "expected"), [
    ("sma", {"period": 0}, [("period", "must be an integer ≥ 1")]),
    ("sma", {"period": 1001}, [("period", "must be ≤ 1000")]),
    ("sma", {"period": 2.5}, [("period", "must be an integer ≥ 1")]),
    ("sma", {"period": "20"}, [("period", "must be an integer ≥ 1")]),
    ("sma", {"period": True}, [("period", "must be an integer ≥ 1")]),
    ("rsi", {"period": 1}, [("period", "must be an integer ≥ 2")]),
    ("bbands", {"std": 0.0}, [("std", "must be ≥ 0.1")]),
    ("bbands", {"std": float("nan")}, [("std", "must be a finite number")]),
    ("bbands", {"std": None}, [("std", "must be a number")]),
    ("macd", {"fast": 26, "slow": 12}, [("fast", "must be less than slow (12)")]),
    ("close", {"period": 3}, [("period", "unknown parameter; close takes: none")]),
    ("stoch", {"k": 5, "d_period": 0}, [("k", "unknown parameter; stoch takes: k_period, k_slow, d_period"),
                                        ("d_period", "must be an integer ≥ 1")]),
])
def test_bad_parameters_are_reported_by_name(name: str, params: dict[str, object],
                                             expected: list[tuple[str, str]]) -> None:
    assert check_params(name, params) == expected


def test_integral_floats_are_accepted_as_integers() -> None:
    ind = get_indicator("sma")
    assert check_params(ind, {"period": 10.0}) == []
    series = random_series(1, n=50)
    assert np.array_equal(ind.compute(series, {"period": 10.0})["value"], ind.compute(series, {"period": 10})["value"],
                          equal_nan=True)


def test_compute_refuses_bad_parameters_with_every_problem_named() -> None:
    with pytest.raises(ValueError, match=r"bbands: period: must be an integer ≥ 2; std: must be ≤ 10"):
        get_indicator("bbands").compute(random_series(1, n=30), {"period": 1, "std": 11})


def test_price_fields_are_read_only_views_of_the_candles() -> None:
    series = random_series(1, n=10)
    out = get_indicator("close").compute(series)["value"]
    with pytest.raises(ValueError):
        out[0] = 1.0
    assert series.close.flags.writeable


def test_bollinger_ratio_outputs_have_their_own_comparability_class() -> None:
    ind = get_indicator("bbands")
    assert [ind.unit_of(f) for f in ind.outputs] == ["price", "price", "price", "ratio", "ratio"]
    with pytest.raises(KeyError, match="no output 'mid'"):
        ind.unit_of("mid")


def test_warmup_follows_the_parameters() -> None:
    assert get_indicator("macd").warmup({"fast": 5, "slow": 35, "signal": 5}) == 38
    assert get_indicator("adx").warmup({"period": 10}) == 19
    assert get_indicator("stoch").warmup({"k_period": 5, "k_slow": 1, "d_period": 1}) == 4
    assert get_indicator("rsi").warmup({"period": 14}) == 14
    assert get_indicator("close").warmup() == 0


def test_a_day_series_works_like_a_minute_series() -> None:
    m = random_series(2, n=80)
    d = CandleSeries.from_columns(Timeframe.parse("1d"), np.arange(80, dtype=np.int64) * 86_400_000,
                                  m.open, m.high, m.low, m.close, m.volume)
    for ind in CATALOG.values():
        a, b = ind.compute(m), ind.compute(d)
        assert all(np.array_equal(a[f], b[f], equal_nan=True) for f in a)


@pytest.mark.parametrize("name", list(CATALOG))
def test_asking_for_some_outputs_gives_exactly_those_values(name: str) -> None:
    ind = CATALOG[name]
    series = random_series(8, n=120)
    full = ind.compute(series)
    for field in ind.outputs:
        part = ind.compute(series, None, fields=[field])
        assert list(part) == [field]
        assert np.array_equal(part[field], full[field], equal_nan=True)


def test_asking_for_an_unknown_output_names_the_valid_ones() -> None:
    with pytest.raises(KeyError, match="bbands has no output 'mid'; outputs: upper, middle, lower"):
        get_indicator("bbands").compute(random_series(1, n=30), None, fields=["mid"])


def test_only_price_valued_outputs_of_overlays_go_on_the_price_pane() -> None:
    bb = get_indicator("bbands")
    assert [bb.overlay_of(f) for f in bb.outputs] == [True, True, True, False, False]
    assert get_indicator("sma").overlay_of("value") and not get_indicator("rsi").overlay_of("value")
    assert not get_indicator("volume").overlay_of("value")


def test_catalog_entries_can_be_used_as_cache_keys() -> None:
    assert len({ind: name for name, ind in CATALOG.items()}) == len(CATALOG)
