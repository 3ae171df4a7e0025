"""Momentum oscillators: RSI (Wilder), Stochastic (%K/%D), CCI and ROC."""

from __future__ import annotations

from itertools import count

from domain.indicators.base import F64, Indicator, Param, Resolved, Stream, nan_until, period_param
from domain.indicators.kernels import cci_kernel, rolling_max, rolling_mean, rolling_min, stoch_fast_k
from domain.indicators.recursive import roc_kernel, rsi_wilder
from domain.indicators.streams import NAN, Cci, Roc, RollingExtreme, RollingMean, Rsi
from domain.market.candles import CandleSeries


def _rsi(series: CandleSeries, p: Resolved) -> dict[str, F64]:
    return {"value": rsi_wilder(series.close, int(p["period"]))}


def _stoch_warmup(p: Resolved) -> int:
    return int(p["k_period"]) - 1 + int(p["k_slow"]) - 1 + int(p["d_period"]) - 1


def _stoch(series: CandleSeries, p: Resolved) -> dict[str, F64]:
    kp, ks, dp = int(p["k_period"]), int(p["k_slow"]), int(p["d_period"])
    fast_k = stoch_fast_k(series.close, rolling_max(series.high, kp), rolling_min(series.low, kp))
    slow_k = rolling_mean(fast_k, ks, kp - 1)
    d = rolling_mean(slow_k, dp, kp + ks - 2)
    return {"k": nan_until(slow_k, _stoch_warmup(p)), "d": d}


def _cci(series: CandleSeries, p: Resolved) -> dict[str, F64]:
    tp = (series.high + series.low + series.close) / 3.0
    return {"value": cci_kernel(tp, int(p["period"]))}


def _roc(series: CandleSeries, p: Resolved) -> dict[str, F64]:
    return {"value": roc_kernel(series.close, int(p["period"]))}


def _rsi_stream(p: Resolved) -> Stream:
    rsi = Rsi(int(p["period"])).push
    return lambda o, h, low, c, v: (rsi(c),)


def _stoch_stream(p: Resolved) -> Stream:
    kp, ks, dp = int(p["k_period"]), int(p["k_slow"]), int(p["d_period"])
    highest, lowest = RollingExtreme(kp, 1.0).push, RollingExtreme(kp, -1.0).push
    slow_k, d = RollingMean(ks, kp - 1).push, RollingMean(dp, kp + ks - 2).push
    warm = _stoch_warmup(p)
    bar = count()

    def push(o: float, h: float, low: float, c: float, v: float) -> tuple[float, ...]:
        hh, ll = highest(h), lowest(low)
        rng = hh - ll
        fast_k = ((c - ll) / (rng / 100.0) if rng != 0.0 else 50.0) if rng == rng else NAN
        k = slow_k(fast_k)
        return (k if next(bar) >= warm else NAN), d(k)

    return push


def _cci_stream(p: Resolved) -> Stream:
    cci = Cci(int(p["period"])).push
    return lambda o, h, low, c, v: (cci((h + low + c) / 3.0),)


def _roc_stream(p: Resolved) -> Stream:
    roc = Roc(int(p["period"])).push
    return lambda o, h, low, c, v: (roc(c),)


MOMENTUM_INDICATORS = (
    Indicator(
        name="rsi", label="Relative Strength Index", category="momentum", params=(period_param(14, 2, 500),),
        outputs=("value",), overlay=False, unit="bounded_0_100",
        help="Wilder's RSI: share of recent up-moves in all moves, 0..100, smoothed with Wilder's average. "
             "Above 70 is commonly read as overbought, below 30 as oversold; period usually 14. Equals TA-Lib RSI; "
             "a window with no price change at all reads 50 (TA-Lib writes 0).",
        warmup_fn=lambda p: int(p["period"]), compute_fn=_rsi, stream_fn=_rsi_stream,
    ),
    Indicator(
        name="stoch", label="Stochastic", category="momentum",
        params=(
            Param("k_period", "int", 14, 1, 500, "%K period", "Bars in the high/low range (usually 14; 5 in TA-Lib)."),
            Param("k_slow", "int", 3, 1, 100, "%K slowing", "SMA smoothing of raw %K (3 = slow stochastic, 1 = fast)."),
            Param("d_period", "int", 3, 1, 100, "%D period", "SMA of %K giving the %D signal line (usually 3)."),
        ),
        outputs=("k", "d"), overlay=False, unit="bounded_0_100",
        help="Where the close sits inside the recent high–low range, 0..100 (%K, smoothed) and its average (%D). "
             "Above 80 is commonly read as overbought, below 20 as oversold; %K crossing %D is the usual trigger. "
             "Equals TA-Lib STOCH with SMA smoothing; a range with zero height reads 50 (TA-Lib writes 0).",
        warmup_fn=_stoch_warmup, compute_fn=_stoch, stream_fn=_stoch_stream,
    ),
    Indicator(
        name="cci", label="Commodity Channel Index", category="momentum", params=(period_param(20, 2, 500),),
        outputs=("value",), overlay=False, unit="unbounded",
        help="Distance of the typical price from its N-bar average in units of mean absolute deviation, "
             "divided by 0.015. Most values fall within ±100; beyond ±100 signals an unusually strong move. "
             "Equals TA-Lib CCI; a flat window (spread at rounding-noise level) reads 0 as in TA-Lib.",
        warmup_fn=lambda p: int(p["period"]) - 1, compute_fn=_cci, stream_fn=_cci_stream,
    ),
    Indicator(
        name="roc", label="Rate of change", category="momentum", params=(period_param(10),),
        outputs=("value",), overlay=False, unit="percent",
        help="Percent change of the close over N bars: (close / close N bars ago − 1) × 100. Positive means "
             "the price rose; typical magnitudes are a few percent on daily bars. Equals TA-Lib ROC.",
        warmup_fn=lambda p: int(p["period"]), compute_fn=_roc, stream_fn=_roc_stream,
    ),
)
