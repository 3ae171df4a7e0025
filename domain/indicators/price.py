"""Price fields (open, high, low, close, volume, typical price) and N-bar highest high / lowest low."""

from __future__ import annotations

from domain.indicators.base import F64, Indicator, Resolved, Stream, period_param
from domain.indicators.kernels import rolling_max, rolling_min
from domain.indicators.streams import RollingExtreme
from domain.market.candles import CandleSeries


def _readonly(a: F64) -> F64:
    v = a.view()
    v.flags.writeable = False
    return v


def _field(column: str, label: str, unit: str, overlay: bool, help_text: str) -> Indicator:
    def compute(series: CandleSeries, _p: Resolved) -> dict[str, F64]:
        return {"value": _readonly(series.column(column))}

    index = ("open", "high", "low", "close", "volume").index(column)

    def stream(_p: Resolved) -> Stream:
        return lambda *bar: (bar[index],)

    return Indicator(
        name=column, label=label, category="price", params=(), outputs=("value",), overlay=overlay,
        help=help_text, unit=unit, warmup_fn=lambda _p: 0, compute_fn=compute, stream_fn=stream,
    )


def _typical(series: CandleSeries, _p: Resolved) -> dict[str, F64]:
    return {"value": (series.high + series.low + series.close) / 3.0}


def _typical_stream(_p: Resolved) -> Stream:
    return lambda o, h, low, c, v: ((h + low + c) / 3.0,)


def _highest_stream(p: Resolved) -> Stream:
    highest = RollingExtreme(int(p["period"]), 1.0).push
    return lambda o, h, low, c, v: (highest(h),)


def _lowest_stream(p: Resolved) -> Stream:
    lowest = RollingExtreme(int(p["period"]), -1.0).push
    return lambda o, h, low, c, v: (lowest(low),)


def _highest(series: CandleSeries, p: Resolved) -> dict[str, F64]:
    return {"value": rolling_max(series.high, int(p["period"]))}


def _lowest(series: CandleSeries, p: Resolved) -> dict[str, F64]:
    return {"value": rolling_min(series.low, int(p["period"]))}


PRICE_INDICATORS = (
    _field("open", "Open", "price", True, "The bar's first traded price — "
           "the price at which a signal from the previous bar is filled."),
    _field("high", "High", "price", True, "The bar's highest traded price; "
           "stops and targets above the market are checked against it."),
    _field("low", "Low", "price", True, "The bar's lowest traded price; "
           "stops and targets below the market are checked against it."),
    _field("close", "Close", "price", True,
           "The bar's last traded price. Signals are evaluated on the close of each bar."),
    _field("volume", "Volume", "volume", False,
           "Quantity traded during the bar, in the base asset (e.g. BTC), not in quote currency."),
    Indicator(
        name="typical", label="Typical price", category="price", params=(), outputs=("value",), overlay=True,
        help="(high + low + close) / 3 — one price summarising the bar; the input of CCI and VWAP. "
             "Same definition as TA-Lib's TYPPRICE.",
        unit="price", warmup_fn=lambda _p: 0, compute_fn=_typical, stream_fn=_typical_stream,
    ),
    Indicator(
        name="highest", label="Highest high", category="price", params=(period_param(20),), outputs=("value",),
        overlay=True,
        help="Highest high of the last N bars, the current bar included (TA-Lib MAX over high). "
             "Because the current bar is included, close never exceeds it; 'high ≥ highest' marks a new N-bar high.",
        unit="price", warmup_fn=lambda p: int(p["period"]) - 1, compute_fn=_highest, stream_fn=_highest_stream,
    ),
    Indicator(
        name="lowest", label="Lowest low", category="price", params=(period_param(20),), outputs=("value",),
        overlay=True,
        help="Lowest low of the last N bars, the current bar included (TA-Lib MIN over low). "
             "'low ≤ lowest' marks a new N-bar low.",
        unit="price", warmup_fn=lambda p: int(p["period"]) - 1, compute_fn=_lowest, stream_fn=_lowest_stream,
    ),
)

__all__ = ["PRICE_INDICATORS"]
