"""Number boxes that say why a typed value is not taken (empty, out of range) instead of silently reverting."""

from __future__ import annotations

from PyQt6 import QtGui, QtWidgets

Box = QtWidgets.QSpinBox | QtWidgets.QDoubleSpinBox


def limits(box: Box) -> str:
    return f"{box.minimum():g} to {box.maximum():g}" if box.maximum() < 1e9 else f"at least {box.minimum():g}"


def why_not(box: Box, what: str) -> str:
    """Why the text typed into `box` is not a value it takes; "" when it is."""
    line = box.lineEdit()
    text, typed = (line.text() if line is not None else ""), box.cleanText().strip()
    if not typed:
        return f"{what} is empty: type a number ({limits(box)}); leaving the box keeps {box.value():g}."
    state, _, _ = box.validate(text, 0)
    if state == QtGui.QValidator.State.Acceptable:
        return ""
    return f"{what} must be {limits(box)}: {typed} is not allowed; leaving the box keeps {box.value():g}."


def explain_limits(box: Box, what: str) -> QtWidgets.QLabel:
    """A hidden red note for `box` that says why while the typed text is not a value it takes (and after the
    box went back to its last value), and hides once the text is valid again. Put it beside the box."""
    note = QtWidgets.QLabel("")
    note.setObjectName("numberNote")
    note.setStyleSheet("color: #ef5350;")
    note.setWordWrap(True)
    note.hide()
    line = box.lineEdit()
    if line is None:
        return note

    def check(_: str) -> None:
        reason = why_not(box, what)
        note.setText(reason)
        note.setVisible(bool(reason))

    line.textEdited.connect(check)
    return note


def fit_decimals(box: QtWidgets.QDoubleSpinBox, value: float, least: int = 2, most: int = 10) -> None:
    """Show `value` exactly: as many decimals as it needs (at least `least`), so a loaded 0.125 is not shown, and
    then saved, as 0.13."""
    decimals = least
    while decimals < most and round(value, decimals) != value:
        decimals += 1
    box.setDecimals(decimals)
