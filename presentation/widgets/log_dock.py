"""Log and event view: Python logging records and app events, newest at the bottom, bounded."""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime

from PyQt6 import QtCore, QtGui, QtWidgets

MAX_LINES = 5000


class _Bridge(QtCore.QObject):
    record = QtCore.pyqtSignal(str, int)


class QtLogHandler(logging.Handler):
    """Hands log records to the GUI thread through a queued signal (safe from any thread)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.bridge = _Bridge()

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(RuntimeError):  # the widget is gone during shutdown
            self.bridge.record.emit(self.format(record), record.levelno)


class LogView(QtWidgets.QPlainTextEdit):
    """Read-only, bounded text view with one line per record."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("logView")
        self.setReadOnly(True)
        self.setMaximumBlockCount(MAX_LINES)
        self.setLineWrapMode(QtWidgets.QPlainTextEdit.LineWrapMode.NoWrap)
        font = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont)
        self.setFont(font)
        self.handler = QtLogHandler()
        self.handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        self.handler.bridge.record.connect(self.add_line)

    def add_line(self, text: str, level: int = logging.INFO) -> None:
        stamp = datetime.now().strftime("%H:%M:%S")
        tag = {logging.WARNING: "WARN ", logging.ERROR: "ERROR", logging.CRITICAL: "ERROR"}.get(level, "INFO ")
        self.appendPlainText(f"{stamp}  {tag}  {text}")

    def attach(self, logger: logging.Logger) -> None:
        logger.addHandler(self.handler)
        if logger.level == logging.NOTSET or logger.level > logging.INFO:
            logger.setLevel(logging.INFO)

    def detach(self, logger: logging.Logger) -> None:
        logger.removeHandler(self.handler)
