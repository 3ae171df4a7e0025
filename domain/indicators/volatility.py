"""Volatility indicators: Bollinger Bands, ATR and Donchian channel."""

from __future__ import annotations

from domain.indicators.base import F64, Indicator, Param, Resolved, Stream, period_param
from domain.indicators.kernels import band_ratios, rolling_max, rolling_mean, rolling_min, rolling_pstd
from domain.indicators.recursive import atr_wilder
from domain.indicators.streams import NAN, Atr, RollingExtreme, RollingMean, RollingPstd
from domain.market.candles import CandleSeries


def _bbands(series: CandleSeries, p: Resolved) -> dict[str, F64]:
    period, k = int(p["period"]), float(p["std"])
    middle = rolling_mean(series.close, period)
    upper, lower, percent_b, width = band_ratios(series.close, middle, rolling_pstd(series.close, period, k))
    return {"upper": upper, "middle": middle, "lower": lower, "percent_b": percent_b, "width": width}


def _bbands_some(series: CandleSeries, p: Resolved, wanted: frozenset[str]) -> dict[str, F64]:
    if wanted <= {"middle"}:
        return {"middle": rolling_mean(series.close, int(p["period"]))}
    return _bbands(series, p)


def _atr(series: CandleSeries, p: Resolved) -> dict[str, F64]:
    return {"value": atr_wilder(series.high, series.low, series.close, int(p["period"]))}


def _donchian(series: CandleSeries, p: Resolved) -> dict[str, F64]:
    period = int(p["period"])
    upper = rolling_max(series.high, period)
    lower = rolling_min(series.low, period)
    return {"upper": upper, "lower": lower, "middle": (upper + lower) / 2.0}


def _bbands_stream(p: Resolved) -> Stream:
    period = int(p["period"])
    mean, std = RollingMean(period).push, RollingPstd(period, float(p["std"])).push

    def push(o: float, h: float, low: float, c: float, v: float) -> tuple[float, ...]:
        m, dev = mean(c), std(c)
        if m != m:
            return NAN, m, NAN, NAN, NAN
        u = m + dev
        lw = m - dev
        height = u - lw
        return u, m, lw, ((c - lw) / height if height != 0.0 else 0.5), (height / m if m != 0.0 else 0.0)

    return push


def _atr_stream(p: Resolved) -> Stream:
    atr = Atr(int(p["period"])).push
    return lambda o, h, low, c, v: (atr(h, low, c),)


def _donchian_stream(p: Resolved) -> Stream:
    period = int(p["period"])
    highest, lowest = RollingExtreme(period, 1.0).push, RollingExtreme(period, -1.0).push

    def push(o: float, h: float, low: float, c: float, v: float) -> tuple[float, ...]:
        upper, lower = highest(h), lowest(low)
        return upper, lower, (upper + lower) / 2.0

    return push


VOLATILITY_INDICATORS = (
    Indicator(
        name="bbands", label="Bollinger Bands", category="volatility",
        params=(
            period_param(20, 2, 1000),
            Param("std", "float", 2.0, 0.1, 10.0, "Std devs",
                  "Band distance from the middle in standard deviations (usually 2)."),
        ),
        outputs=("upper", "middle", "lower", "percent_b", "width"), overlay=True, unit="price",
        field_units={"percent_b": "ratio", "width": "ratio"},
        help="SMA of the close (middle) ± k population standard deviations of the last N closes (upper/lower); "
             "about 90% of closes stay inside with 20/2. percent_b = (close − lower)/(upper − lower): 0 at the "
             "lower band, 1 at the upper (0.5 when the bands touch); width = (upper − lower)/middle, low values "
             "mean a squeeze. Upper/middle/lower equal TA-Lib BBANDS (population std); our variance is computed "
             "around a local anchor, so tiny-priced assets do not collapse to zero width as TA-Lib's can.",
        warmup_fn=lambda p: int(p["period"]) - 1, compute_fn=_bbands, compute_some_fn=_bbands_some,
        stream_fn=_bbands_stream,
    ),
    Indicator(
        name="atr", label="Average True Range", category="volatility", params=(period_param(14, 1, 500),),
        outputs=("value",), overlay=False, unit="price_delta",
        help="Wilder's average of the true range (the bar's range extended to the previous close): how far "
             "price typically moves per bar, in price units. Used to size stops (e.g. 2–3 × ATR); period usually "
             "14. Equals TA-Lib ATR.",
        warmup_fn=lambda p: int(p["period"]), compute_fn=_atr, stream_fn=_atr_stream,
    ),
    Indicator(
        name="donchian", label="Donchian channel", category="volatility", params=(period_param(20),),
        outputs=("upper", "lower", "middle"), overlay=True, unit="price",
        help="Highest high (upper) and lowest low (lower) of the last N bars, the current bar included, and "
             "their midpoint. A new N-bar high/low (high ≥ upper, low ≤ lower) is the classic breakout "
             "(Turtle traders used 20 and 55). Upper/lower equal TA-Lib MAX(high)/MIN(low).",
        warmup_fn=lambda p: int(p["period"]) - 1, compute_fn=_donchian, stream_fn=_donchian_stream,
    ),
)
