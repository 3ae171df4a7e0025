"""A strategy's schema-2 risk block and scale-in rule as the plain arrays `kernel_v2.simulate_v2` reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from domain.backtest import kernel_v2 as k2
from domain.indicators import CATALOG
from domain.indicators.recursive import atr_wilder
from domain.market import CandleSeries
from domain.strategy.risk import Distance, Risk

F64 = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True, eq=False)
class ScaleSpec:
    """When to add (one bool per bar, read on its close while a position is open) and how much."""

    signal: BoolArray
    size_pct: float
    max_adds: int
    min_bars_between: int = 1


def distances(risk: Risk) -> list[Distance | None]:
    """The risk block's distances in the order of the ATR rows: stop, trailing, then each take-profit level."""
    trail = risk.trailing_stop
    return [risk.stop_loss, trail.distance if trail else None, *(level.distance for level in risk.take_profit)]


def atr_rows(series: CandleSeries, risk: Risk) -> F64:
    """mult × ATR(period) at every bar, one row per distance (`distances`); NaN rows for the others (each ATR
    period computed once)."""
    rows, dist = atr_table(series, risk)
    out = np.full((len(dist), len(series)), np.nan)
    for j, (row, mult) in enumerate(dist):
        if row >= 0:
            np.multiply(mult, rows[int(row)], out=out[j])
    return out


def atr_table(series: CandleSeries, risk: Risk) -> tuple[F64, F64]:
    """(one ATR row per period the risk block uses, one row per distance (`distances`): [its ATR row or -1,
    mult]) for `kernel_v2.simulate_v2`, which multiplies where it reads (the products `atr_rows` stores): the
    run writes one row per period instead of one per distance."""
    periods, dist = atr_periods(risk)
    out = np.empty((len(periods), len(series)))
    for row, period in enumerate(periods):
        out[row] = atr_wilder(series.high, series.low, series.close, int(period))
    return out, dist


def _distance_table(ds: list[Distance | None], periods: list[int]) -> F64:
    table = np.full((len(ds), 2), -1.0)
    for j, d in enumerate(ds):
        if d is not None and d.kind == "atr":
            table[j] = periods.index(d.period), d.value
    return table


def atr_periods(risk: Risk) -> tuple[npt.NDArray[np.int64], F64]:
    """(the ATR periods the risk block uses, its distance table as `atr_table` gives it) for a loop that computes
    those ATRs itself (`kernel_v2.simulate_v2` with `periods`)."""
    ds = distances(risk)
    periods = sorted({d.period for d in ds if d is not None and d.kind == "atr"})
    return np.array(periods, dtype=np.int64), _distance_table(ds, periods)


class StreamingDistances:
    """`atr_rows` one bar at a time (the catalog's streaming ATR, bit for bit the vectorised one): `push` a
    closed bar, get that bar's column."""

    def __init__(self, risk: Risk) -> None:
        self._ds = distances(risk)
        periods = sorted({d.period for d in self._ds if d is not None and d.kind == "atr"})
        self._streams = {p: CATALOG["atr"].stream({"period": p}) for p in periods}
        self.last = np.full(len(self._ds), np.nan)

    def push(self, o: float, h: float, lo: float, c: float, v: float) -> F64:
        atr = {p: stream(o, h, lo, c, v)[0] for p, stream in self._streams.items()}
        self.last = np.array([d.value * atr[d.period] if d is not None and d.kind == "atr" else np.nan
                              for d in self._ds])
        return self.last


class ScaleLimits(Protocol):
    """How much and how often to add (`ScaleSpec` here, `ScaleSettings` on paper)."""

    @property
    def size_pct(self) -> float: ...
    @property
    def max_adds(self) -> int: ...
    @property
    def min_bars_between(self) -> int: ...


def risk_vectors(risk: Risk, scale: ScaleLimits | None) -> tuple[F64, F64]:
    """(risk vector, level rows) of `kernel_v2`: what the stop, the trailing stop, the take-profit levels and
    scaling in are. The backtest and the paper broker (`domain.live.paper_risk`) both read these."""
    r = np.zeros(k2.R_LEN)
    if risk.stop_loss is not None:
        r[k2.R_SL_KIND] = k2.PCT if risk.stop_loss.kind == "pct" else k2.ATR
        r[k2.R_SL_FRAC] = risk.stop_loss.value / 100.0 if risk.stop_loss.kind == "pct" else 0.0
    trail = risk.trailing_stop
    if trail is not None:
        r[k2.R_TR_KIND] = k2.PCT if trail.distance.kind == "pct" else k2.ATR
        r[k2.R_TR_FRAC] = trail.distance.value / 100.0 if trail.distance.kind == "pct" else 0.0
        r[k2.R_TR_CLOSE] = 1.0 if trail.anchor == "close" else 0.0
    if scale is not None:
        r[k2.R_ADD_FRAC], r[k2.R_MAX_ADDS], r[k2.R_MIN_GAP] = (scale.size_pct / 100.0, scale.max_adds,
                                                              scale.min_bars_between)
    levels = np.zeros((len(risk.take_profit), k2.L_LEN))
    for j, level in enumerate(risk.take_profit):
        pct = level.distance.kind == "pct"
        levels[j, k2.L_KIND] = 0.0 if pct else 1.0
        levels[j, k2.L_FRAC] = level.distance.value / 100.0 if pct else 0.0
        levels[j, k2.L_SHARE] = level.close_pct / 100.0
    return r, levels


def risk_arrays(series: CandleSeries, risk: Risk, scale: ScaleSpec | None) -> tuple[F64, F64, F64]:
    """(risk vector, level rows, ATR distance rows: stop, trailing, then each level)."""
    r, levels = risk_vectors(risk, scale)
    return r, levels, atr_rows(series, risk)


def pct_risk_arrays(n: int, cfg: F64, scale: ScaleSpec | None) -> tuple[F64, F64, F64]:
    """The v1 risk fractions of the settings vector (stop, take-profit, extreme-anchored trailing) as the same
    arrays `risk_arrays` builds, for risk blocks that are not a `Risk` (the futures loop reads only these)."""
    from domain.backtest import kernel as k1

    r = np.zeros(k2.R_LEN)
    if cfg[k1.C_SL] > 0:
        r[k2.R_SL_KIND], r[k2.R_SL_FRAC] = k2.PCT, cfg[k1.C_SL]
    if cfg[k1.C_TRAIL] > 0:
        r[k2.R_TR_KIND], r[k2.R_TR_FRAC] = k2.PCT, cfg[k1.C_TRAIL]
    if scale is not None:
        r[k2.R_ADD_FRAC], r[k2.R_MAX_ADDS], r[k2.R_MIN_GAP] = (scale.size_pct / 100.0, scale.max_adds,
                                                              scale.min_bars_between)
    levels = np.zeros((1 if cfg[k1.C_TP] > 0 else 0, k2.L_LEN))
    if len(levels):
        levels[0, k2.L_FRAC], levels[0, k2.L_SHARE] = cfg[k1.C_TP], 1.0
    return r, levels, np.full((2 + len(levels), n), np.nan)


def risk_warmup(risk: Risk) -> int:
    """Bars before every ATR distance of the risk block has a value."""
    distances = [risk.stop_loss, risk.trailing_stop.distance if risk.trailing_stop else None,
                 *(level.distance for level in risk.take_profit)]
    periods = [d.period for d in distances if d is not None and d.kind == "atr"]
    return max((int(CATALOG["atr"].warmup({"period": p})) for p in periods), default=0)
