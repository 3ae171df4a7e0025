"""Condition rows and (nested) ALL/ANY groups of the builder; structural edits rebuild from the draft."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable
from typing import Any

from PyQt6 import QtCore, QtWidgets

from domain.strategy import OPERATORS
from presentation.builder.draft import (
    OPERATOR_HELP,
    OPERATOR_LABELS,
    Path,
    default_op,
    group_kind,
    new_condition,
    new_group,
    scale_condition,
)
from presentation.builder.operand import TIGHT, Ctx, Note, operand_editor
from presentation.builder.words import operand_words

__all__ = ["ConditionRow", "GroupEditor", "Note", "message_label", "small_button"]
GROUP_LABELS = {"all": "ALL of", "any": "ANY of"}
GROUP_HELP = "ALL: every condition must hold (AND).  ANY: at least one must hold (OR)."


def small_button(text: str, tip: str, slot: Callable[[], None]) -> QtWidgets.QToolButton:
    b = QtWidgets.QToolButton()
    b.setText(text)
    b.setToolTip(tip)
    b.setAutoRaise(True)
    b.clicked.connect(slot)
    return b


def message_label() -> QtWidgets.QLabel:
    label = QtWidgets.QLabel("")
    label.setObjectName("validationMessage")
    label.setStyleSheet("color: #ef5350;")
    label.setWordWrap(True)
    label.hide()
    return label


class ConditionRow(QtWidgets.QFrame):
    """left operand · operator · right operand, with move up/down and remove."""

    def __init__(self, cond: dict[str, Any], path: Path, siblings: list[Any], ctx: Ctx) -> None:
        super().__init__()
        self.setObjectName("conditionRow")
        self.path, self.edit = path, ctx.edit
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(4, 2, 4, 2)
        outer.setSpacing(2)
        first, second = QtWidgets.QHBoxLayout(), QtWidgets.QHBoxLayout()
        first.setSpacing(6)
        second.setSpacing(6)
        self.left = operand_editor(cond.get("left") or {}, path + ("left",), ctx)
        self.op = QtWidgets.QComboBox()
        for i, op in enumerate(OPERATORS):
            self.op.addItem(OPERATOR_LABELS[op], op)
            self.op.setItemData(i, OPERATOR_HELP[op], 3)  # ToolTipRole
        self.op.setCurrentIndex(max(0, self.op.findData(cond.get("op"))))
        self.op.setToolTip(OPERATOR_HELP.get(str(cond.get("op")), ""))
        self.op.activated.connect(lambda _: self.edit(self.path + ("op",), self.op.currentData(), False))
        ctx.register(path + ("op",), self.op)
        self.right = operand_editor(cond.get("right") or {}, path + ("right",), ctx)
        first.addWidget(self.left)
        first.addWidget(self.op, 0, QtCore.Qt.AlignmentFlag.AlignTop)
        first.addStretch(1)
        parent, index = path[:-1], int(path[-1])
        for text, tip, slot, ok in (
                ("↑", "Move up", lambda: self._swap(parent, index, index - 1, siblings), index > 0),
                ("↓", "Move down", lambda: self._swap(parent, index, index + 1, siblings), index < len(siblings) - 1),
                ("✕", "Remove this condition", lambda: self._remove(parent, index, siblings), True)):
            b = small_button(text, tip, slot)
            b.setStyleSheet(TIGHT)
            b.setEnabled(ok)
            first.addWidget(b)
        second.addSpacing(18)  # the right side reads as the continuation of the left side and operator
        second.addWidget(self.right)
        second.addStretch(1)
        outer.addLayout(first)
        outer.addLayout(second)
        self.ctx = ctx
        self.words = QtWidgets.QLabel(condition_words(cond))
        self.words.setObjectName("hint")
        self.words.setWordWrap(True)
        self.words.setToolTip("The condition in plain words")
        outer.addWidget(self.words)
        for number_note in [*getattr(self.left, "notes", []), *getattr(self.right, "notes", [])]:
            outer.addWidget(number_note)
        self.message = message_label()
        outer.addWidget(self.message)
        ctx.register(path, self)
        ctx.note(path, self.message)

    def refresh_words(self) -> None:
        """The plain-words line after an edit that kept the row (a number typed, a timeframe picked)."""
        with contextlib.suppress(KeyError, IndexError, TypeError):  # the row's place is gone: a rebuild follows
            self.words.setText(condition_words(self.ctx.current(self.path)))

    def _swap(self, parent: Path, i: int, j: int, siblings: list[Any]) -> None:
        items = copy.deepcopy(siblings)
        items[i], items[j] = items[j], items[i]
        self.edit(parent, items, True)

    def _remove(self, parent: Path, i: int, siblings: list[Any]) -> None:
        self.edit(parent, [x for k, x in enumerate(siblings) if k != i], True)


class GroupEditor(QtWidgets.QFrame):
    """A group's kind (ALL/ANY), its rows and sub-groups, and buttons to add either."""

    def __init__(self, group: dict[str, Any], path: Path, ctx: Ctx, remove: Callable[[], None] | None = None,
                 depth: int = 0) -> None:
        super().__init__()
        self.setObjectName("conditionGroup")
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel if depth else QtWidgets.QFrame.Shape.NoFrame)
        self.path, self.edit = path, ctx.edit
        kind = group_kind(group)
        items: list[Any] = group.get(kind) or []
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(10 if depth else 0, 4, 4, 4)
        lay.setSpacing(2)
        head = QtWidgets.QHBoxLayout()
        self.kind = QtWidgets.QComboBox()
        for k, text in GROUP_LABELS.items():
            self.kind.addItem(text, k)
        self.kind.setCurrentIndex(self.kind.findData(kind))
        self.kind.setToolTip(GROUP_HELP)
        self.kind.activated.connect(lambda _: self._switch(group, kind))
        head.addWidget(self.kind)
        head.addWidget(QtWidgets.QLabel("these conditions"))
        head.addStretch(1)
        self.add_condition = small_button("+ Condition", "Add a condition row", lambda: self._add(items, kind, False))
        self.add_group = small_button("+ Group", "Add a nested ALL/ANY group", lambda: self._add(items, kind, True))
        head.addWidget(self.add_condition)
        head.addWidget(self.add_group)
        if remove is not None:
            head.addWidget(small_button("✕", "Remove this group", remove))
        lay.addLayout(head)
        self.message = message_label()
        lay.addWidget(self.message)
        self.rows: list[QtWidgets.QWidget] = []
        for i, item in enumerate(items):
            sub = path + (kind, i)
            if isinstance(item, dict) and ("all" in item or "any" in item):
                w: QtWidgets.QWidget = GroupEditor(item, sub, ctx,
                                                   lambda i=i: self.edit(path + (kind,), _without(items, i), True),
                                                   depth + 1)
            else:
                w = ConditionRow(item if isinstance(item, dict) else {}, sub, items, ctx)
            self.rows.append(w)
            lay.addWidget(w)
        ctx.register(path, self)
        ctx.register(path + (kind,), self)
        ctx.note(path, self.message)

    def _switch(self, group: dict[str, Any], kind: str) -> None:
        new = str(self.kind.currentData())
        if new != kind:
            self.edit(self.path, {new: copy.deepcopy(group.get(kind) or [])}, True)

    def _add(self, items: list[Any], kind: str, nested: bool) -> None:
        op = default_op(self.path[0])
        extra = new_group("any" if kind == "all" else "all", op) if nested else new_condition(op)
        if self.path[0] == "scale_in":
            extra = {("any" if kind == "all" else "all"): [scale_condition()]} if nested else scale_condition()
        self.edit(self.path + (kind,), [*copy.deepcopy(items), extra], True)


def _without(items: list[Any], i: int) -> list[Any]:
    return [copy.deepcopy(x) for k, x in enumerate(items) if k != i]


def condition_words(cond: dict[str, Any]) -> str:
    """"close crosses above EMA(50) on 1h − 2 × ATR(14)": the row as a sentence."""
    op = OPERATOR_LABELS.get(str(cond.get("op")), str(cond.get("op")))
    return f"{operand_words(cond.get('left'))} {op} {operand_words(cond.get('right'))}"
