"""The main window's menu bar: File, View, Chart, Tools and Help, each action with its shortcut."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PyQt6 import QtGui, QtWidgets

from presentation.window.help import show_about, show_getting_started

if TYPE_CHECKING:
    from presentation.main_window import MainWindow


def add_action(menu: QtWidgets.QMenu, text: str, shortcut: str, slot: Callable[..., object]) -> QtGui.QAction:
    act = menu.addAction(text)
    assert act is not None
    act.setShortcut(QtGui.QKeySequence(shortcut))
    act.triggered.connect(slot)
    return act


def _menu(bar: QtWidgets.QMenuBar, title: str) -> QtWidgets.QMenu:
    menu = bar.addMenu(title)
    assert menu is not None
    return menu


def build_menus(w: MainWindow, tabs: tuple[str, ...]) -> None:
    bar = w.menuBar()
    assert bar is not None
    file_menu = _menu(bar, "&File")
    add_action(file_menu, "&Import CSV…", "Ctrl+O", w.focus_import)
    add_action(file_menu, "&Collect candles…", "Ctrl+Shift+C", lambda: w.show_tab("Data"))
    file_menu.addSeparator()
    add_action(file_menu, "&Quit", "Ctrl+Q", w.close)
    view = _menu(bar, "&View")
    for i, name in enumerate(tabs, start=1):
        add_action(view, f"{name}", f"Ctrl+{i}", lambda _=False, n=name: w.show_tab(n))
    view.addSeparator()
    for dock, key in ((w.market_dock, "Ctrl+M"), (w.log_dock, "Ctrl+L")):
        toggle = dock.toggleViewAction()
        assert toggle is not None
        view.addAction(toggle)
        toggle.setShortcut(QtGui.QKeySequence(key))
    add_action(view, "&Refresh markets", "F5", w.refresh_markets)
    add_action(view, "Toggle &dark/light theme", "Ctrl+T", w.toggle_theme)
    add_action(view, "&Full screen", "F11", lambda: w.showNormal() if w.isFullScreen() else w.showFullScreen())
    chart = _menu(bar, "&Chart")
    for act in (w.chart_tab.act_goto, w.chart_tab.act_latest, w.chart_tab.act_all):
        chart.addAction(act)
    chart.addMenu(w.chart_tab.indicators_menu)
    tools = _menu(bar, "&Tools")
    add_action(tools, "&Optimize parameters…", "Ctrl+Shift+O", w.show_optimize)
    settings = _menu(bar, "&Settings")
    add_action(settings, "Exchange &keys…", "", lambda: show_keys(w))
    help_menu = _menu(bar, "&Help")
    add_action(help_menu, "&Getting started", "", lambda: show_getting_started(w))
    add_action(help_menu, "&Keyboard shortcuts", "F1", lambda: show_shortcuts(w))
    help_menu.addSeparator()
    add_action(help_menu, "&About QuantDesk", "", lambda: show_about(w, w.services.db_path, w.log_path))


def show_shortcuts(w: QtWidgets.QMainWindow) -> None:
    bar = w.menuBar()
    menus = bar.findChildren(QtWidgets.QMenu) if bar is not None else []
    lines = [f"{a.shortcut().toString():>14}   {a.text().replace('&', '')}"
             for m in menus for a in m.actions() if not a.shortcut().isEmpty()]
    QtWidgets.QMessageBox.information(w, "Keyboard shortcuts", "\n".join(dict.fromkeys(lines)))


def show_keys(w: MainWindow) -> None:
    """Settings → Exchange keys: the dialog over the OS keyring (non-modal, one at a time)."""
    from presentation.keys.dialog import KeysDialog

    dialog = getattr(w, "keys_dialog", None)
    if dialog is None:
        dialog = w.keys_dialog = KeysDialog(w.services.keys, w)
    dialog.refresh()
    dialog.show()
    dialog.raise_()
