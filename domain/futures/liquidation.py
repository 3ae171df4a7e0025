"""Liquidation prices (Binance's published one-way formulas) and the cross-margin liquidation condition."""

from __future__ import annotations

import numpy as np

from domain.futures.brackets import BracketTable
from domain.jit import njit

# Isolated, one-way mode, one position of size Q > 0 entered at EP, isolated wallet balance WB (its margin
# after funding paid or received), bracket ratio MMR and maintenance amount cum:
#
#     long  LP = (Q·EP − WB − cum) / (Q·(1 − MMR))
#     short LP = (Q·EP + WB + cum) / (Q·(1 + MMR))
#
# Both solve "margin balance = maintenance margin at the liquidation price": WB + side·Q·(LP − EP) =
# Q·LP·MMR − cum. The bracket is the one holding the notional at the liquidation price, Q·LP (the notional
# Binance checks when the mark price gets there); the maintenance margin is continuous across brackets, so
# exactly one bracket's LP lands inside its own band. A long LP ≤ 0 means the position cannot be liquidated
# (returned as 0.0).
#
# Cross margin: the account is liquidated when its equity (wallet balance + unrealised PnL of every position)
# falls to the total maintenance margin, Σ (|notional_i|·MMR_i − cum_i) at mark prices. For one position this
# is the isolated formula with WB = the whole cross wallet balance (less other positions' maintenance margin,
# plus their unrealised PnL).

LONG = 1
SHORT = -1


@njit(cache=True)
def liquidation_price_nb(side: int, qty: float, entry: float, wallet: float, mmr: float, cum: float) -> float:
    """One bracket's formula; a long LP ≤ 0 (cannot be liquidated) is returned as 0.0."""
    if side > 0:
        return max((qty * entry - wallet - cum) / (qty * (1.0 - mmr)), 0.0)
    return (qty * entry + wallet + cum) / (qty * (1.0 + mmr))


@njit(cache=True)
def isolated_liquidation_price_nb(side: int, qty: float, entry: float, wallet: float, caps: np.ndarray,
                                  mmrs: np.ndarray, cums: np.ndarray) -> float:
    """The LP whose notional Q·LP lies in the bracket it was computed with (see the note at the top of this module)."""
    floor = 0.0
    for b in range(len(caps)):
        lp = liquidation_price_nb(side, qty, entry, wallet, mmrs[b], cums[b])
        notional = qty * lp
        if notional <= caps[b] and (notional > floor or b == 0):
            return lp
        floor = caps[b]
    last = len(caps) - 1
    return liquidation_price_nb(side, qty, entry, wallet, mmrs[last], cums[last])


@njit(cache=True)
def maintenance_margin_nb(notional: float, caps: np.ndarray, mmrs: np.ndarray, cums: np.ndarray) -> float:
    """|notional|·MMR − cum of the bracket holding |notional| (the last bracket above every cap)."""
    n = abs(notional)
    for b in range(len(caps)):
        if n <= caps[b]:
            return float(n * mmrs[b] - cums[b])
    last = len(caps) - 1
    return float(n * mmrs[last] - cums[last])


def _check(side: int, qty: float, entry: float) -> None:
    if side not in (LONG, SHORT):
        raise ValueError(f"side must be 1 (long) or -1 (short), got {side}")
    if not (qty > 0 and entry > 0):
        raise ValueError(f"quantity and entry price must be > 0, got {qty} and {entry}")


def isolated_liquidation_price(side: int, qty: float, entry: float, wallet: float, table: BracketTable) -> float:
    """Liquidation price of an isolated one-way position; `wallet` is its isolated margin after funding."""
    _check(side, qty, entry)
    caps, _, mmrs, cums = table.arrays()
    return float(isolated_liquidation_price_nb(side, qty, entry, wallet, caps, mmrs, cums))


def isolated_margin_after_funding(margin: float, funding_paid: float) -> float:
    """The isolated wallet balance once funding is settled into it (`funding_paid` > 0 = paid by the position)."""
    return margin - funding_paid


def cross_liquidation_price(side: int, qty: float, entry: float, wallet: float, table: BracketTable,
                            other_maintenance: float = 0.0, other_unrealized: float = 0.0) -> float:
    """Liquidation price of one cross position: the isolated formula with the cross wallet balance, less the
    maintenance margin of the account's other positions, plus their unrealised PnL."""
    return isolated_liquidation_price(side, qty, entry, wallet - other_maintenance + other_unrealized, table)


def cross_liquidated(wallet: float, unrealized_pnl: float, maintenance_total: float) -> bool:
    """Cross margin: liquidated when equity (wallet + unrealised PnL) is at or below the total maintenance margin."""
    return wallet + unrealized_pnl <= maintenance_total
