"""Trend indicators: SMA, EMA, WMA, MACD and ADX (+DI/−DI)."""

from __future__ import annotations

from itertools import count

from domain.indicators.base import F64, Indicator, Param, Resolved, Stream, nan_until, period_param
from domain.indicators.kernels import rolling_mean, rolling_wma
from domain.indicators.recursive import adx_wilder, ema_seeded
from domain.indicators.streams import NAN, Adx, Ema, RollingMean, RollingWma
from domain.market.candles import CandleSeries


def _sma(series: CandleSeries, p: Resolved) -> dict[str, F64]:
    return {"value": rolling_mean(series.close, int(p["period"]))}


def _ema(series: CandleSeries, p: Resolved) -> dict[str, F64]:
    period = int(p["period"])
    return {"value": ema_seeded(series.close, period, period - 1)}


def _wma(series: CandleSeries, p: Resolved) -> dict[str, F64]:
    return {"value": rolling_wma(series.close, int(p["period"]))}


def _macd_warmup(p: Resolved) -> int:
    return int(p["slow"]) - 1 + int(p["signal"]) - 1


def _macd(series: CandleSeries, p: Resolved) -> dict[str, F64]:
    fast, slow, signal = int(p["fast"]), int(p["slow"]), int(p["signal"])
    start = slow - 1
    # Both EMAs are seeded on the same bar (slow-1), as TA-Lib does; the signal EMA on the line from there.
    line = ema_seeded(series.close, fast, start) - ema_seeded(series.close, slow, start)
    sig = ema_seeded(line, signal, start + signal - 1)
    warm = _macd_warmup(p)
    hist = line - sig
    return {"macd": nan_until(line, warm), "signal": sig, "hist": hist}


def _macd_cross(p: Resolved) -> list[tuple[str, str]]:
    if p["fast"] >= p["slow"]:
        return [("fast", f"must be less than slow ({p['slow']})")]
    return []


def _adx(series: CandleSeries, p: Resolved) -> dict[str, F64]:
    adx, pdi, mdi = adx_wilder(series.high, series.low, series.close, int(p["period"]))
    return {"adx": adx, "plus_di": pdi, "minus_di": mdi}


def _sma_stream(p: Resolved) -> Stream:
    mean = RollingMean(int(p["period"])).push
    return lambda o, h, low, c, v: (mean(c),)


def _ema_stream(p: Resolved) -> Stream:
    period = int(p["period"])
    ema = Ema(period, period - 1).push
    return lambda o, h, low, c, v: (ema(c),)


def _wma_stream(p: Resolved) -> Stream:
    wma = RollingWma(int(p["period"])).push
    return lambda o, h, low, c, v: (wma(c),)


def _macd_stream(p: Resolved) -> Stream:
    fast, slow, signal = int(p["fast"]), int(p["slow"]), int(p["signal"])
    start = slow - 1
    fast_ema, slow_ema = Ema(fast, start).push, Ema(slow, start).push
    signal_ema = Ema(signal, start + signal - 1).push
    warm = _macd_warmup(p)
    bar = count()

    def push(o: float, h: float, low: float, c: float, v: float) -> tuple[float, ...]:
        line = fast_ema(c) - slow_ema(c)
        sig = signal_ema(line)
        return (line if next(bar) >= warm else NAN), sig, line - sig

    return push


def _adx_stream(p: Resolved) -> Stream:
    adx = Adx(int(p["period"])).push
    return lambda o, h, low, c, v: adx(h, low, c)


TREND_INDICATORS = (
    Indicator(
        name="sma", label="Simple moving average", category="trend", params=(period_param(20),),
        outputs=("value",), overlay=True, unit="price",
        help="Average close of the last N bars, each weighted equally. Smooths noise and lags by about N/2 bars; "
             "common periods 10, 20, 50, 200. Same as TA-Lib SMA.",
        warmup_fn=lambda p: int(p["period"]) - 1, compute_fn=_sma, stream_fn=_sma_stream,
    ),
    Indicator(
        name="ema", label="Exponential moving average", category="trend", params=(period_param(20),),
        outputs=("value",), overlay=True, unit="price",
        help="Moving average weighting recent closes more (k = 2/(N+1)); reacts faster than an SMA of the "
             "same period. Seeded with the SMA of the first N closes, exactly as TA-Lib EMA; common periods "
             "9, 12, 21, 26, 50.",
        warmup_fn=lambda p: int(p["period"]) - 1, compute_fn=_ema, stream_fn=_ema_stream,
    ),
    Indicator(
        name="wma", label="Weighted moving average", category="trend", params=(period_param(20),),
        outputs=("value",), overlay=True, unit="price",
        help="Moving average with linear weights 1..N, the newest close weighted most; lag between SMA and EMA. "
             "Same as TA-Lib WMA.",
        warmup_fn=lambda p: int(p["period"]) - 1, compute_fn=_wma, stream_fn=_wma_stream,
    ),
    Indicator(
        name="macd", label="MACD", category="trend",
        params=(
            Param("fast", "int", 12, 1, 500, "Fast period", "Period of the fast EMA (usually 12)."),
            Param("slow", "int", 26, 2, 1000, "Slow period", "Period of the slow EMA (usually 26); above fast."),
            Param("signal", "int", 9, 1, 500, "Signal period", "Period of the EMA of the MACD line (usually 9)."),
        ),
        outputs=("macd", "signal", "hist"), overlay=False, unit="price_delta",
        help="Moving Average Convergence/Divergence: fast EMA − slow EMA of the close (macd), its EMA (signal) "
             "and their difference (hist). Above 0 the short-term trend is up; macd crossing signal is the "
             "classic trigger. Defaults 12/26/9. As in TA-Lib both EMAs are seeded on the same bar (slow−1) "
             "with SMAs, so values equal TA-Lib MACD; all three fields start after slow+signal−2 bars.",
        warmup_fn=_macd_warmup, compute_fn=_macd, stream_fn=_macd_stream, cross_check=_macd_cross,
    ),
    Indicator(
        name="adx", label="ADX / DMI", category="trend", params=(period_param(14, 2, 500),),
        outputs=("adx", "plus_di", "minus_di"), overlay=False, unit="bounded_0_100",
        help="Wilder's Average Directional Index: trend strength 0..100 regardless of direction (above 25 is "
             "usually called trending, below 20 ranging). +DI and −DI measure up- and down-moves; +DI above −DI "
             "means buyers dominate. Same as TA-Lib ADX/PLUS_DI/MINUS_DI; all fields start after 2N−1 bars. "
             "On perfectly flat stretches we read DI = 0 and DX = 0 (TA-Lib holds the previous ADX).",
        warmup_fn=lambda p: 2 * int(p["period"]) - 1, compute_fn=_adx, stream_fn=_adx_stream,
    ),
)
