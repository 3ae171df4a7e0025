"""The simulation loop: one numba-compiled pass over plain price and signal arrays."""

from __future__ import annotations

import numpy as np

from domain.jit import njit

# Exit reason codes stored in the trades table (names in domain.backtest.trades.EXIT_REASONS).
SIGNAL, STOP, TAKE_PROFIT, TRAILING, END = 0, 1, 2, 3, 4
# Trade record columns (float64 matrix, one row per closed trade).
T_SIDE, T_SIZE, T_EBAR, T_XBAR, T_EPRICE, T_XPRICE, T_PNL, T_RET, T_COMM, T_REASON = range(10)
N_COLS = 10


@njit(cache=True, inline="always")
def _unit_cost(price: float, side: int, frac: float, commission: float, slippage: float) -> float:
    """Cash needed per unit: slipped price plus commission, as backtesting.py sizes relative orders."""
    adjusted = price * (1.0 + side * slippage)
    return adjusted + (frac * price * commission) / frac


@njit(cache=True, inline="always")
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


@njit(cache=True, inline="always")
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


C_FRAC, C_SL, C_TP, C_TRAIL, C_COMM, C_SLIP, C_LOT = range(7)  # the settings vector `cfg`
Arrays3 = tuple[np.ndarray, np.ndarray, np.ndarray]
# Open-trade state carried through the loop as scalars (numba keeps them in registers):
# (k trades so far, cash, side, size, entry price, entry bar, stop, target, trailing level, best price)
State = tuple[int, float, int, float, float, int, float, float, float, float]
# The settings as a tuple of scalars: values numba can keep in registers across the loop's array stores.
Costs = tuple[float, float, float, float, float, float, float]


@njit(cache=True, inline="always")
def _fill(trades: np.ndarray, i: int, price: float, close_now: bool, open_side: int, st: State,
          cfg: Costs) -> State:
    """Market fills at `price` on bar i: close the open trade, then open `open_side` sized from the cash."""
    k, cash, side, size, eprice, ebar, sl, tp, trail, peak = st
    if close_now and side != 0:
        xprice = price * (1.0 - side * cfg[C_SLIP])
        cash += _record(trades, k, side, size, ebar, i, eprice, xprice, cfg[C_COMM], SIGNAL)
        k += 1
        side = 0
    if open_side != 0:
        cost = _unit_cost(price, open_side, cfg[C_FRAC], cfg[C_COMM], cfg[C_SLIP])
        units = ((max(cash, 0.0) * cfg[C_FRAC]) // (cost * cfg[C_LOT])) * cfg[C_LOT]
        if units > 0.0:
            side, size, ebar = open_side, units, i
            eprice = price * (1.0 + side * cfg[C_SLIP])
            cash -= size * eprice * cfg[C_COMM]
            sl, tp, trail, peak = _levels(side, eprice, cfg[C_SL], cfg[C_TP], cfg[C_TRAIL])
    return k, cash, side, size, eprice, ebar, sl, tp, trail, peak


@njit(cache=True, inline="always")
def _stops(trades: np.ndarray, i: int, o: float, h: float, lo: float, st: State, cfg: Costs) -> State:
    """Exit on a stop/target hit in bar i, else move the trailing stop with the bar's extreme."""
    k, cash, side, size, eprice, ebar, sl, tp, trail, peak = st
    reason, raw = _stop_hit(side, o, h, lo, sl, trail, tp)
    if reason >= 0:
        xprice = raw * (1.0 - side * cfg[C_SLIP])
        cash += _record(trades, k, side, size, ebar, i, eprice, xprice, cfg[C_COMM], reason)
        return k + 1, cash, 0, size, eprice, ebar, sl, tp, trail, peak
    if cfg[C_TRAIL] > 0.0:
        peak = max(peak, h) if side > 0 else min(peak, lo)
        trail = peak * (1.0 - side * cfg[C_TRAIL])
    return k, cash, side, size, eprice, ebar, sl, tp, trail, peak


@njit(cache=True)
def simulate_arrays(o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, el: np.ndarray,
                    xl: np.ndarray, es: np.ndarray, xs: np.ndarray, start: int, reverse: bool,
                    settings: np.ndarray, cash: float, on_close: bool, finalize: bool) -> Arrays3:
    """Run the whole backtest. Returns (equity, trades[k, N_COLS], open position [side, size, price, bar])."""
    cfg: Costs = (settings[0], settings[1], settings[2], settings[3], settings[4], settings[5], settings[6])
    n = len(c)
    equity = np.full(n, cash)
    trades = np.empty((n + 1, N_COLS))
    st: State = (0, cash, 0, 0.0, 0.0, 0, 0.0, 0.0, 0.0, 0.0)
    pend_close, pend_open = False, 0
    for i in range(start, n):
        # orders decided at the previous close fill at this open; stops are checked from the entry bar on
        if pend_close or pend_open != 0:
            st = _fill(trades, i, o[i], pend_close, pend_open, st, cfg)
        if st[2] != 0:
            st = _stops(trades, i, o[i], h[i], lo[i], st, cfg)
        k, cash, side, size, eprice, ebar = st[0], st[1], st[2], st[3], st[4], st[5]
        held = side * size
        equity[i] = cash + (c[i] * held - held * eprice) if side != 0 else cash
        if equity[i] <= 0.0:  # ruined: close at this close and stop
            if side != 0:
                _record(trades, k, side, size, ebar, i, eprice, c[i], cfg[C_COMM], END)
                k += 1
            equity[i:] = 0.0
            return equity, trades[:k].copy(), np.zeros(4)
        if i >= n - 1:
            break
        pend_close, pend_open = _decide(side, el[i], xl[i], es[i], xs[i], reverse)
        if on_close and (pend_close or pend_open != 0):  # fill now (equity above was marked before, as bt)
            st = _fill(trades, i, c[i], pend_close, pend_open, st, cfg)
            pend_close, pend_open = False, 0
    k, cash, side, size, eprice, ebar = st[0], st[1], st[2], st[3], st[4], st[5]
    if finalize and side != 0:
        xprice = c[n - 1] * (1.0 - side * cfg[C_SLIP])
        cash += _record(trades, k, side, size, ebar, n - 1, eprice, xprice, cfg[C_COMM], END)
        k += 1
        side = 0
        equity[n - 1] = cash
    return equity, trades[:k].copy(), np.array([float(side), size, eprice, float(ebar)])


@njit(cache=True, inline="always")
def _levels(side: int, eprice: float, sl_frac: float, tp_frac: float,
            trail_frac: float) -> tuple[float, float, float, float]:
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


@njit(cache=True, inline="always")
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
