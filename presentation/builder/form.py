"""Builder panels (one per side, scale-in) and the marking of validation issues on the fields they name."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PyQt6 import QtWidgets

from domain.strategy import ValidationIssue
from presentation.builder.conditions import GroupEditor, message_label, small_button
from presentation.builder.draft import SIDE_LABELS, default_op, new_group, new_scale_in
from presentation.builder.numbers import explain_limits, fit_decimals
from presentation.builder.operand import Ctx
from presentation.builder.risk import RiskPanel
from presentation.builder.words import message_words

INVALID_STYLE = "border: 1px solid #ef5350; border-radius: 3px;"


class SidePanel(QtWidgets.QGroupBox):
    """One side's rule: its group editor, or a button to add one (exit rules are optional)."""

    def __init__(self, side: str, group: dict[str, Any] | None, ctx: Ctx) -> None:
        super().__init__(SIDE_LABELS[side])
        self.setObjectName(f"side_{side}")
        lay = QtWidgets.QVBoxLayout(self)
        lay.setSpacing(4)
        self.message = message_label()
        self.editor: GroupEditor | None = None
        ctx = replace(ctx, position_ok=side.startswith("exit"))
        if group is None:
            row = QtWidgets.QHBoxLayout()
            hint = QtWidgets.QLabel("No rule" + ("" if side.startswith("entry") else
                                                 " — positions exit by stops, targets or an opposite entry"))
            hint.setObjectName("hint")
            row.addWidget(hint)
            row.addStretch(1)
            self.add = small_button("+ Add rule", f"Add a {SIDE_LABELS[side].lower()} rule",
                                    lambda: ctx.edit((side,), new_group(op=default_op(side)), True))
            row.addWidget(self.add)
            lay.addLayout(row)
        else:
            remove = None if side.startswith("entry") else (lambda: ctx.edit((side,), None, True))
            self.editor = GroupEditor(group, (side,), ctx, remove)
            lay.addWidget(self.editor)
        lay.addWidget(self.message)
        if group is None:
            ctx.register((side,), self)
        ctx.note((side,), self.message)


SCALE_HELP = ("On a close where these conditions hold while a position is open, add to it on the same side "
              "(filled like an entry). Stops and targets then measure from the average entry. "
              "Position return % ≥ 2 adds on strength; ≤ −3 averages down.")
SCALE_FIELDS = (("size_pct", "Add size %", "Each add is this share of the first entry's size", 0.0, 1000.0),
                ("max_adds", "Max adds", "At most this many adds per position", 1, 100),
                ("min_bars_between", "Min bars between", "Bars to wait after the entry or the last add", 0, 1_000_000))


class ScaleInPanel(QtWidgets.QGroupBox):
    """Scaling in: when to add (a condition group that may read the position), how much, how often."""

    def __init__(self, scale: dict[str, Any] | None, ctx: Ctx) -> None:
        super().__init__("Scale in")
        self.setObjectName("scaleInPanel")
        self.setToolTip(SCALE_HELP)
        ctx = replace(ctx, position_ok=True)
        lay = QtWidgets.QVBoxLayout(self)
        self.message = message_label()
        self.editor: GroupEditor | None = None
        self.boxes: dict[str, QtWidgets.QAbstractSpinBox] = {}
        if scale is None:
            row = QtWidgets.QHBoxLayout()
            hint = QtWidgets.QLabel("No scaling in — add to winners or average down, with limits")
            hint.setObjectName("hint")
            row.addWidget(hint)
            row.addStretch(1)
            self.add = small_button("+ Add scale-in", "Add to an open position when conditions hold",
                                    lambda: ctx.edit(("scale_in",), new_scale_in(), True))
            row.addWidget(self.add)
            lay.addLayout(row)
            ctx.register(("scale_in",), self)
        else:
            head = QtWidgets.QHBoxLayout()
            head.addWidget(QtWidgets.QLabel("Add to the position when"))
            head.addStretch(1)
            head.addWidget(small_button("✕", "Remove scaling in", lambda: ctx.edit(("scale_in",), None, True)))
            lay.addLayout(head)
            raw = scale.get("when")
            when: dict[str, Any] = raw if isinstance(raw, dict) else new_group()
            self.editor = GroupEditor(when, ("scale_in", "when"), ctx)
            lay.addWidget(self.editor)
            form = QtWidgets.QFormLayout()
            for key, label, tip, lo, hi in SCALE_FIELDS:
                form.addRow(label, self._number(scale, key, tip, lo, hi, ctx))
            lay.addLayout(form)
        lay.addWidget(self.message)
        ctx.note(("scale_in",), self.message)

    def _number(self, scale: dict[str, Any], key: str, tip: str, lo: float, hi: float, ctx: Ctx) -> QtWidgets.QWidget:
        box: QtWidgets.QSpinBox | QtWidgets.QDoubleSpinBox
        if isinstance(lo, int):
            box = QtWidgets.QSpinBox()
            box.setRange(int(lo), int(hi))
        else:
            box = QtWidgets.QDoubleSpinBox()
            box.setRange(lo, hi)
            box.setSuffix(" %")
        box.setKeyboardTracking(True)
        box.setMaximumWidth(110)
        raw = scale.get(key, 1 if key == "min_bars_between" else 0)
        if isinstance(box, QtWidgets.QDoubleSpinBox) and isinstance(raw, int | float):
            fit_decimals(box, float(raw))
        box.setValue(raw if isinstance(raw, int | float) else 0)  # type: ignore[arg-type]
        box.setToolTip(tip)
        box.valueChanged.connect(lambda v: ctx.edit(("scale_in", key), _num(v), False))  # type: ignore[attr-defined]
        self.boxes[key] = box
        ctx.register(("scale_in", key), box)
        cell = QtWidgets.QWidget()
        col = QtWidgets.QVBoxLayout(cell)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(box)
        col.addWidget(explain_limits(box, label_of(key)))
        message = message_label()
        col.addWidget(message)
        ctx.note(("scale_in", key), message)
        return cell


def label_of(key: str) -> str:
    return next(label for k, label, *_ in SCALE_FIELDS if k == key)


def _num(v: float) -> float | int:
    return int(v) if float(v).is_integer() else float(v)


def _owner(path: str, table: dict[str, Any]) -> Any:
    """The entry whose path is the longest prefix of `path` (on segment boundaries)."""
    best, best_len = None, -1
    for key, value in table.items():
        if (path == key or path.startswith(key + ".") or path.startswith(key + "[")) and len(key) > best_len:
            best, best_len = value, len(key)
    return best


def mark(issues: list[ValidationIssue], fields: dict[str, QtWidgets.QWidget],
         notes: dict[str, QtWidgets.QLabel]) -> list[ValidationIssue]:
    """Outline each offending field and show each message next to it; returns the issues nothing could show."""
    for widget in fields.values():
        if widget.property("invalid"):
            widget.setProperty("invalid", False)
            widget.setStyleSheet(widget.property("plainStyle") or "")
            widget.setToolTip(widget.property("plainTip") or widget.toolTip())
    by_label: dict[QtWidgets.QLabel, list[str]] = {}
    unplaced = []
    for issue in issues:
        widget = _owner(issue.path, fields)
        label = _owner(issue.path, notes)
        if widget is not None:
            if not widget.property("invalid"):
                widget.setProperty("plainTip", widget.property("plainTip") or widget.toolTip())
                widget.setProperty("plainStyle", widget.styleSheet())
            widget.setProperty("invalid", True)
            framed = isinstance(widget, QtWidgets.QGroupBox | QtWidgets.QFrame) and widget.objectName()
            widget.setStyleSheet(f"#{widget.objectName()} {{ {INVALID_STYLE} }}" if framed else INVALID_STYLE)
            widget.setToolTip(message_words(issue.message))
        if label is None:
            unplaced.append(issue)
        else:
            by_label.setdefault(label, []).append(message_words(issue.message))
    for label in set(notes.values()):
        texts = by_label.get(label, [])
        label.setText("\n".join(texts))
        label.setVisible(bool(texts))
    return unplaced


__all__ = ["RiskPanel", "ScaleInPanel", "SidePanel", "mark"]
