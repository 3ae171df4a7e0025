"""Dark and light themes: a Qt style sheet from resources/ plus matching chart colours."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from PyQt6 import QtWidgets

from presentation.chart.panes import DARK, LIGHT, ChartTheme

THEMES = ("dark", "light")


def style_sheet(name: str) -> str:
    """The theme's style sheet; @RESOURCES@ stands for the folder its images are in."""
    folder = resources.files("resources")
    text = (folder / f"{name}.qss").read_text(encoding="utf-8")
    return text.replace("@RESOURCES@", Path(str(folder)).as_posix())


def chart_theme(name: str) -> ChartTheme:
    return LIGHT if name == "light" else DARK


def apply_theme(app: QtWidgets.QApplication, name: str) -> str:
    """Apply a theme by name (unknown names fall back to dark); returns the name applied."""
    name = name if name in THEMES else "dark"
    app.setStyle("Fusion")
    app.setStyleSheet(style_sheet(name))
    return name
