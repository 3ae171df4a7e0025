"""Driving the Builder as a user does: choosing from its pickers and typing numbers into its boxes."""

from __future__ import annotations

from typing import Any

from PyQt6 import QtCore, QtWidgets
from pytestqt.qtbot import QtBot

from presentation.builder.conditions import ConditionRow, GroupEditor
from presentation.builder.tab import BuilderTab


def choose(qtbot: QtBot, combo: QtWidgets.QComboBox, data: object) -> None:
    """Pick the entry holding `data`, the way a click in the open list does (index change, then activated)."""
    i = combo.findData(data)
    assert i >= 0, f"{data!r} is not offered"
    qtbot.mouseClick(combo, QtCore.Qt.MouseButton.LeftButton)  # opens the popup
    combo.hidePopup()
    combo.setCurrentIndex(i)
    combo.activated.emit(i)


def type_number(qtbot: QtBot, box: QtWidgets.QAbstractSpinBox, text: str) -> None:
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box, text)
    qtbot.keyClick(box, QtCore.Qt.Key.Key_Tab)


def row(tab: BuilderTab, path: str) -> ConditionRow:
    widget = tab.fields[path]
    assert isinstance(widget, ConditionRow), path
    return widget


def group(tab: BuilderTab, path: str) -> GroupEditor:
    widget = tab.fields[path]
    assert isinstance(widget, GroupEditor), path
    return widget


def set_condition(qtbot: QtBot, tab: BuilderTab, path: str, left: tuple[str, str], op: str,
                  right: tuple[str, str]) -> None:
    """Make the row at `path` read `left op right`; each side is (indicator, period typed) or ("const", value)."""
    for side, (name, number) in (("left", left), ("right", right)):
        editor = getattr(row(tab, path), side)
        choose(qtbot, editor.picker, "__const__" if name == "const" else name)
        editor = getattr(row(tab, path), side)  # picking rebuilt the row
        if number:  # price fields take no parameter
            box: Any = editor.const if name == "const" else editor.params["period"]
            type_number(qtbot, box, number)
    choose(qtbot, row(tab, path).op, op)


def build_sma_cross(qtbot: QtBot, tab: BuilderTab, name: str = "SMA 10/20 cross") -> None:
    """The DESIGN example, clicked together from a new draft."""
    tab.new_draft()
    tab.name.setFocus()
    tab.name.selectAll()
    qtbot.keyClicks(tab.name, name)
    choose(qtbot, tab.direction, "long_short")
    set_condition(qtbot, tab, "entry_long.all[0]", ("sma", "10"), "crosses_above", ("sma", "20"))
    set_condition(qtbot, tab, "entry_short.all[0]", ("sma", "10"), "crosses_below", ("sma", "20"))


def set_distance(qtbot: QtBot, tab: BuilderTab, path: str, kind: str, *numbers: str) -> None:
    """Make the stop, target or trail at `path` a percentage (one number) or an ATR distance (mult, period)."""
    if tab.fields[path].currentData() != kind:
        choose(qtbot, tab.fields[path], kind)
    boxes = [f"{path}.pct"] if kind == "pct" else [f"{path}.atr.mult", f"{path}.atr.period"]
    for box, number in zip(boxes, numbers, strict=False):
        type_number(qtbot, tab.fields[box], number)
