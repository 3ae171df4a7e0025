"""The simulation loop for schema-2 risk: ATR distances, take-profit levels with partial closes, close-anchored
trailing and scaling in. Same fills, sizing, costs and decisions as `kernel.simulate_arrays` (whose helpers it
uses); v1 strategies keep running on that leaner loop.

The open position lives in a small float array `p` (indexes below) and the take-profit levels in `lv`
(one row per level), so each rule is a short helper a later rule (leverage, funding) can sit beside.
"""

from __future__ import annotations

import numpy as np

from domain.backtest.kernel import END, N_COLS, SIGNAL, STOP, TAKE_PROFIT, TRAILING, _decide, _record, _unit_cost
from domain.backtest.position_program import PosRules, Signals5, _program
from domain.indicators.recursive import _tr
from domain.jit import njit

__all__ = ["PosRules", "Signals5", "simulate_v2"]  # the position-rule types are shared with the futures loop

# position state p[...]
P_SIDE, P_SIZE, P_AVG, P_EBAR, P_SL, P_TRAIL, P_PEAK, P_PEAK_SIZE, P_INIT, P_ADDS, P_LAST_ADD, P_SL_D = range(12)
P_LEN = 12
# level rows lv[j, ...]: kind (0 pct, 1 atr), pct fraction, share of peak size, distance fixed at entry, price, done
L_KIND, L_FRAC, L_SHARE, L_DIST, L_PRICE, L_DONE = range(6)
L_LEN = 6
# risk vector r[...]: stop kind/fraction, trailing kind/fraction/anchor, scale-in size fraction/max adds/min gap
R_SL_KIND, R_SL_FRAC, R_TR_KIND, R_TR_FRAC, R_TR_CLOSE, R_ADD_FRAC, R_MAX_ADDS, R_MIN_GAP = range(8)
R_LEN = 8
NONE, PCT, ATR = 0, 1, 2
# the settings vector, as in kernel: size fraction, (unused), (unused), (unused), commission, slippage, lot
C_FRAC, C_COMM, C_SLIP, C_LOT = 0, 4, 5, 6


@njit(cache=True, inline="always")
def _remeasure(p: np.ndarray, lv: np.ndarray, r: np.ndarray) -> None:
    """Stop and target prices from the (average) entry: percentages of it, ATR distances fixed at entry."""
    side, avg = p[P_SIDE], p[P_AVG]
    if r[R_SL_KIND] == PCT:
        p[P_SL] = avg * (1.0 - side * r[R_SL_FRAC])
    elif r[R_SL_KIND] == ATR:
        p[P_SL] = avg - side * p[P_SL_D]
    for j in range(lv.shape[0]):  # percentages as the v1 kernel writes them, so v1 risk gives the same levels
        lv[j, L_PRICE] = avg * (1.0 + side * lv[j, L_FRAC]) if lv[j, L_KIND] == 0 else avg + side * lv[j, L_DIST]


@njit(cache=True, inline="always")
def _open(p: np.ndarray, lv: np.ndarray, r: np.ndarray, side: int, units: float, price: float, i: int, s: int,
          sl_atr: np.ndarray, tr_atr: np.ndarray, tp_atr: np.ndarray) -> None:
    """A new position of `units` at `price` on bar i, decided on signal bar s (whose ATR sizes the distances)."""
    for j in range(lv.shape[0]):
        lv[j, L_DIST] = tp_atr[j, s]
    _open_at(p, lv, r, side, units, price, i, sl_atr[s], tr_atr[s])


@njit(cache=True, inline="always")
def _open_at(p: np.ndarray, lv: np.ndarray, r: np.ndarray, side: int, units: float, price: float, i: int,
             sl_dist: float, tr_dist: float) -> None:
    """`_open` with the signal bar's stop and trailing distances given, the levels' already in `lv[:, L_DIST]`."""
    p[:] = 0.0
    p[P_SIDE], p[P_SIZE], p[P_AVG], p[P_EBAR] = side, units, price, i
    p[P_PEAK_SIZE], p[P_INIT], p[P_LAST_ADD] = units, units, i
    p[P_SL] = 0.0 if side > 0 else np.inf
    p[P_SL_D] = sl_dist
    for j in range(lv.shape[0]):
        lv[j, L_DONE] = 0.0
    _remeasure(p, lv, r)
    p[P_PEAK] = price
    p[P_TRAIL] = 0.0 if side > 0 else np.inf
    if r[R_TR_KIND] != NONE and r[R_TR_CLOSE] == 0.0:  # extreme-anchored: trails from the entry at once
        p[P_TRAIL] = _offset(price, side, r, tr_dist)


@njit(cache=True, inline="always")
def _entry_units(cash: float, price: float, side: int, cfg: np.ndarray) -> float:
    cost = _unit_cost(price, side, cfg[C_FRAC], cfg[C_COMM], cfg[C_SLIP])
    units: float = ((max(cash, 0.0) * cfg[C_FRAC]) // (cost * cfg[C_LOT])) * cfg[C_LOT]
    return units


@njit(cache=True, inline="always")
def _add(p: np.ndarray, lv: np.ndarray, r: np.ndarray, cash: float, raw: float, i: int,
         cfg: np.ndarray) -> tuple[float, float]:
    """Scale in at `raw`: `size_pct` of the initial size, as much of it as the equity at this price affords.
    Returns (cash, units added)."""
    side = int(p[P_SIDE])
    price = raw * (1.0 + side * cfg[C_SLIP])
    lot = cfg[C_LOT]
    units = ((p[P_INIT] * r[R_ADD_FRAC]) // lot) * lot
    equity = cash + side * p[P_SIZE] * (price - p[P_AVG])
    room = equity / _unit_cost(raw, side, 1.0, cfg[C_COMM], cfg[C_SLIP]) - p[P_SIZE]
    units = min(units, (max(room, 0.0) // lot) * lot)
    if units <= 0.0:
        return cash, 0.0
    size = p[P_SIZE] + units
    p[P_AVG] = (p[P_AVG] * p[P_SIZE] + price * units) / size
    p[P_SIZE] = size
    p[P_PEAK_SIZE] = max(p[P_PEAK_SIZE], size)
    p[P_ADDS] += 1.0
    p[P_LAST_ADD] = i
    _remeasure(p, lv, r)
    left: float = cash - units * price * cfg[C_COMM]
    return left, units


@njit(cache=True, inline="always")
def _close(trades: np.ndarray, k: int, p: np.ndarray, i: int, units: float, xprice: float, reason: int,
           cfg: np.ndarray) -> tuple[int, float]:
    """Record the close of `units` (a partial fill or the rest); returns (trades, cash change)."""
    units = min(units, p[P_SIZE])
    change = _record(trades, k, int(p[P_SIDE]), units, int(p[P_EBAR]), i, p[P_AVG], xprice, cfg[C_COMM], reason)
    p[P_SIZE] -= units
    if p[P_SIZE] <= cfg[C_LOT] * 1e-9:
        p[P_SIDE] = 0.0
    return k + 1, change


@njit(cache=True, inline="always")
def _exits(trades: np.ndarray, k: int, cash: float, p: np.ndarray, lv: np.ndarray, i: int, o: float, h: float,
           lo: float, cfg: np.ndarray) -> tuple[int, float]:
    """Stop (or trailing stop) first, closing everything; else each take-profit level the bar reaches."""
    side = p[P_SIDE]
    slip = 1.0 - side * cfg[C_SLIP]
    level = max(p[P_SL], p[P_TRAIL]) if side > 0 else min(p[P_SL], p[P_TRAIL])
    if (side > 0 and level > 0.0 and lo <= level) or (side < 0 and level < np.inf and h >= level):
        why = TRAILING if (p[P_TRAIL] > p[P_SL] if side > 0 else p[P_TRAIL] < p[P_SL]) else STOP
        raw = min(o, level) if side > 0 else max(o, level)
        k, change = _close(trades, k, p, i, p[P_SIZE], raw * slip, why, cfg)
        return k, cash + change
    while p[P_SIDE] != 0.0:
        j = _nearest_level(lv, side)
        if j < 0:
            break
        target = lv[j, L_PRICE]
        if (side > 0 and h < target) or (side < 0 and lo > target):
            break
        lv[j, L_DONE] = 1.0
        raw = max(o, target) if side > 0 else min(o, target)
        units = p[P_SIZE]  # the last level closes what is left
        if _nearest_level(lv, side) >= 0:
            units = (p[P_PEAK_SIZE] * lv[j, L_SHARE] // cfg[C_LOT]) * cfg[C_LOT]
        if units > 0.0:
            k, change = _close(trades, k, p, i, units, raw * slip, TAKE_PROFIT, cfg)
            cash += change
    return k, cash


@njit(cache=True, inline="always")
def _nearest_level(lv: np.ndarray, side: float) -> int:
    """The pending level closest to the price (lowest for a long), or -1."""
    best = -1
    for j in range(lv.shape[0]):
        if lv[j, L_DONE] == 0.0 and (best < 0 or side * lv[j, L_PRICE] < side * lv[best, L_PRICE]):
            best = j
    return best


@njit(cache=True, inline="always")
def _trail(p: np.ndarray, r: np.ndarray, i: int, h: float, lo: float, c: float, tr_atr: np.ndarray) -> None:
    """Move the trailing stop after bar i: from the best extreme, or from this close; it only ever tightens."""
    if r[R_TR_KIND] != NONE:
        _trail_by(p, r, h, lo, c, tr_atr[i])


@njit(cache=True, inline="always")
def _trail_by(p: np.ndarray, r: np.ndarray, h: float, lo: float, c: float, dist: float) -> None:
    """`_trail` with the bar's trailing ATR distance given (a trailing stop is set)."""
    side = p[P_SIDE]
    if r[R_TR_CLOSE] != 0.0:
        anchor = c
    else:
        p[P_PEAK] = max(p[P_PEAK], h) if side > 0 else min(p[P_PEAK], lo)
        anchor = p[P_PEAK]
    level = _offset(anchor, side, r, dist)
    if not np.isnan(level):
        p[P_TRAIL] = max(p[P_TRAIL], level) if side > 0 else min(p[P_TRAIL], level)


@njit(cache=True, inline="always")
def _offset(anchor: float, side: float, r: np.ndarray, atr_dist: float) -> float:
    """The trailing level behind `anchor` (a percentage written as the v1 kernel does, or an ATR distance)."""
    return anchor * (1.0 - side * r[R_TR_FRAC]) if r[R_TR_KIND] == PCT else anchor - side * atr_dist


@njit(cache=True, inline="always")
def _rule(sig: Signals5, rule: int, i: int, p: np.ndarray, c: float, pr: PosRules, stack: np.ndarray) -> bool:
    """Slot `rule` on bar i's close: its signal array, or its program run on the open position's values."""
    if pr[1][rule] == 0 or p[P_SIDE] == 0.0:
        return bool(sig[rule][i])
    return _program(pr, rule, i, p[P_SIDE] * (c / p[P_AVG] - 1.0) * 100.0, i - p[P_EBAR], stack)


@njit(cache=True)
def simulate_v2(o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, sig: Signals5, start: int,
                reverse: bool, cfg: np.ndarray, r: np.ndarray, levels: np.ndarray, atr: np.ndarray, dist: np.ndarray,
                cash: float, on_close: bool, finalize: bool, pr: PosRules,
                periods: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Run the backtest. `sig`: entry/exit long, entry/exit short, scale-in (one bool array each); `atr`: one
    ATR row per period the risk block uses; `dist` rows (stop, trailing, then one per level): [its ATR row or
    -1, mult] (`risk_arrays.atr_table`); `pr`: the programs of rules reading the position
    (`position_rules.PositionRules`). With `periods` (one per ATR row), the loop computes those ATRs itself as
    it goes, into `atr` of two columns (this bar's and the last), overlapping their division chain with the
    rest of the loop instead of a pass of its own. Returns (equity, trades, open position [side, size, average
    price, entry bar], the bar of each add's fill)."""
    own_atr = len(periods) > 0
    mask = 1 if own_atr else -1  # ATR of bar s: atr[row, s & mask]
    chain = np.zeros(len(periods))
    if own_atr:
        for i in range(start):
            _atr_step(h, lo, c, i, periods, chain, atr)
    stack = np.zeros(pr[0].shape[1] + 1, dtype=np.bool_)
    el_s, xl_s, es_s, xs_s, add_s = sig
    # slots whose rule reads the position run their program while a position is open (kept in registers)
    xl_prog, xs_prog, add_prog = pr[1][1] > 0, pr[1][3] > 0, pr[1][4] > 0
    scaling, max_adds, min_gap = r[R_MAX_ADDS] > 0, r[R_MAX_ADDS], r[R_MIN_GAP]
    n = len(c)
    equity = np.full(n, cash)
    entries = _entries(el_s, es_s, start)
    trades = np.empty((entries * max(levels.shape[0], 1) + 2, N_COLS))  # see `_entries`
    add_bars = np.empty(entries * int(max_adds) + 1, dtype=np.int64)  # where scaling in filled (trades: closes)
    m = 0
    p = np.zeros(P_LEN)
    lv = levels.copy()
    k = 0
    pend_close, pend_open, pend_add = False, 0, False
    # the position as scalars for the common bar that touches nothing: refreshed whenever p or lv change
    side, held, avg, stop_lvl, target = 0.0, 0.0, 0.0, 0.0, np.inf
    trailing = r[R_TR_KIND] != NONE
    skip_to = start  # flat with nothing pending and no entry signal before this bar: only equity to mark
    for i in range(start, n):
        if own_atr:
            _atr_step(h, lo, c, i, periods, chain, atr)
        if i < skip_to:
            equity[i] = cash
            continue
        if pend_close or pend_open != 0 or pend_add:
            adds = p[P_ADDS]
            k, cash = _fills(trades, k, cash, p, lv, r, i, o[i], pend_close, pend_open, pend_add, (i - 1) & mask, cfg,
                             atr, dist)
            if p[P_ADDS] > adds:
                add_bars[m] = i
                m += 1
            side, held, avg, stop_lvl, target = _state(p, lv)
        if side != 0.0:
            if (lo[i] <= stop_lvl or h[i] >= target) if side > 0 else (h[i] >= stop_lvl or lo[i] <= target):
                k, cash = _exits(trades, k, cash, p, lv, i, o[i], h[i], lo[i], cfg)
                side, held, avg, stop_lvl, target = _state(p, lv)
            if side != 0.0 and trailing:
                _trail_by(p, r, h[i], lo[i], c[i], _distance(atr, dist, 1, i & mask))
                stop_lvl = max(p[P_SL], p[P_TRAIL]) if side > 0 else min(p[P_SL], p[P_TRAIL])
        equity[i] = cash + (c[i] * held - held * avg) if side != 0.0 else cash
        if equity[i] <= 0.0:
            if side != 0.0:
                _record(trades, k, int(side), p[P_SIZE], int(p[P_EBAR]), i, avg, c[i], cfg[C_COMM], END)
                k += 1
            equity[i:] = 0.0
            return equity, trades[:k].copy(), np.zeros(4), add_bars[:m].copy()
        if i >= n - 1:
            break
        xl, xs = xl_s[i], xs_s[i]
        if side != 0.0 and (xl_prog or xs_prog):  # the position's return (%) and bars held, only when read
            ret, bars = side * (c[i] / avg - 1.0) * 100.0, i - p[P_EBAR]
            xl = _program(pr, 1, i, ret, bars, stack) if xl_prog else xl
            xs = _program(pr, 3, i, ret, bars, stack) if xs_prog else xs
        pend_close, pend_open = _decide(int(side), el_s[i], xl, es_s[i], xs, reverse)
        pend_add = (scaling and side != 0.0 and not pend_close and pend_open == 0 and p[P_ADDS] < max_adds
                    and i - p[P_LAST_ADD] >= min_gap
                    and (_program(pr, 4, i, side * (c[i] / avg - 1.0) * 100.0, i - p[P_EBAR], stack) if add_prog
                         else add_s[i]))
        if on_close and (pend_close or pend_open != 0 or pend_add):
            adds = p[P_ADDS]
            k, cash = _fills(trades, k, cash, p, lv, r, i, c[i], pend_close, pend_open, pend_add, i & mask, cfg, atr,
                             dist)
            if p[P_ADDS] > adds:
                add_bars[m] = i
                m += 1
            side, held, avg, stop_lvl, target = _state(p, lv)
            pend_close, pend_open, pend_add = False, 0, False
        if side == 0.0 and not pend_close and pend_open == 0 and not pend_add:
            skip_to = _next_entry(el_s, es_s, i + 1, n - 1)
    if finalize and p[P_SIDE] != 0.0:
        k, change = _close(trades, k, p, n - 1, p[P_SIZE], c[n - 1] * (1.0 - p[P_SIDE] * cfg[C_SLIP]), END, cfg)
        cash += change
        equity[n - 1] = cash
    return equity, trades[:k].copy(), np.array([p[P_SIDE], p[P_SIZE], p[P_AVG], p[P_EBAR]]), add_bars[:m].copy()


@njit(cache=True, inline="always")
def _atr_step(h: np.ndarray, lo: np.ndarray, c: np.ndarray, i: int, periods: np.ndarray, chain: np.ndarray,
              out: np.ndarray) -> None:
    """Bar i of each ATR period into `out[row, i & 1]`: `recursive.atr_wilder`'s operations in its order (bit for
    bit the catalog's ATR); `chain` carries the sum of the first true ranges, then the average."""
    for k in range(len(periods)):
        period = periods[k]
        value = np.nan
        if 0 < i <= period:
            chain[k] += _tr(h, lo, c, i)
            if i == period:
                chain[k] = chain[k] / period
                value = chain[k]
        elif i > period:
            prev = chain[k]
            prev *= period - 1
            prev += _tr(h, lo, c, i)
            prev /= period
            chain[k] = prev
            value = prev
        out[k, i & 1] = value


@njit(cache=True, inline="always")
def _distance(atr: np.ndarray, dist: np.ndarray, j: int, s: int) -> float:
    """Distance j (`dist` row: ATR row or -1, mult) on bar s: mult × ATR (the product `atr_rows` stores), NaN
    when it is not an ATR distance."""
    row = int(dist[j, 0])
    out: float = dist[j, 1] * atr[row, s] if row >= 0 else np.nan
    return out


@njit(cache=True, inline="always")
def _next_entry(el: np.ndarray, es: np.ndarray, i: int, last: int) -> int:
    """The first bar from i with an entry signal (`last` if none before it)."""
    while i < last and not (el[i] or es[i]):
        i += 1
    return i


@njit(cache=True)
def _entries(el: np.ndarray, es: np.ndarray, start: int) -> int:
    """Bars with an entry signal from `start`: a position opens only on one, so the trade rows are at most one per
    take-profit level (the last closes the rest) or one (stop, signal, end) per entry, plus a ruin; the adds at
    most `max_adds` per entry."""
    entries = 0
    for i in range(start, len(el)):
        entries += el[i] or es[i]
    return entries


@njit(cache=True, inline="always")
def _state(p: np.ndarray, lv: np.ndarray) -> tuple[float, float, float, float, float]:
    """(side, signed size, average entry, effective stop level, nearest pending target) of the position."""
    side = p[P_SIDE]
    stop = max(p[P_SL], p[P_TRAIL]) if side > 0 else min(p[P_SL], p[P_TRAIL])
    j = _nearest_level(lv, side)
    target = lv[j, L_PRICE] if j >= 0 else (np.inf if side > 0 else -np.inf)
    return side, side * p[P_SIZE], p[P_AVG], stop, target


@njit(cache=True, inline="always")
def _fills(trades: np.ndarray, k: int, cash: float, p: np.ndarray, lv: np.ndarray, r: np.ndarray, i: int,
           raw: float, close_now: bool, open_side: int, add: bool, s: int, cfg: np.ndarray, atr: np.ndarray,
           dist: np.ndarray) -> tuple[int, float]:
    """Market fills at `raw` on bar i for orders decided on bar s: close, then open or add."""
    if close_now and p[P_SIDE] != 0.0:
        k, change = _close(trades, k, p, i, p[P_SIZE], raw * (1.0 - p[P_SIDE] * cfg[C_SLIP]), SIGNAL, cfg)
        cash += change
    if open_side != 0:
        units = _entry_units(cash, raw, open_side, cfg)
        if units > 0.0:
            price = raw * (1.0 + open_side * cfg[C_SLIP])
            for j in range(lv.shape[0]):
                lv[j, L_DIST] = _distance(atr, dist, 2 + j, s)
            _open_at(p, lv, r, open_side, units, price, i, _distance(atr, dist, 0, s), _distance(atr, dist, 1, s))
            cash -= units * price * cfg[C_COMM]
    elif add and p[P_SIDE] != 0.0:
        cash = _add(p, lv, r, cash, raw, i, cfg)[0]
    return k, cash
