"""Documented conventions where TA-Lib has no answer (VWAP, %b, width, flat markets), checked against slow Python."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
from indicator_cases import DATASETS, F64, assert_close, dataset, random_series

from domain.indicators import get_indicator
from domain.market import CandleSeries


def slow_vwap(s: CandleSeries, period: int) -> F64:
    out = np.full(len(s), np.nan)
    for i in range(period - 1, len(s)):
        w = range(i - period + 1, i + 1)
        tps = [(s.high[j] + s.low[j] + s.close[j]) / 3.0 for j in w]
        vol = math.fsum(s.volume[j] for j in w)
        out[i] = math.fsum(tp * s.volume[j] for tp, j in zip(tps, w, strict=True)) / vol if vol > 0 else tps[-1]
    return out


def slow_bands(s: CandleSeries, period: int, k: float) -> tuple[F64, F64]:
    pb, width = np.full(len(s), np.nan), np.full(len(s), np.nan)
    for i in range(period - 1, len(s)):
        window = [float(v) for v in s.close[i - period + 1: i + 1]]
        mid = math.fsum(window) / period
        sd = statistics.pstdev(window, mu=mid)
        upper, lower = mid + k * sd, mid - k * sd
        pb[i] = (s.close[i] - lower) / (upper - lower) if upper > lower else 0.5
        width[i] = (upper - lower) / mid
    return pb, width


def flat_series(n: int = 80, price: float = 123.25) -> CandleSeries:
    s = random_series(0, n=n)
    p = np.full(n, price)
    return CandleSeries.from_columns(s.timeframe, s.ts, p, p, p, p, s.volume)


@pytest.mark.parametrize("data", DATASETS)
@pytest.mark.parametrize("period", [1, 2, 20, 96])
def test_vwap_is_the_volume_weighted_typical_price_of_the_window(data: str, period: int) -> None:
    series = dataset(data)
    ours = get_indicator("vwap").compute(series, {"period": period})["value"]
    assert_close(ours, slow_vwap(series, period), period - 1, what=f"vwap({period}) on {data}")


def test_vwap_of_a_window_without_volume_is_the_typical_price() -> None:
    s = random_series(4, n=60)
    vol = s.volume.copy()
    vol[20:35] = 0.0
    s = CandleSeries.from_columns(s.timeframe, s.ts, s.open, s.high, s.low, s.close, vol)
    ours = get_indicator("vwap").compute(s, {"period": 5})["value"]
    typical = (s.high + s.low + s.close) / 3.0
    assert np.array_equal(ours[24:35], typical[24:35])
    assert_close(ours, slow_vwap(s, 5), 4, what="vwap around a no-volume stretch")


@pytest.mark.parametrize("data", DATASETS)
@pytest.mark.parametrize(("period", "k"), [(20, 2.0), (5, 1.0), (50, 2.5)])
def test_bollinger_percent_b_and_width_follow_their_definitions(data: str, period: int, k: float) -> None:
    series = dataset(data)
    out = get_indicator("bbands").compute(series, {"period": period, "std": k})
    pb, width = slow_bands(series, period, k)
    assert_close(out["percent_b"], pb, period - 1, what=f"%b on {data}")
    assert_close(out["width"], width, period - 1, what=f"width on {data}")


@pytest.mark.parametrize(("name", "field", "expected"), [
    ("rsi", "value", 50.0), ("stoch", "k", 50.0), ("stoch", "d", 50.0), ("cci", "value", 0.0),
    ("adx", "adx", 0.0), ("adx", "plus_di", 0.0), ("adx", "minus_di", 0.0), ("bbands", "percent_b", 0.5),
    ("bbands", "width", 0.0), ("roc", "value", 0.0), ("atr", "value", 0.0), ("macd", "hist", 0.0),
])
def test_a_perfectly_flat_market_reads_the_documented_neutral_value(name: str, field: str, expected: float) -> None:
    ind = get_indicator(name)
    values = ind.compute(flat_series())[field]
    assert np.isnan(values[: ind.warmup()]).all()
    assert (values[ind.warmup():] == expected).all()


def test_cci_reads_zero_when_typical_prices_differ_only_by_rounding() -> None:
    s = flat_series(n=10, price=1.11774)
    high, close = s.high.copy(), s.close.copy()
    high[5] = close[5] = np.nextafter(np.nextafter(close[5], 2.0), 2.0)
    s = CandleSeries.from_columns(s.timeframe, s.ts, s.open, high, s.low, close, s.volume)
    typical = (s.high + s.low + s.close) / 3.0
    assert typical[5] != typical[4]
    assert (get_indicator("cci").compute(s, {"period": 2})["value"][1:] == 0.0).all()


def test_ema_starts_from_the_sma_of_the_first_period_closes() -> None:
    s = random_series(9, n=40)
    ema = get_indicator("ema").compute(s, {"period": 10})["value"]
    assert ema[9] == pytest.approx(math.fsum(s.close[:10]) / 10, rel=1e-15)
    k = 2 / 11
    assert ema[10] == pytest.approx(ema[9] + k * (s.close[10] - ema[9]), rel=1e-15)


def test_macd_seeds_both_averages_on_the_slow_period_bar() -> None:
    s = random_series(9, n=60)
    out = get_indicator("macd").compute(s, {"fast": 3, "slow": 6, "signal": 1})
    assert out["macd"][5] == pytest.approx(math.fsum(s.close[3:6]) / 3 - math.fsum(s.close[:6]) / 6, rel=1e-12)


def test_rolling_sums_stay_exact_over_long_series_with_huge_level_changes() -> None:
    n = 200_000
    rng = np.random.default_rng(3)
    levels = np.repeat(10.0 ** rng.integers(-3, 7, n // 1000), 1000)
    x = levels * rng.uniform(0.5, 1.5, n)
    s = random_series(1, n=n)
    series = CandleSeries.from_columns(s.timeframe, s.ts, x, x, x, x, x)
    sma = get_indicator("sma").compute(series, {"period": 50})["value"]
    for i in rng.integers(49, n, 300):
        ref = math.fsum(x[i - 49: i + 1]) / 50
        assert abs(sma[i] - ref) <= 1e-13 * ref, f"bar {i}"


def test_bollinger_bands_keep_their_width_on_tiny_prices() -> None:
    s = random_series(6, n=300, price=2e-6)
    out = get_indicator("bbands").compute(s)
    pb, width = slow_bands(s, 20, 2.0)
    assert_close(out["width"], width, 19, what="width at 2e-6")
    assert_close(out["percent_b"], pb, 19, what="%b at 2e-6")
