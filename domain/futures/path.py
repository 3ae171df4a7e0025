"""The bar path rule: which of stop, liquidation and target a position meets first inside one bar."""

from __future__ import annotations

from domain.jit import njit

# Only open/high/low/close are known, so the path is assumed adverse first: for a long open → low → high →
# close, for a short open → high → low → close, whatever the bar's colour. This is the conservative rule
# backtesting.py applies (a stop-loss and a take-profit both reached in one bar: the stop wins), so parity
# holds. On the adverse leg the level nearer the open is met first: a long's stop above its liquidation price
# fills; a stop at or beyond the liquidation price never does (the exchange liquidates first; ties go to
# liquidation). A bar that opens at or through a level fills there at the open: liquidation first, then the stop.

NO_EXIT = 0
STOP = 1
LIQUIDATION = 2
TARGET = 3


@njit(cache=True)
def _valid(level: float) -> bool:
    return level == level and level > 0.0


@njit(cache=True)
def first_exit_nb(side: int, open_: float, high: float, low: float, stop: float, liquidation: float,
                  target: float) -> tuple[int, float]:
    """(what exits: NO_EXIT/STOP/LIQUIDATION/TARGET, at what price) for a position held into the bar.
    Absent levels are NaN (a long liquidation price of 0 means none)."""
    s = 1.0 if side > 0 else -1.0
    # in "adverse distance" terms a long's low and a short's high are how far the bar went against it
    worst = low if side > 0 else high
    if _valid(liquidation) and s * open_ <= s * liquidation:
        return LIQUIDATION, open_
    if _valid(stop) and s * open_ <= s * stop:
        return STOP, open_
    hit_liq = _valid(liquidation) and s * worst <= s * liquidation
    hit_stop = _valid(stop) and s * worst <= s * stop
    if hit_stop and (not hit_liq or s * stop > s * liquidation):
        return STOP, stop
    if hit_liq:
        return LIQUIDATION, liquidation
    if _valid(target):
        best = high if side > 0 else low
        if s * open_ >= s * target:
            return TARGET, open_
        if s * best >= s * target:
            return TARGET, target
    return NO_EXIT, 0.0


def first_exit(side: int, open_: float, high: float, low: float, stop: float = float("nan"),
               liquidation: float = float("nan"), target: float = float("nan")) -> tuple[int, float]:
    """first_exit_nb with keyword defaults; the rule is the note at the top of this module."""
    code, price = first_exit_nb(side, open_, high, low, stop, liquidation, target)
    return int(code), float(price)
