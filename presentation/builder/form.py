"""Builder panels (one per side, risk) and the marking of validation issues on the fields they name."""

from __future__ import annotations

from typing import Any

from PyQt6 import QtWidgets

from domain.strategy import ValidationIssue
from presentation.builder.conditions import GroupEditor, Note, message_label, small_button
from presentation.builder.draft import RISK_FIELDS, SIDE_LABELS, default_op, new_group
from presentation.builder.numbers import explain_limits
from presentation.builder.operand import Edit, Register

INVALID_STYLE = "border: 1px solid #ef5350; border-radius: 3px;"


class SidePanel(QtWidgets.QGroupBox):
    """One side's rule: its group editor, or a button to add one (exit rules are optional)."""

    def __init__(self, side: str, group: dict[str, Any] | None, edit: Edit, register: Register, note: Note) -> None:
        super().__init__(SIDE_LABELS[side])
        self.setObjectName(f"side_{side}")
        lay = QtWidgets.QVBoxLayout(self)
        lay.setSpacing(4)
        self.message = message_label()
        self.editor: GroupEditor | None = None
        if group is None:
            row = QtWidgets.QHBoxLayout()
            hint = QtWidgets.QLabel("No rule" + ("" if side.startswith("entry") else
                                                 " — positions exit by stops, targets or an opposite entry"))
            hint.setObjectName("hint")
            row.addWidget(hint)
            row.addStretch(1)
            self.add = small_button("+ Add rule", f"Add a {SIDE_LABELS[side].lower()} rule",
                                    lambda: edit((side,), new_group(op=default_op(side)), True))
            row.addWidget(self.add)
            lay.addLayout(row)
        else:
            remove = None if side.startswith("entry") else (lambda: edit((side,), None, True))
            self.editor = GroupEditor(group, (side,), edit, register, note, remove)
            lay.addWidget(self.editor)
        lay.addWidget(self.message)
        if group is None:
            register((side,), self)
        note((side,), self.message)


class RiskPanel(QtWidgets.QGroupBox):
    """Position size and the optional stop-loss, take-profit and trailing stop (0 = off)."""

    def __init__(self, risk: dict[str, Any], edit: Edit, register: Register, note: Note) -> None:
        super().__init__("Risk")
        self.setObjectName("riskPanel")
        form = QtWidgets.QFormLayout(self)
        self.boxes: dict[str, QtWidgets.QDoubleSpinBox] = {}
        for key, label, help_ in RISK_FIELDS:
            box = QtWidgets.QDoubleSpinBox()
            box.setDecimals(2)
            box.setSuffix(" %")
            box.setRange(0.0, 100.0 if key != "take_profit_pct" else 10_000.0)
            box.setSingleStep(0.5)
            box.setMaximumWidth(160)
            if key != "position_size_pct":
                box.setSpecialValueText("Off")
            value = risk.get(key)
            box.setValue(float(value) if isinstance(value, int | float) else 0.0)
            box.setToolTip(help_)
            box.valueChanged.connect(lambda v, k=key: edit(("risk", k), _risk_value(k, v), False))
            msg = message_label()
            row = QtWidgets.QVBoxLayout()
            row.addWidget(box)
            row.addWidget(explain_limits(box, label))
            row.addWidget(msg)
            form.addRow(label, row)
            self.boxes[key] = box
            register(("risk", key), box)
            note(("risk", key), msg)
        register(("risk",), self)


def _risk_value(key: str, v: float) -> float | int | None:
    if v == 0 and key != "position_size_pct":
        return None
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
            widget.setStyleSheet("")
            widget.setToolTip(widget.property("plainTip") or widget.toolTip())
    by_label: dict[QtWidgets.QLabel, list[str]] = {}
    unplaced = []
    for issue in issues:
        widget = _owner(issue.path, fields)
        label = _owner(issue.path, notes)
        if widget is not None:
            widget.setProperty("plainTip", widget.property("plainTip") or widget.toolTip())
            widget.setProperty("invalid", True)
            framed = isinstance(widget, QtWidgets.QGroupBox | QtWidgets.QFrame) and widget.objectName()
            widget.setStyleSheet(f"#{widget.objectName()} {{ {INVALID_STYLE} }}" if framed else INVALID_STYLE)
            widget.setToolTip(issue.message)
        if label is None:
            unplaced.append(issue)
        else:
            by_label.setdefault(label, []).append(issue.message)
    for label in set(notes.values()):
        texts = by_label.get(label, [])
        label.setText("\n".join(texts))
        label.setVisible(bool(texts))
    return unplaced


__all__ = ["RiskPanel", "SidePanel", "mark"]
