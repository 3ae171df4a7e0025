"""A strategy's schema-2 risk block and scale-in rule as the plain arrays `kernel_v2.simulate_v2` reads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from domain.backtest import kernel_v2 as k2
from domain.indicators import CATALOG
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


def atr_distance(series: CandleSeries, d: Distance | None, cache: dict[int, F64] | None = None) -> F64:
    """mult × ATR(period) at every bar for an ATR distance; NaN everywhere otherwise."""
    if d is None or d.kind != "atr":
        return np.full(len(series), np.nan)
    cache = {} if cache is None else cache
    if d.period not in cache:
        cache[d.period] = CATALOG["atr"].compute(series, {"period": d.period})["value"]
    return d.value * cache[d.period]


def risk_arrays(series: CandleSeries, risk: Risk, scale: ScaleSpec | None) -> tuple[F64, F64, F64]:
    """(risk vector, level rows, ATR distance rows: stop, trailing, then each level)."""
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
    atr: dict[int, F64] = {}  # one ATR per period, however many distances use it
    rows = [atr_distance(series, risk.stop_loss, atr), atr_distance(series, trail.distance if trail else None, atr),
            *(atr_distance(series, level.distance, atr) for level in risk.take_profit)]
    return r, levels, np.ascontiguousarray(np.vstack(rows))


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
