"""Volume indicators: OBV, volume SMA and rolling VWAP."""

from __future__ import annotations

import numpy as np

from domain.indicators.base import F64, Indicator, Resolved, Stream, period_param
from domain.indicators.kernels import rolling_mean, rolling_sum
from domain.indicators.recursive import obv_kernel
from domain.indicators.streams import NAN, Obv, RollingMean, RollingSum, divide
from domain.market.candles import CandleSeries


def _obv(series: CandleSeries, _p: Resolved) -> dict[str, F64]:
    return {"value": obv_kernel(series.close, series.volume)}


def _volume_sma(series: CandleSeries, p: Resolved) -> dict[str, F64]:
    return {"value": rolling_mean(series.volume, int(p["period"]))}


def _vwap(series: CandleSeries, p: Resolved) -> dict[str, F64]:
    period = int(p["period"])
    tp = (series.high + series.low + series.close) / 3.0
    v = series.volume
    pv = rolling_sum(tp * v, period)
    vol = rolling_sum(v, period)
    traded = rolling_sum((v > 0.0).astype(np.float64), period)  # exact small integers
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(traded > 0.0, pv / vol, tp)
    out[np.isnan(traded)] = np.nan
    return {"value": out}


def _obv_stream(_p: Resolved) -> Stream:
    obv = Obv().push
    return lambda o, h, low, c, v: (obv(c, v),)


def _volume_sma_stream(p: Resolved) -> Stream:
    mean = RollingMean(int(p["period"])).push
    return lambda o, h, low, c, v: (mean(v),)


def _vwap_stream(p: Resolved) -> Stream:
    period = int(p["period"])
    pv_sum, vol_sum, traded_sum = RollingSum(period).push, RollingSum(period).push, RollingSum(period).push

    def push(o: float, h: float, low: float, c: float, v: float) -> tuple[float, ...]:
        tp = (h + low + c) / 3.0
        pv, vol, traded = pv_sum(tp * v), vol_sum(v), traded_sum(1.0 if v > 0.0 else 0.0)
        if traded != traded:
            return (NAN,)
        return (divide(pv, vol) if traded > 0.0 else tp,)

    return push


VOLUME_INDICATORS = (
    Indicator(
        name="obv", label="On-balance volume", category="volume", params=(), outputs=("value",), overlay=False,
        unit="cumulative_volume",
        help="Running total of volume, added on up-closes and subtracted on down-closes; starts at the first "
             "bar's volume as TA-Lib OBV does. Its level is arbitrary — watch its direction, e.g. OBV rising "
             "while price is flat hints at accumulation.",
        warmup_fn=lambda _p: 0, compute_fn=_obv, stream_fn=_obv_stream,
    ),
    Indicator(
        name="volume_sma", label="Volume SMA", category="volume", params=(period_param(20),), outputs=("value",),
        overlay=False, unit="volume",
        help="Average volume of the last N bars; 'volume > volume_sma' flags bars with above-average activity "
             "(often used to confirm breakouts). Same as TA-Lib SMA over volume.",
        warmup_fn=lambda p: int(p["period"]) - 1, compute_fn=_volume_sma, stream_fn=_volume_sma_stream,
    ),
    Indicator(
        name="vwap", label="Rolling VWAP", category="volume", params=(period_param(20),), outputs=("value",),
        overlay=True, unit="price",
        help="Volume-weighted average of the typical price (high+low+close)/3 over the last N bars — a rolling "
             "window, not reset each session (candles here have no session boundary). Price above VWAP means "
             "recent buyers are on average in profit. A window with zero volume reads the bar's typical price. "
             "TA-Lib has no VWAP.",
        warmup_fn=lambda p: int(p["period"]) - 1, compute_fn=_vwap, stream_fn=_vwap_stream,
    ),
)
