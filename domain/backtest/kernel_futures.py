"""The simulation loop for USDT-M futures: the schema-2 loop's rules plus leverage, margin, liquidation and funding.

Spot runs never come here (they keep the v1 or v2 loop). Per bar: funding due at the open is settled into the
wallet (and an isolated position's margin, moving its liquidation price), then the open's fills, then the bar
path rule (`domain.futures.path`) between liquidation and the stop, then stops and targets as in `kernel_v2`.
"""

from __future__ import annotations

import numpy as np

from domain.backtest.kernel import END, N_COLS, SIGNAL, T_COMM, T_EPRICE, T_PNL, T_RET, T_SIZE, _decide, _record
from domain.backtest.kernel_v2 import (
    C_COMM,
    C_FRAC,
    C_LOT,
    C_SLIP,
    NONE,
    P_ADDS,
    P_AVG,
    P_EBAR,
    P_INIT,
    P_LAST_ADD,
    P_LEN,
    P_PEAK_SIZE,
    P_SIDE,
    P_SIZE,
    R_ADD_FRAC,
    R_MAX_ADDS,
    R_MIN_GAP,
    R_TR_KIND,
    PosRules,
    Signals5,
    _close,
    _exits,
    _open,
    _remeasure,
    _rule,
    _state,
    _trail,
)
from domain.backtest.trades import LIQUIDATION, T_FUND
from domain.futures.liquidation import isolated_liquidation_price_nb
from domain.futures.path import LIQUIDATION as PATH_LIQ
from domain.futures.path import first_exit_nb
from domain.jit import njit

# the futures vector fut[...]: leverage, cross margin (1.0) or isolated (0.0), largest notional at that leverage
F_LEV, F_CROSS, F_MAX_NOTIONAL = 0, 1, 2
F_LEN = 3
Brackets = tuple[np.ndarray, np.ndarray, np.ndarray]  # caps, maintenance ratios, cums


@njit(cache=True, inline="always")
def _units(cash: float, raw: float, side: int, cfg: np.ndarray, fut: np.ndarray) -> float:
    """Size fraction of the wallet as margin plus the opening fee: per unit price / leverage + price × fee (the
    spot sizing at 1×); notional = margin × leverage, capped by the brackets, floored to the lot."""
    price = raw * (1.0 + side * cfg[C_SLIP])
    per_unit = price / fut[F_LEV] + raw * cfg[C_COMM]
    units = min(max(cash, 0.0) * cfg[C_FRAC] / per_unit, fut[F_MAX_NOTIONAL] / price)
    floored: float = (units // cfg[C_LOT]) * cfg[C_LOT]
    return floored


@njit(cache=True, inline="always")
def _liq(p: np.ndarray, wb: float, cash: float, fut: np.ndarray, br: Brackets) -> float:
    """Liquidation price: isolated with the position's margin, cross with the whole wallet (one position)."""
    wallet = cash if fut[F_CROSS] != 0.0 else wb
    lp: float = isolated_liquidation_price_nb(int(p[P_SIDE]), p[P_SIZE], p[P_AVG], wallet, br[0], br[1], br[2])
    return lp if lp > 0.0 else np.nan


@njit(cache=True, inline="always")
def _book(trades: np.ndarray, k: int, acc: float) -> float:
    """Put the funding received since the last close (`acc`, negative = paid) on the trade just closed."""
    row = trades[k - 1]
    row[T_FUND] = acc
    row[T_PNL] += acc
    row[T_RET] += acc / (row[T_SIZE] * row[T_EPRICE])
    return 0.0


@njit(cache=True, inline="always")
def _add(p: np.ndarray, lv: np.ndarray, r: np.ndarray, cash: float, wb: float, raw: float, i: int,
         cfg: np.ndarray, fut: np.ndarray) -> tuple[float, float]:
    """Scale in: `size_pct` of the initial size, as much as the wallet's free margin affords at this leverage."""
    side = int(p[P_SIDE])
    price = raw * (1.0 + side * cfg[C_SLIP])
    lot, lev = cfg[C_LOT], fut[F_LEV]
    equity = cash + side * p[P_SIZE] * (price - p[P_AVG])
    used = p[P_SIZE] * p[P_AVG] / lev
    room = min((equity - used) * lev, fut[F_MAX_NOTIONAL] - p[P_SIZE] * price) / price
    units = min(((p[P_INIT] * r[R_ADD_FRAC]) // lot) * lot, (max(room, 0.0) // lot) * lot)
    if units <= 0.0:
        return cash, wb
    size = p[P_SIZE] + units
    p[P_AVG] = (p[P_AVG] * p[P_SIZE] + price * units) / size
    p[P_SIZE] = size
    p[P_PEAK_SIZE] = max(p[P_PEAK_SIZE], size)
    p[P_ADDS] += 1.0
    p[P_LAST_ADD] = i
    _remeasure(p, lv, r)
    return cash - units * price * cfg[C_COMM], wb + units * price / lev


@njit(cache=True, inline="always")
def _fills(trades: np.ndarray, k: int, cash: float, wb: float, acc: float, p: np.ndarray, lv: np.ndarray,
           r: np.ndarray, i: int, raw: float, orders: tuple[bool, int, bool], s: int, cfg: np.ndarray,
           fut: np.ndarray, atr: np.ndarray) -> tuple[int, float, float, float]:
    """Market fills at `raw` on bar i for orders (close, open side, add) decided on bar s."""
    close_now, open_side, add = orders
    if close_now and p[P_SIDE] != 0.0:
        k, change = _close(trades, k, p, i, p[P_SIZE], raw * (1.0 - p[P_SIDE] * cfg[C_SLIP]), SIGNAL, cfg)
        cash, wb, acc = cash + change, 0.0, _book(trades, k, acc)
    if open_side != 0:
        units = _units(cash, raw, open_side, cfg, fut)
        if units > 0.0:
            price = raw * (1.0 + open_side * cfg[C_SLIP])
            _open(p, lv, r, open_side, units, price, i, s, atr[0], atr[1], atr[2:])
            cash -= units * price * cfg[C_COMM]
            wb = units * price / fut[F_LEV]
    elif add and p[P_SIDE] != 0.0:
        cash, wb = _add(p, lv, r, cash, wb, raw, i, cfg, fut)
    return k, cash, wb, acc


@njit(cache=True, inline="always")
def _liquidate(trades: np.ndarray, k: int, p: np.ndarray, i: int, price: float, lost: float,
               cfg: np.ndarray) -> int:
    """Close the whole position at `price` (reason liquidation): the trade loses `lost` (its margin, the wallet
    under cross) plus its entry commission; no exit fee (Binance keeps the rest as its clearance fee)."""
    _record(trades, k, int(p[P_SIDE]), p[P_SIZE], int(p[P_EBAR]), i, p[P_AVG], price, 0.0, LIQUIDATION)
    entry_comm = p[P_SIZE] * p[P_AVG] * cfg[C_COMM]
    trades[k, T_COMM] = entry_comm
    trades[k, T_PNL] = -lost - entry_comm
    trades[k, T_RET] = trades[k, T_PNL] / (p[P_SIZE] * p[P_AVG])
    p[P_SIDE], p[P_SIZE] = 0.0, 0.0
    return k + 1


@njit(cache=True)
def simulate_futures(o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, sig: Signals5, start: int,
                     reverse: bool, cfg: np.ndarray, r: np.ndarray, levels: np.ndarray, atr: np.ndarray,
                     cash: float, on_close: bool, finalize: bool, pr: PosRules, fut: np.ndarray, br: Brackets,
                     fund: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`simulate_v2` on a futures account. `fut`: see F_*; `br`: bracket caps, ratios, cums; `fund`: per bar,
    Σ mark × rate of the funding settling at its open. Returns (equity, trades with a funding column, [side,
    size, average price, entry bar, total funding received (negative = paid)])."""
    stack = np.zeros(pr[0].shape[1] + 1, dtype=np.bool_)
    programs = (False, pr[1][1] > 0, False, pr[1][3] > 0)
    scaling, max_adds, min_gap = r[R_MAX_ADDS] > 0, r[R_MAX_ADDS], r[R_MIN_GAP]
    n = len(c)
    equity = np.full(n, cash)
    trades = np.empty((4 * n + 1, N_COLS + 1))  # every row written gets its funding column from _book
    p, lv = np.zeros(P_LEN), levels.copy()
    k, wb, acc, total, lp = 0, 0.0, 0.0, 0.0, np.nan
    pend_close, pend_open, pend_add = False, 0, False
    side, held, avg, stop_lvl, target = 0.0, 0.0, 0.0, 0.0, np.inf
    for i in range(start, n):
        if side != 0.0 and fund[i] != 0.0:  # funding settles before the open's fills
            pay = held * fund[i]
            cash, wb, acc, total = cash - pay, wb - pay, acc - pay, total - pay
            lp = _liq(p, wb, cash, fut, br)
        if pend_close or pend_open != 0 or pend_add:
            k, cash, wb, acc = _fills(trades, k, cash, wb, acc, p, lv, r, i, o[i], (pend_close, pend_open, pend_add),
                                      i - 1, cfg, fut, atr)
            side, held, avg, stop_lvl, target = _state(p, lv)
            lp = _liq(p, wb, cash, fut, br) if side != 0.0 else np.nan
        if side != 0.0:
            code, px = 0, 0.0
            if lo[i] <= lp if side > 0 else h[i] >= lp:  # NaN (no liquidation price) compares false
                has_stop = stop_lvl > 0.0 if side > 0 else stop_lvl < np.inf
                code, px = first_exit_nb(int(side), o[i], h[i], lo[i], stop_lvl if has_stop else np.nan, lp, np.nan)
            if code == PATH_LIQ:
                lost = cash if fut[F_CROSS] != 0.0 else wb
                k = _liquidate(trades, k, p, i, px, lost, cfg)
                cash, wb, acc = cash - lost, 0.0, _book(trades, k, acc)
                side, held, avg, stop_lvl, target = _state(p, lv)
            elif (lo[i] <= stop_lvl or h[i] >= target) if side > 0 else (h[i] >= stop_lvl or lo[i] <= target):
                before, k0 = p[P_SIZE], k
                k, cash = _exits(trades, k, cash, p, lv, i, o[i], h[i], lo[i], cfg)
                if k > k0:
                    trades[k0:k - 1, T_FUND] = 0.0  # earlier take-profit parts of this bar
                    wb, acc = wb * p[P_SIZE] / before, _book(trades, k, acc)
                side, held, avg, stop_lvl, target = _state(p, lv)
                lp = _liq(p, wb, cash, fut, br) if side != 0.0 else np.nan
            if side != 0.0 and r[R_TR_KIND] != NONE:
                _trail(p, r, i, h[i], lo[i], c[i], atr[1])
                stop_lvl = _state(p, lv)[3]
        equity[i] = cash + (c[i] * held - held * avg) if side != 0.0 else cash
        if equity[i] <= 0.0:
            if side != 0.0:
                _record(trades, k, int(side), p[P_SIZE], int(p[P_EBAR]), i, avg, c[i], cfg[C_COMM], END)
                k += 1
                acc = _book(trades, k, acc)
            equity[i:] = 0.0
            return equity, trades[:k].copy(), np.array([0.0, 0.0, 0.0, 0.0, total])
        if i >= n - 1:
            break
        xl = _rule(sig, 1, i, p, c[i], pr, stack) if programs[1] else sig[1][i]
        xs = _rule(sig, 3, i, p, c[i], pr, stack) if programs[3] else sig[3][i]
        pend_close, pend_open = _decide(int(side), sig[0][i], xl, sig[2][i], xs, reverse)
        pend_add = (scaling and side != 0.0 and not pend_close and pend_open == 0 and p[P_ADDS] < max_adds
                    and i - p[P_LAST_ADD] >= min_gap and _rule(sig, 4, i, p, c[i], pr, stack))
        if on_close and (pend_close or pend_open != 0 or pend_add):
            k, cash, wb, acc = _fills(trades, k, cash, wb, acc, p, lv, r, i, c[i], (pend_close, pend_open, pend_add),
                                      i, cfg, fut, atr)
            side, held, avg, stop_lvl, target = _state(p, lv)
            lp = _liq(p, wb, cash, fut, br) if side != 0.0 else np.nan
            pend_close, pend_open, pend_add = False, 0, False
    if finalize and p[P_SIDE] != 0.0:
        k, change = _close(trades, k, p, n - 1, p[P_SIZE], c[n - 1] * (1.0 - p[P_SIDE] * cfg[C_SLIP]), END, cfg)
        cash, acc = cash + change, _book(trades, k, acc)
        equity[n - 1] = cash
    return equity, trades[:k].copy(), np.array([p[P_SIDE], p[P_SIZE], p[P_AVG], p[P_EBAR], total])
