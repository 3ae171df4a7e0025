"""Small form helpers shared by the tabs."""

from __future__ import annotations

from datetime import date

from PyQt6 import QtCore, QtWidgets

Row = tuple[str, QtWidgets.QWidget | QtWidgets.QLayout]


def group(title: str, rows: list[Row]) -> QtWidgets.QGroupBox:
    box = QtWidgets.QGroupBox(title)
    form = QtWidgets.QFormLayout(box)
    form.setLabelAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
    form.setHorizontalSpacing(12)
    form.setVerticalSpacing(4)  # the 13 rows of the Backtests form fit a 1440 x 900 screen
    for label, widget in rows:
        if label:
            form.addRow(label, widget)
        else:
            form.addRow(widget)
    return box


def date_edit(day: date) -> QtWidgets.QDateTimeEdit:
    """A UTC date-time picker starting at midnight of `day`."""
    edit = QtWidgets.QDateTimeEdit()
    edit.setTimeZone(QtCore.QTimeZone.utc())
    edit.setDateTime(QtCore.QDateTime(QtCore.QDate(day.year, day.month, day.day), QtCore.QTime(0, 0),
                                      QtCore.QTimeZone.utc()))
    edit.setDisplayFormat("yyyy-MM-dd HH:mm")
    edit.setCalendarPopup(True)
    return edit


def ms_of(edit: QtWidgets.QDateTimeEdit) -> int:
    return int(edit.dateTime().toMSecsSinceEpoch())


def primary(button: QtWidgets.QPushButton) -> QtWidgets.QPushButton:
    button.setProperty("primary", True)
    return button


def hbox(*widgets: QtWidgets.QWidget) -> QtWidgets.QWidget:
    """Widgets side by side, no margins."""
    box = QtWidgets.QWidget()
    lay = QtWidgets.QHBoxLayout(box)
    lay.setContentsMargins(0, 0, 0, 0)
    for w in widgets:
        lay.addWidget(w)
    return box


def column(*widgets: QtWidgets.QWidget, spacing: int | None = None) -> QtWidgets.QWidget:
    """Widgets stacked top to bottom, no margins (`spacing` between them: the style's when None)."""
    box = QtWidgets.QWidget()
    lay = QtWidgets.QVBoxLayout(box)
    lay.setContentsMargins(0, 0, 0, 0)
    if spacing is not None:
        lay.setSpacing(spacing)
    for w in widgets:
        lay.addWidget(w)
    return box
