"""The engine loops' side of position rules: run a slot's postfix program (`position_rules`) on one bar."""

from __future__ import annotations

import numpy as np

from domain.jit import njit

PosRules = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
Signals5 = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


@njit(cache=True, inline="always")
def _compare(v: float, x: float, op: int) -> bool:
    """`v op x` for the OPS codes of `position_rules` (gt, lt, ge, le)."""
    return bool((v > x) if op == 0 else (v < x) if op == 1 else (v >= x) if op == 2 else (v <= x))


@njit(cache=True, inline="always")
def _program(pr: PosRules, rule: int, i: int, ret: float, bars: float, stack: np.ndarray) -> bool:
    """Run slot `rule`'s postfix program (`position_rules`) on bar i with the position's return % and bars held."""
    prog, lengths, masks, leaf_var, leaf_op, rhs = pr
    length = lengths[rule]
    col = i if rhs.shape[1] > 1 else 0  # constants only: one column
    if length == 1 and prog[rule, 0, 0] == 1:  # a single position comparison: no stack
        arg = prog[rule, 0, 1]
        return _compare(ret if leaf_var[arg] == 0 else bars, rhs[arg, col], leaf_op[arg])
    sp = 0
    for t in range(length):
        code, arg = prog[rule, t, 0], prog[rule, t, 1]
        if code == 0:
            stack[sp] = masks[arg, i]
            sp += 1
        elif code == 1:
            stack[sp] = _compare(ret if leaf_var[arg] == 0 else bars, rhs[arg, col], leaf_op[arg])
            sp += 1
        else:
            acc = code == 2
            for _ in range(arg):
                sp -= 1
                acc = (acc and stack[sp]) if code == 2 else (acc or stack[sp])
            stack[sp] = acc
            sp += 1
    return bool(stack[0])
