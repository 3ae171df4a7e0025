"""Arithmetic operands in the Builder: the first term, then the operation and the second term, nested as needed."""

from __future__ import annotations

from typing import Any

from PyQt6 import QtWidgets

from presentation.builder.operand import TIGHT, Ctx, operand_editor, wrap_button
from presentation.builder.words import ARITH_SIGNS, operand_words

OP_HELP = {"add": "plus", "sub": "minus", "mul": "times", "div": "divided by (a zero divisor gives no value, "
                                                                  "which compares false)"}


class ArithEditor(QtWidgets.QFrame):
    """`first op second`: the first term on one line, the operation and the second term indented under it, so a
    nested expression reads top to bottom; ✕ keeps only the first term."""

    def __init__(self, value: dict[str, Any], path: Any, ctx: Ctx, depth: int = 1) -> None:
        super().__init__()
        self.setObjectName("arithmetic")
        self.setStyleSheet("#arithmetic { border-left: 2px solid #5c6bc0; }")
        self.path, self.ctx = path, ctx
        self.kind = next(k for k in ARITH_SIGNS if k in value)
        args = value[self.kind] if isinstance(value[self.kind], list) else []
        first_value, second_value = (args + [{}, {}])[:2]
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(6, 0, 0, 0)
        lay.setSpacing(2)
        self.first = operand_editor(first_value, path + (self.kind, 0), ctx, depth + 1)
        top = QtWidgets.QHBoxLayout()  # the first term, then what acts on the whole: more arithmetic, or remove it
        top.addWidget(self.first)
        top.addStretch(1)
        lay.addLayout(top)
        line = QtWidgets.QHBoxLayout()
        line.setSpacing(4)
        self.op = QtWidgets.QComboBox()
        for key, sign in ARITH_SIGNS.items():
            self.op.addItem(sign, key)
            self.op.setItemData(self.op.count() - 1, OP_HELP[key], 3)  # ToolTipRole
        self.op.setCurrentIndex(self.op.findData(self.kind))
        self.op.setToolTip(f"{operand_words(value)}  — change the operation here")
        self.op.activated.connect(lambda _: self._switch())
        self.op.setAccessibleName("operation")
        line.addWidget(self.op)
        self.second = operand_editor(second_value, path + (self.kind, 1), ctx, depth + 1)
        line.addWidget(self.second)
        line.addStretch(1)
        self.wrap = wrap_button(value, path, ctx, depth)
        self.wrap.setText("(±×÷)")  # acts on the whole expression, not on its first term
        self.wrap.setToolTip(f"Do arithmetic on the whole of {operand_words(value)}")
        top.addWidget(self.wrap)
        self.unwrap = QtWidgets.QToolButton()
        self.unwrap.setText("✕")
        self.unwrap.setAutoRaise(True)
        self.unwrap.setStyleSheet(TIGHT)
        self.unwrap.setToolTip(f"Remove “{ARITH_SIGNS[self.kind]} {operand_words(second_value)}”: keep only "
                               f"{operand_words(first_value)}")
        self.unwrap.clicked.connect(lambda: ctx.edit(path, ctx.current(path + (self.kind, 0)), True))
        top.addWidget(self.unwrap)
        lay.addLayout(line)
        self.notes: list[QtWidgets.QLabel] = [*getattr(self.first, "notes", []), *getattr(self.second, "notes", [])]
        ctx.register(path, self)

    def _switch(self) -> None:
        new = str(self.op.currentData())
        if new != self.kind:
            self.ctx.edit(self.path, {new: self.ctx.current(self.path + (self.kind,))}, True)
