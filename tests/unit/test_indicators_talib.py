"""Indicator values equal TA-Lib's (the oracle) after warm-up, on random walks and on real GOOG/EURUSD data."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import talib
from indicator_cases import DATASETS, F64, assert_close, dataset

from domain.indicators import get_indicator
from domain.market import CandleSeries

Oracle = Callable[[CandleSeries, dict[str, float]], dict[str, F64]]


def _c(s: CandleSeries) -> F64:
    return s.close


ORACLES: dict[str, Oracle] = {
    "typical": lambda s, p: {"value": talib.TYPPRICE(s.high, s.low, s.close)},
    "highest": lambda s, p: {"value": talib.MAX(s.high, p["period"])},
    "lowest": lambda s, p: {"value": talib.MIN(s.low, p["period"])},
    "sma": lambda s, p: {"value": talib.SMA(_c(s), p["period"])},
    "ema": lambda s, p: {"value": talib.EMA(_c(s), p["period"])},
    "wma": lambda s, p: {"value": talib.WMA(_c(s), p["period"])},
    "macd": lambda s, p: dict(zip(("macd", "signal", "hist"),
                                  talib.MACD(_c(s), p["fast"], p["slow"], p["signal"]), strict=True)),
    "adx": lambda s, p: {
        "adx": talib.ADX(s.high, s.low, s.close, p["period"]),
        "plus_di": talib.PLUS_DI(s.high, s.low, s.close, p["period"]),
        "minus_di": talib.MINUS_DI(s.high, s.low, s.close, p["period"]),
    },
    "rsi": lambda s, p: {"value": talib.RSI(_c(s), p["period"])},
    "stoch": lambda s, p: dict(zip(("k", "d"), talib.STOCH(
        s.high, s.low, s.close, fastk_period=p["k_period"], slowk_period=p["k_slow"], slowk_matype=0,
        slowd_period=p["d_period"], slowd_matype=0), strict=True)),
    "cci": lambda s, p: {"value": talib.CCI(s.high, s.low, s.close, p["period"])},
    "roc": lambda s, p: {"value": talib.ROC(_c(s), p["period"])},
    "bbands": lambda s, p: dict(zip(("upper", "middle", "lower"), talib.BBANDS(
        _c(s), p["period"], nbdevup=p["std"], nbdevdn=p["std"], matype=0), strict=True)),
    "atr": lambda s, p: {"value": talib.ATR(s.high, s.low, s.close, p["period"])},
    "donchian": lambda s, p: {"upper": talib.MAX(s.high, p["period"]), "lower": talib.MIN(s.low, p["period"]),
                              "middle": (talib.MAX(s.high, p["period"]) + talib.MIN(s.low, p["period"])) / 2},
    "obv": lambda s, p: {"value": talib.OBV(_c(s), s.volume)},
    "volume_sma": lambda s, p: {"value": talib.SMA(s.volume, p["period"])},
}

PARAMS: dict[str, list[dict[str, float]]] = {
    "typical": [{}],
    "highest": [{"period": 2}, {"period": 20}, {"period": 55}],
    "lowest": [{"period": 2}, {"period": 20}, {"period": 55}],
    "sma": [{"period": 2}, {"period": 20}, {"period": 200}],
    "ema": [{"period": 2}, {"period": 12}, {"period": 50}],
    "wma": [{"period": 2}, {"period": 10}, {"period": 60}],
    "macd": [{"fast": 12, "slow": 26, "signal": 9}, {"fast": 5, "slow": 35, "signal": 5},
             {"fast": 2, "slow": 3, "signal": 1}],
    "adx": [{"period": 2}, {"period": 14}, {"period": 30}],
    "rsi": [{"period": 2}, {"period": 14}, {"period": 40}],
    "stoch": [{"k_period": 14, "k_slow": 3, "d_period": 3}, {"k_period": 5, "k_slow": 1, "d_period": 1},
              {"k_period": 21, "k_slow": 5, "d_period": 4}],
    "cci": [{"period": 2}, {"period": 20}, {"period": 50}],
    "roc": [{"period": 1}, {"period": 10}, {"period": 30}],
    "bbands": [{"period": 20, "std": 2.0}, {"period": 5, "std": 1.5}, {"period": 50, "std": 3.0}],
    "atr": [{"period": 1}, {"period": 14}, {"period": 30}],
    "donchian": [{"period": 2}, {"period": 20}, {"period": 55}],
    "obv": [{}],
    "volume_sma": [{"period": 2}, {"period": 20}],
}

CASES = [(name, params) for name, plist in PARAMS.items() for params in plist]


def _id(case: tuple[str, dict[str, float]]) -> str:
    name, params = case
    return name + "(" + ",".join(f"{v:g}" for v in params.values()) + ")"


@pytest.mark.parametrize("data", DATASETS)
@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_indicator_equals_talib_after_warmup(case: tuple[str, dict[str, float]], data: str) -> None:
    name, params = case
    ind = get_indicator(name)
    series = dataset(data)
    ours = ind.compute(series, params)
    ref = ORACLES[name](series, params)
    for field, expected in ref.items():
        assert_close(ours[field], np.asarray(expected, dtype=np.float64), ind.warmup(params),
                     what=f"{_id(case)}.{field} on {data}")


def test_every_talib_backed_indicator_has_an_oracle_and_parameters() -> None:
    assert set(ORACLES) == set(PARAMS)


@pytest.mark.parametrize("data", DATASETS)
@pytest.mark.parametrize("name", ["open", "high", "low", "close", "volume"])
def test_price_fields_are_the_candle_columns(name: str, data: str) -> None:
    series = dataset(data)
    out = get_indicator(name).compute(series)["value"]
    assert np.array_equal(out, series.column(name))
