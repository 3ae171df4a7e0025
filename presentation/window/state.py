"""The window's state across restarts (geometry, docks, theme, tab, last series), kept in QSettings."""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING

from PyQt6 import QtCore, QtWidgets

from domain.market import SeriesKey, Timeframe
from presentation.chart.indicators import Applied
from presentation.settings import app_settings
from presentation.theme import apply_theme

if TYPE_CHECKING:
    from presentation.main_window import MainWindow


class WindowState:
    """Restores and saves the window's layout and last selection; owns the theme (`name`, `apply`)."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.theme = "dark"  # until the saved one is restored

    def apply_theme(self, name: str) -> str:
        """Apply a theme to the whole application (unknown names fall back to dark); the name applied."""
        app = QtWidgets.QApplication.instance()
        if isinstance(app, QtWidgets.QApplication):
            self.theme = apply_theme(app, name)
        return self.theme

    def restore(self) -> None:
        w, s = self.window, app_settings()
        geometry = s.value("window/geometry")
        if isinstance(geometry, QtCore.QByteArray):
            w.restoreGeometry(geometry)
        state = s.value("window/state")
        if isinstance(state, QtCore.QByteArray):
            w.restoreState(state)
        else:  # first start: docks sized once the window has its real size
            QtCore.QTimer.singleShot(0, self._default_docks)
        w.set_theme(str(s.value("window/theme", "dark")))
        tab = str(s.value("window/tab", 0))
        w.tabs.setCurrentIndex(int(tab) if tab.isdigit() else 0)
        w.chart_tab.applied = indicators(s.value("chart/indicators"))
        last = s.value("selection/series")
        if isinstance(last, str) and last.count(":") >= 2:
            ex, rest = last.split(":", 1)
            sym, tf = rest.rsplit(":", 1)
            with contextlib.suppress(ValueError):  # a hand-edited or outdated settings file
                w.select_series(SeriesKey(ex, sym, Timeframe.parse(tf)))
        view = w.chart_tab.view_tf.findData(str(s.value("chart/view", "")))
        if view >= 0:
            w.chart_tab.view_tf.setCurrentIndex(view)

    def _default_docks(self) -> None:
        w = self.window
        w.resizeDocks([w.market_dock], [360], QtCore.Qt.Orientation.Horizontal)
        w.resizeDocks([w.log_dock], [120], QtCore.Qt.Orientation.Vertical)

    def save(self) -> None:
        w, s = self.window, app_settings()
        s.setValue("window/geometry", w.saveGeometry())
        s.setValue("window/state", w.saveState())
        s.setValue("window/theme", self.theme)
        s.setValue("window/tab", w.tabs.currentIndex())
        s.setValue("chart/indicators", json.dumps([[a.name, [list(p) for p in a.params]] for a in w.chart_tab.applied]))
        if w.chart_tab.key is not None:
            s.setValue("selection/series", str(w.chart_tab.key))
            s.setValue("chart/view", w.chart_tab.shown_timeframe().code)
        s.sync()


def indicators(saved: object) -> list[Applied]:
    """The chart's indicators as saved by `WindowState.save`; nothing from a damaged or outdated value."""
    try:
        rows = json.loads(saved) if isinstance(saved, str) else []
        return [Applied(str(name), tuple((str(k), float(v)) for k, v in params)) for name, params in rows]
    except (ValueError, TypeError):
        return []
