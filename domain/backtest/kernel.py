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


# Open-trade state vector (float64[8]) and settings vector (float64[7]) passed between the loop's helpers.
P_SIDE, P_SIZE, P_PRICE, P_BAR, P_SL, P_TP, P_TRAIL, P_PEAK = range(8)
C_FRAC, C_SL, C_TP, C_TRAIL, C_COMM, C_SLIP, C_LOT = range(7)
Arrays3 = tuple[np.ndarray, np.ndarray, np.ndarray]


@njit(cache=True)
def _exit(trades: np.ndarray, k: int, pos: np.ndarray, bar: int, raw: float, cfg: np.ndarray, reason: int,
          slip: bool) -> float:
    """Close the open trade at `raw` (slipped against the trader unless `slip` is False); returns cash change."""
    side = int(pos[P_SIDE])
    price = raw * (1.0 - side * cfg[C_SLIP]) if slip else raw
    pos[P_SIDE] = 0.0
    return _record(trades, k, side, pos[P_SIZE], int(pos[P_BAR]), bar, pos[P_PRICE], price, cfg[C_COMM], reason)


@njit(cache=True)
def _enter(pos: np.ndarray, cash: float, bar: int, side: int, raw: float, cfg: np.ndarray) -> float:
    """Open a trade sized from `cash` at `raw` (slipped); returns the entry commission (0 if nothing bought)."""
    cost = _unit_cost(raw, side, cfg[C_FRAC], cfg[C_COMM], cfg[C_SLIP])
    units = ((max(cash, 0.0) * cfg[C_FRAC]) // (cost * cfg[C_LOT])) * cfg[C_LOT]
    if units <= 0.0:
        return 0.0
    eprice = raw * (1.0 + side * cfg[C_SLIP])
    sl, tp, trail, peak = _levels(side, eprice, cfg[C_SL], cfg[C_TP], cfg[C_TRAIL])
    pos[P_SIDE], pos[P_SIZE], pos[P_PRICE], pos[P_BAR] = side, units, eprice, bar
    pos[P_SL], pos[P_TP], pos[P_TRAIL], pos[P_PEAK] = sl, tp, trail, peak
    commission: float = units * eprice * cfg[C_COMM]
    return commission


@njit(cache=True)
def _stops(trades: np.ndarray, k: int, pos: np.ndarray, i: int, o: float, h: float, lo: float,
           cfg: np.ndarray) -> float:
    """Exit on a stop/target hit in this bar (returns the cash change), else move the trailing stop."""
    side = int(pos[P_SIDE])
    reason, raw = _stop_hit(side, o, h, lo, pos[P_SL], pos[P_TRAIL], pos[P_TP])
    if reason >= 0:
        return _exit(trades, k, pos, i, raw, cfg, reason, True)
    if cfg[C_TRAIL] > 0.0:
        pos[P_PEAK] = max(pos[P_PEAK], h) if side > 0 else min(pos[P_PEAK], lo)
        pos[P_TRAIL] = pos[P_PEAK] * (1.0 - side * cfg[C_TRAIL])
    return 0.0


@njit(cache=True)
def simulate_arrays(o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, el: np.ndarray,
                    xl: np.ndarray, es: np.ndarray, xs: np.ndarray, start: int, reverse: bool, cfg: np.ndarray,
                    cash: float, on_close: bool, finalize: bool) -> Arrays3:
    """Run the whole backtest. Returns (equity, trades[k, N_COLS], open position [side, size, price, bar])."""
    n = len(c)
    equity = np.full(n, cash)
    trades = np.empty((n + 1, N_COLS))
    pos = np.zeros(8)
    k = 0
    pend_close, pend_open = False, 0
    for i in range(start, n):
        # market orders decided at the previous close fill at this bar's open, then stops from this bar on
        if pend_close and pos[P_SIDE] != 0:
            cash += _exit(trades, k, pos, i, o[i], cfg, SIGNAL, True)
            k += 1
        if pend_open != 0:
            cash -= _enter(pos, cash, i, pend_open, o[i], cfg)
        if pos[P_SIDE] != 0:
            change = _stops(trades, k, pos, i, o[i], h[i], lo[i], cfg)
            if pos[P_SIDE] == 0:
                cash += change
                k += 1
        held = pos[P_SIDE] * pos[P_SIZE]
        equity[i] = cash + (c[i] * held - held * pos[P_PRICE]) if held != 0 else cash
        if equity[i] <= 0.0:  # ruined: close at this close and stop
            if pos[P_SIDE] != 0:
                _exit(trades, k, pos, i, c[i], cfg, END, False)
                k += 1
            equity[i:] = 0.0
            return equity, trades[:k].copy(), np.zeros(4)
        if i >= n - 1:
            break
        pend_close, pend_open = _decide(int(pos[P_SIDE]), el[i], xl[i], es[i], xs[i], reverse)
        if on_close:  # fill now, at this close (the equity above was marked before, as backtesting.py)
            if pend_close and pos[P_SIDE] != 0:
                cash += _exit(trades, k, pos, i, c[i], cfg, SIGNAL, True)
                k += 1
            if pend_open != 0:
                cash -= _enter(pos, cash, i, pend_open, c[i], cfg)
            pend_close, pend_open = False, 0
    if finalize and pos[P_SIDE] != 0:
        cash += _exit(trades, k, pos, n - 1, c[n - 1], cfg, END, True)
        k += 1
        equity[n - 1] = cash
    return equity, trades[:k].copy(), pos[:4].copy()


@njit(cache=True)
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
