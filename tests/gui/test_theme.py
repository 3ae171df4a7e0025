"""Themes: every image a style sheet names exists, and a check box shows its box and tick in both themes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from PyQt6 import QtGui, QtWidgets

from presentation.theme import THEMES, apply_theme, style_sheet


@pytest.mark.parametrize("name", THEMES)
def test_every_image_a_theme_names_is_a_real_file(name: str) -> None:
    sheet = style_sheet(name)
    assert "@RESOURCES@" not in sheet
    urls = re.findall(r"url\(([^)]+)\)", sheet)
    assert urls  # the check mark at least
    for url in urls:
        assert Path(url).is_file(), url
        assert not QtGui.QImage(url).isNull(), f"{url} does not load as an image"


def _colours(widget: QtWidgets.QWidget) -> set[int]:
    image = widget.grab().toImage()
    return {image.pixel(x, y) for x in range(min(image.width(), 24)) for y in range(image.height())}


@pytest.mark.parametrize("name", THEMES)
def test_a_check_box_draws_a_visible_box_checked_or_not_even_inside_a_group(qtbot: Any, name: str) -> None:
    app = QtWidgets.QApplication.instance()
    assert isinstance(app, QtWidgets.QApplication)
    before = app.styleSheet()
    apply_theme(app, name)
    try:
        box = QtWidgets.QGroupBox("group")
        lay = QtWidgets.QVBoxLayout(box)
        checks = [QtWidgets.QCheckBox(""), QtWidgets.QCheckBox("")]
        checks[0].setChecked(True)
        for c in checks:
            lay.addWidget(c)
        qtbot.addWidget(box)
        box.show()
        qtbot.waitExposed(box)
        checked, unchecked = (_colours(c) for c in checks)
        accent = QtGui.QColor("#2962ff").rgb()
        assert accent in checked  # the filled box
        assert QtGui.QColor("#ffffff").rgb() in checked  # the tick
        assert len(unchecked) >= 2 and accent not in unchecked  # an outlined, empty box
    finally:
        app.setStyleSheet(before)
