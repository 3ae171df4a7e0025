"""Operand editing: an indicator picker grouped by category, then the indicator's parameters and output field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PyQt6 import QtCore, QtGui, QtWidgets

from domain.indicators import CATALOG, CATEGORIES
from presentation.builder.draft import Path, var_operand
from presentation.builder.numbers import explain_limits

NUMBER = "__const__"
_ROLE = QtCore.Qt.ItemDataRole
Edit = Callable[[Path, Any, bool], None]  # (path, value, structural)
Register = Callable[[Path, QtWidgets.QWidget], None]


class IndicatorPicker(QtWidgets.QComboBox):
    """Catalog entries under a bold, unselectable heading per category; "Number" first (a constant)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        model = QtGui.QStandardItemModel(self)
        number = QtGui.QStandardItem("Number")
        number.setData(NUMBER, _ROLE.UserRole)
        number.setToolTip("A fixed value, e.g. 30 for 'RSI < 30' or 0 for 'MACD histogram > 0'.")
        model.appendRow(number)
        by_cat: dict[str, list[Any]] = {}
        for ind in CATALOG.values():
            by_cat.setdefault(ind.category, []).append(ind)
        for cat in CATEGORIES:
            heading = QtGui.QStandardItem(cat.capitalize())
            heading.setFlags(QtCore.Qt.ItemFlag.NoItemFlags)
            font = heading.font()
            font.setBold(True)
            heading.setFont(font)
            model.appendRow(heading)
            for ind in by_cat.get(cat, []):
                item = QtGui.QStandardItem(f"   {short_label(ind)}")
                item.setData(ind.name, _ROLE.UserRole)
                item.setToolTip(f"<b>{ind.label}</b><br>{ind.help}")
                model.appendRow(item)
        self.setModel(model)
        self.setMaxVisibleItems(30)
        self.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(8)
        self.view().setMinimumWidth(180)

    def choose(self, name: str) -> bool:
        """Select the catalog entry `name` (or NUMBER) as a user would; False if absent."""
        i = self.findData(name)
        if i >= 0:
            self.setCurrentIndex(i)
        return i >= 0

    def chosen(self) -> str:
        return str(self.currentData())


SHORT = {"bbands": "Bollinger", "donchian": "Donchian"}


def short_label(ind: Any) -> str:
    """What the picker shows: the label when short, the usual abbreviation otherwise (SMA, RSI, ATR…)."""
    return SHORT.get(ind.name) or (ind.label if len(ind.label) <= 14 else ind.name.upper())


def param_box(p: Any) -> QtWidgets.QAbstractSpinBox:
    box: QtWidgets.QSpinBox | QtWidgets.QDoubleSpinBox
    if p.kind == "int":
        box = QtWidgets.QSpinBox()
        box.setRange(int(p.min), int(min(p.max, 2**31 - 1)))
    else:
        box = QtWidgets.QDoubleSpinBox()
        box.setDecimals(2)
        box.setSingleStep(0.1)
        box.setRange(float(p.min), float(p.max))
    box.setKeyboardTracking(True)
    box.setFixedWidth(66)
    box.setToolTip(f"<b>{p.label}</b><br>{p.help}")
    box.setAccessibleName(p.name)
    return box


class OperandEditor(QtWidgets.QWidget):
    """One side of a condition, at `path` in the draft; every change goes through `edit` (undoable)."""

    def __init__(self, value: dict[str, Any], path: Path, edit: Edit, register: Register,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.path, self.edit = path, edit
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        self.picker = IndicatorPicker()
        is_const = "const" in value
        self.picker.choose(NUMBER if is_const else str(value.get("var")))
        self.picker.setToolTip(self.picker.itemData(self.picker.currentIndex(), _ROLE.ToolTipRole) or "")
        self.picker.activated.connect(self._on_pick)
        lay.addWidget(self.picker)
        register(path + ("var",), self.picker)
        self.params: dict[str, QtWidgets.QAbstractSpinBox] = {}
        self.field: QtWidgets.QComboBox | None = None
        self.const: QtWidgets.QDoubleSpinBox | None = None
        self.notes: list[QtWidgets.QLabel] = []  # why a typed number is not taken; the row shows them
        if is_const:
            self._const_box(value, lay, register)
        elif value.get("var") in CATALOG:
            self._var_boxes(value, lay, register)
        register(path, self)

    def _const_box(self, value: dict[str, Any], lay: QtWidgets.QHBoxLayout, register: Register) -> None:
        box = QtWidgets.QDoubleSpinBox()
        box.setRange(-1e12, 1e12)
        box.setDecimals(4)
        box.setValue(float(value.get("const") or 0))
        box.setToolTip("The number to compare with (in the other side's unit: a price, 0..100 for RSI, …)")
        box.valueChanged.connect(lambda v: self.edit(self.path + ("const",), _num(v), False))
        self.const = box
        self.notes.append(explain_limits(box, "The number"))
        lay.addWidget(box)
        register(self.path + ("const",), box)

    def _var_boxes(self, value: dict[str, Any], lay: QtWidgets.QHBoxLayout, register: Register) -> None:
        ind = CATALOG[value["var"]]
        given = value.get("params") or {}
        for p in ind.params:
            box = param_box(p)
            box.setValue(given.get(p.name, p.default))  # type: ignore[attr-defined]
            box.valueChanged.connect(  # type: ignore[attr-defined]
                lambda v, n=p.name: self.edit(self.path + ("params", n), _num(v), False))
            label = QtWidgets.QLabel(p.name.replace("_", " "))
            label.setObjectName("hint")
            label.setToolTip(p.help)
            lay.addWidget(label)
            lay.addWidget(box)
            self.params[p.name] = box
            self.notes.append(explain_limits(box, f"{short_label(ind)} {p.name.replace('_', ' ')}"))
            register(self.path + ("params", p.name), box)
        if len(ind.outputs) > 1:
            combo = QtWidgets.QComboBox()
            for out in ind.outputs:
                combo.addItem(out, out)
                combo.setItemData(combo.count() - 1, f"{ind.label}: the {out} output "
                                  f"({ind.unit_of(out).replace('_', ' ')})", _ROLE.ToolTipRole)
            combo.setCurrentIndex(max(0, combo.findData(value.get("field") or ind.outputs[0])))
            combo.setToolTip("Which output of the indicator to compare")
            combo.activated.connect(lambda _: self.edit(self.path + ("field",), combo.currentData(), False))
            self.field = combo
            lay.addWidget(combo)
            register(self.path + ("field",), combo)

    def _on_pick(self) -> None:
        name = self.picker.chosen()
        value: dict[str, Any] = {"const": 0} if name == NUMBER else var_operand(name)
        self.edit(self.path, value, True)


def _num(v: float) -> float | int:
    return int(v) if float(v).is_integer() else float(v)
