"""The simulation loop: one numba-compiled pass over plain price and signal arrays."""

from __future__ import annotations

import numpy as np
from numba import njit

# Exit reason codes stored in the trades table (names in domain.backtest.trades.EXIT_REASONS).
SIGNAL, STOP, TAKE_PROFIT, TRAILING, END = 0, 1, 2, 3, 4
# Trade record columns (float64 matrix, one row per closed trade).
T_SIDE, T_SIZE, T_EBAR, T_XBAR, T_EPRICE, T_XPRICE, T_PNL, T_RET, T_COMM, T_REASON = range(10)
N_COLS = 10


@njit(cache=True)
def _unit_cost(price: float, side: int, frac: float, commission: float, slippage: float) -> float:
    """Cash needed per unit: slipped price plus commission, as backtesting.py sizes relative orders."""
    adjusted = price * (1.0 + side * slippage)
    return adjusted + (frac * price * commission) / frac


@njit(cache=True)
def _record(out: np.ndarray, k: int, side: int, size: float, ebar: int, xbar: int, eprice: float,
            xprice: float, commission: float, reason: int) -> float:
    """Write closed trade k; return the cash change on exit (gross PnL less the exit commission)."""
    signed = side * size
    exit_comm = size * xprice * commission
    entry_comm = size * eprice * commission
    comms = exit_comm + entry_comm
    out[k, T_SIDE] = side
    out[k, T_SIZE] = size
    out[k, T_EBAR] = ebar
    out[k, T_XBAR] = xbar
    out[k, T_EPRICE] = eprice
    out[k, T_XPRICE] = xprice
    out[k, T_PNL] = signed * (xprice - eprice) - comms
    out[k, T_RET] = side * (xprice / eprice - 1.0) - comms / (size * eprice)
    out[k, T_COMM] = comms
    out[k, T_REASON] = reason
    return signed * (xprice - eprice) - exit_comm


@njit(cache=True)
def _stop_hit(side: int, o: float, h: float, lo: float, sl: float, trail: float, tp: float) -> tuple[int, float]:
    """(reason, raw fill price) of a stop/target hit on this bar, or (-1, nan). Stops are checked first."""
    if side > 0:
        level = max(sl, trail)
        if level > 0.0 and lo <= level:
            return (TRAILING if trail > sl else STOP), min(o, level)
        if tp > 0.0 and h >= tp:
            return TAKE_PROFIT, max(o, tp)
    else:
        level = min(sl, trail)
        if level < np.inf and h >= level:
            return (TRAILING if trail < sl else STOP), max(o, level)
        if tp > 0.0 and lo <= tp:
            return TAKE_PROFIT, min(o, tp)
    return -1, np.nan


@njit(cache=True)
def simulate_arrays(o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, el: np.ndarray,
                    xl: np.ndarray, es: np.ndarray, xs: np.ndarray, start: int, reverse: bool,
                    frac: float, sl_frac: float, tp_frac: float, trail_frac: float, cash: float,
                    commission: float, slippage: float, lot: float, on_close: bool, finalize: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run the whole backtest. Returns (equity, trades[k, N_COLS], open_state[4]); see simulate()."""
    n = len(c)
    equity = np.full(n, cash)
    trades = np.empty((n + 1, N_COLS))
    k = 0
    side = 0
    size = 0.0
    eprice = 0.0
    ebar = 0
    sl = tp = trail = 0.0
    peak = 0.0
    pend_close = False
    pend_open = 0
    for i in range(start, n):
        # 1. market orders decided at the previous close fill at this bar's open
        if pend_close and side != 0:
            xprice = o[i] * (1.0 - side * slippage)
            cash += _record(trades, k, side, size, ebar, i, eprice, xprice, commission, SIGNAL)
            k += 1
            side = 0
        pend_close = False
        if pend_open != 0:
            want = pend_open
            pend_open = 0
            cost = _unit_cost(o[i], want, frac, commission, slippage)
            units = ((max(cash, 0.0) * frac) // (cost * lot)) * lot
            if units > 0.0:
                side, size, ebar = want, units, i
                eprice = o[i] * (1.0 + side * slippage)
                cash -= size * eprice * commission
                sl, tp, trail, peak = _levels(side, eprice, sl_frac, tp_frac, trail_frac)
        # 2. stops and targets of the open trade, from its entry bar on
        if side != 0:
            reason, raw = _stop_hit(side, o[i], h[i], lo[i], sl, trail, tp)
            if reason >= 0:
                xprice = raw * (1.0 - side * slippage)
                cash += _record(trades, k, side, size, ebar, i, eprice, xprice, commission, reason)
                k += 1
                side = 0
            elif trail_frac > 0.0:
                peak = max(peak, h[i]) if side > 0 else min(peak, lo[i])
                trail = peak * (1.0 - side * trail_frac)
        # 3. mark to the close; a run that loses everything stops here
        eq = cash
        if side != 0:
            eq = cash + (c[i] * (side * size) - (side * size) * eprice)
        equity[i] = eq
        if eq <= 0.0:
            if side != 0:
                _record(trades, k, side, size, ebar, i, eprice, c[i], commission, END)
                k += 1
                side = 0
            equity[i:] = 0.0
            return equity, trades[:k].copy(), np.array([0.0, 0.0, 0.0, 0.0])
        # 4. decide on this close; orders fill at the next open (or right now with trade_on_close)
        if i >= n - 1:
            break
        close_now, open_side = _decide(side, el[i], xl[i], es[i], xs[i], reverse)
        if not on_close:
            pend_close, pend_open = close_now, open_side
            continue
        if close_now and side != 0:
            xprice = c[i] * (1.0 - side * slippage)
            cash += _record(trades, k, side, size, ebar, i, eprice, xprice, commission, SIGNAL)
            k += 1
            side = 0
        if open_side != 0:
            cost = _unit_cost(c[i], open_side, frac, commission, slippage)
            units = ((max(cash, 0.0) * frac) // (cost * lot)) * lot
            if units > 0.0:
                side, size, ebar = open_side, units, i
                eprice = c[i] * (1.0 + side * slippage)
                cash -= size * eprice * commission
                sl, tp, trail, peak = _levels(side, eprice, sl_frac, tp_frac, trail_frac)
    if finalize and side != 0:
        xprice = c[n - 1] * (1.0 - side * slippage)
        cash += _record(trades, k, side, size, ebar, n - 1, eprice, xprice, commission, END)
        k += 1
        side = 0
        equity[n - 1] = cash
    state = np.array([float(side), size, eprice, float(ebar)])
    return equity, trades[:k].copy(), state


@njit(cache=True)
def _levels(side: int, eprice: float, sl_frac: float, tp_frac: float, trail_frac: float) -> tuple[float, float, float, float]:
    """Stop, target and trailing levels relative to the entry fill; 0 / inf mean 'none'."""
    if side > 0:
        sl = eprice * (1.0 - sl_frac) if sl_frac > 0.0 else 0.0
        tp = eprice * (1.0 + tp_frac) if tp_frac > 0.0 else 0.0
        trail = eprice * (1.0 - trail_frac) if trail_frac > 0.0 else 0.0
    else:
        sl = eprice * (1.0 + sl_frac) if sl_frac > 0.0 else np.inf
        tp = eprice * (1.0 - tp_frac) if tp_frac > 0.0 else 0.0
        trail = eprice * (1.0 + trail_frac) if trail_frac > 0.0 else np.inf
    return sl, tp, trail, eprice


@njit(cache=True)
def _decide(side: int, el: bool, xl: bool, es: bool, xs: bool, reverse: bool) -> tuple[bool, int]:
    """(close the open trade?, side to open or 0) on this bar's signals."""
    if el and es:  # contradictory entries cancel each other
        el = es = False
    if side > 0:
        if es and reverse:
            return True, -1
        return xl, 0
    if side < 0:
        if el and reverse:
            return True, 1
        return xs, 0
    if el:
        return False, 1
    if es:
        return False, -1
    return False, 0
