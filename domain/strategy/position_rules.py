"""Rules that read the open position, compiled for the engine's loop: precomputed masks plus a postfix program.

`position_return_pct` (from the average entry, NaN when flat) and `bars_in_position` (0 on the entry bar) exist
only inside the simulation. Each rule that reads them becomes a small program the loop runs on a close: MASK m
pushes a precomputed condition (the parts that do not read the position), POS l compares a position value with
leaf l's other side, AND/OR k combine the top k values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from domain.strategy.model import POSITION_VARS, Condition, Group, Operand, Position, leaves

MASK, POS, AND, OR = 0, 1, 2, 3
OPS = {"gt": 0, "lt": 1, "ge": 2, "le": 3}
FLIP = {"gt": "lt", "lt": "gt", "ge": "le", "le": "ge"}
RULES = 5  # entry/exit long, entry/exit short, scale-in

BoolArray = npt.NDArray[np.bool_]
F64 = npt.NDArray[np.float64]
MaskFn = Callable[[Condition], BoolArray]
ValuesFn = Callable[[Operand], "F64 | float"]


@dataclass(frozen=True, slots=True, eq=False)
class PositionRules:
    """Programs for the five rule slots (`length[r] == 0`: the slot uses its plain signal array)."""

    program: npt.NDArray[np.int64]  # (RULES, longest, 2): opcode, argument
    length: npt.NDArray[np.int64]  # (RULES,)
    masks: BoolArray  # (masks, n)
    leaf_var: npt.NDArray[np.int64]  # index into POSITION_VARS
    leaf_op: npt.NDArray[np.int64]  # OPS code, the position value on the left
    rhs: F64  # (leaves, n): the other side's values; (leaves, 1) when every one is a constant

    @classmethod
    def none(cls, n: int) -> PositionRules:
        """No rule reads the position."""
        return cls(np.zeros((RULES, 1, 2), np.int64), np.zeros(RULES, np.int64), np.zeros((1, n), np.bool_),
                   np.zeros(1, np.int64), np.zeros(1, np.int64), np.zeros((1, 1)))


def reads_position(item: Condition | Group | None) -> bool:
    if item is None:
        return False
    if isinstance(item, Group):
        return any(reads_position(i) for i in item.items)
    return any(isinstance(leaf, Position) for o in (item.left, item.right) for leaf in leaves(o))


def compile_position_rules(rules: list[Group | None], n: int, mask: MaskFn, values: ValuesFn) -> PositionRules:
    """Programs for the rules that read the position (`rules` in slot order), masks computed by `mask`."""
    masks: list[BoolArray] = []
    leaf_var: list[int] = []
    leaf_op: list[int] = []
    rhs: list[F64 | float] = []
    programs: list[list[tuple[int, int]]] = []

    def emit(item: Condition | Group, out: list[tuple[int, int]]) -> None:
        if isinstance(item, Group):
            for child in item.items:
                emit(child, out)
            out.append((AND if item.kind == "all" else OR, len(item.items)))
        elif reads_position(item):
            pos, other, op = ((item.left, item.right, item.op) if isinstance(item.left, Position)
                              else (item.right, item.left, FLIP[item.op]))
            assert isinstance(pos, Position)
            leaf_var.append(POSITION_VARS.index(pos.var))
            leaf_op.append(OPS[op])
            rhs.append(values(other))
            out.append((POS, len(leaf_var) - 1))
        else:
            masks.append(mask(item))
            out.append((MASK, len(masks) - 1))

    for rule in rules:
        prog: list[tuple[int, int]] = []
        if rule is not None and reads_position(rule):
            emit(rule, prog)
        programs.append(prog)
    if not any(programs):
        return PositionRules.none(n)
    longest = max(len(p) for p in programs)
    program = np.zeros((RULES, longest, 2), np.int64)
    for r, prog in enumerate(programs):
        if prog:
            program[r, : len(prog)] = prog
    return PositionRules(program, np.array([len(p) for p in programs], np.int64), _rows(masks, n, np.bool_),
                         np.array(leaf_var or [0], np.int64), np.array(leaf_op or [0], np.int64),
                         _rows(rhs, n if any(np.ndim(v) for v in rhs) else 1, np.float64))


def _rows(values: list[BoolArray] | list[F64 | float], n: int, dtype: type) -> npt.NDArray[Any]:
    """One row of n per value (a constant fills its row), written once; a zero row when there is none."""
    if not values:
        return np.zeros((1, n), dtype)
    out: npt.NDArray[Any] = np.empty((len(values), n), dtype)
    for row, value in zip(out, values, strict=True):
        row[:] = value
    return out
