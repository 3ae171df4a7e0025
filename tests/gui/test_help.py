"""The Help menu: Getting started walks a first session, About names the version, database and log file."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

from PyQt6 import QtGui, QtWidgets
from pytestqt.qtbot import QtBot
from qt_async import keep

from app.bootstrap.container import Container
from presentation.main_window import MainWindow
from presentation.services import Services


def open_help_item(qtbot: QtBot, container: Container, item: str, tmp_path: Path) -> QtWidgets.QMessageBox:
    window = MainWindow(Services(container), first_run_demo=False, log_path=tmp_path / "logs" / "quantdesk.log")
    qtbot.addWidget(keep(window))
    window.show()
    bar = window.menuBar()
    assert bar is not None
    help_menu = next(m for m in bar.findChildren(QtWidgets.QMenu) if m.title() == "&Help")
    action = next(a for a in help_menu.actions() if a.text().replace("&", "") == item)
    action.trigger()
    box = window.findChild(QtWidgets.QMessageBox)
    assert isinstance(box, QtWidgets.QMessageBox) and box.isVisible()
    return box


def plain(box: QtWidgets.QMessageBox) -> str:
    """The box's text as the user reads it (rich text without its markup)."""
    doc = QtGui.QTextDocument()
    doc.setHtml(box.text())
    return doc.toPlainText()


def test_getting_started_lists_the_five_steps_of_a_first_session_in_order(
        qtbot: QtBot, container: Container, tmp_path: Path) -> None:
    box = open_help_item(qtbot, container, "Getting started", tmp_path)
    text = plain(box)
    steps = ["Collect", "Chart", "Build", "Backtest", "Paper trade"]
    starts = [text.index(f"{step} —") for step in steps]
    assert starts == sorted(starts) and box.windowTitle() == "Getting started"
    assert "Data tab" in text and "Run backtest" in text and "Start session" in text
    box.close()


def test_about_shows_the_installed_version_the_database_and_the_log_file(
        qtbot: QtBot, container: Container, db_path: Path, tmp_path: Path) -> None:
    box = open_help_item(qtbot, container, "About QuantDesk", tmp_path)
    text = plain(box)
    assert f"QuantDesk {version('quantdesk')}" in text
    assert str(db_path) in text and str(tmp_path / "logs" / "quantdesk.log") in text
    box.close()
