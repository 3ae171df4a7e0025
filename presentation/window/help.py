"""The Help menu's texts and windows: Getting started (a first session in five steps) and About."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from PyQt6 import QtCore, QtWidgets

GETTING_STARTED = (
    "<h3>Your first session in five steps</h3><ol>"
    "<li><b>Collect</b> — in the <b>Data</b> tab (Ctrl+5) pick Demo, a market and a range, then click "
    "<b>Collect</b>. The bars appear under <b>Markets</b> on the left.</li>"
    "<li><b>Chart</b> — click a market on the left; the <b>Chart</b> tab (Ctrl+1) shows its candles. "
    "Change <b>View</b> for coarser bars and add lines from <b>Indicators</b>.</li>"
    "<li><b>Build</b> — in the <b>Builder</b> tab (Ctrl+3) click <b>New</b>, set when to enter and when to "
    "exit, then <b>Save</b> (Ctrl+S). The preview shows where it would have traded.</li>"
    "<li><b>Backtest</b> — in the <b>Backtests</b> tab (Ctrl+4) pick the strategy, market and range, then "
    "<b>Run backtest</b>. Trades and the equity curve go on the chart.</li>"
    "<li><b>Paper trade</b> — in the <b>Live</b> tab (Ctrl+6) pick the strategy and a Demo market, then "
    "<b>Start session</b>. Orders are simulated: no real money moves.</li></ol>"
    "<p>Keyboard shortcuts are under Help (F1).</p>")


def app_version() -> str:
    """The installed QuantDesk version, or a plain note when running from an uninstalled source tree."""
    try:
        return version("quantdesk")
    except PackageNotFoundError:
        return "unknown (not installed)"


def about_text(db_path: Path, log_path: Path) -> str:
    return (f"<h3>QuantDesk {app_version()}</h3>"
            "<p>Collect market data, chart it, build and backtest strategies, and paper trade them.</p>"
            f"<p><b>Database</b><br>{db_path}</p><p><b>Log file</b><br>{log_path}</p>")


def open_box(parent: QtWidgets.QWidget, name: str, title: str, text: str) -> QtWidgets.QMessageBox:
    """Show `text` in a message box that does not block (tests read it, then close it); one per `name`."""
    old = parent.findChild(QtWidgets.QMessageBox, name)
    if old is not None:
        old.close()
        old.deleteLater()
    box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Information, title, text, parent=parent)
    box.setObjectName(name)
    box.setTextFormat(QtCore.Qt.TextFormat.RichText)
    box.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setWindowModality(QtCore.Qt.WindowModality.NonModal)
    box.show()
    return box


def show_getting_started(parent: QtWidgets.QWidget) -> QtWidgets.QMessageBox:
    return open_box(parent, "gettingStarted", "Getting started", GETTING_STARTED)


def show_about(parent: QtWidgets.QWidget, db_path: Path, log_path: Path) -> QtWidgets.QMessageBox:
    return open_box(parent, "aboutQuantDesk", "About QuantDesk", about_text(db_path, log_path))
