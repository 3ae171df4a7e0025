"""CSV import panel: file, target market and timeframe, progress, and the file's own line-level errors."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from PyQt6 import QtCore, QtWidgets

from app.errors import UserError
from domain.market import Timeframe
from presentation.services import Services
from presentation.widgets.forms import group, primary

log = logging.getLogger("quantdesk.gui")


class ImportBox(QtWidgets.QGroupBox):
    """Reads and validates the whole file off the UI thread, then stores it in one transaction."""

    imported = QtCore.pyqtSignal(object)  # ImportResult
    progressed = QtCore.pyqtSignal(int, int)  # done, total (bytes or lines, as the reader reports)

    def __init__(self, services: Services, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.task: asyncio.Task[None] | None = None
        self.path = QtWidgets.QLineEdit()
        self.path.setPlaceholderText("candles.csv — columns time, open, high, low, close, volume")
        browse = QtWidgets.QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        file_row = QtWidgets.QHBoxLayout()
        file_row.addWidget(self.path, 1)
        file_row.addWidget(browse)
        self.exchange = QtWidgets.QLineEdit("csv")
        self.symbol = QtWidgets.QLineEdit()
        self.symbol.setPlaceholderText("e.g. BTC-USD")
        self.timeframe = QtWidgets.QComboBox()
        self.timeframe.addItem("detect from file", None)
        for tf in Timeframe:
            self.timeframe.addItem(tf.code, tf.code)
        self.button = primary(QtWidgets.QPushButton("Import"))
        self.button.clicked.connect(self.start_import)
        self.bar = QtWidgets.QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.message = QtWidgets.QLabel("The whole file is checked first: a bad line stores nothing.")
        self.message.setObjectName("hint")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.button)
        buttons.addStretch(1)
        box = group("Import CSV", [("File", file_row), ("Exchange", self.exchange), ("Market", self.symbol),
                                   ("Timeframe", self.timeframe), ("", buttons), ("", self.bar),
                                   ("", self.message)])
        self.setTitle(box.title())
        self.setLayout(box.layout())
        self.progressed.connect(self._show_progress)

    def _browse(self) -> None:
        name, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Import candles", "", "CSV files (*.csv);;All (*)")
        if name:
            self.path.setText(name)
            if not self.symbol.text():
                self.symbol.setText(Path(name).stem.upper())

    def start_import(self) -> asyncio.Task[None] | None:
        if self.task is not None and not self.task.done():
            return None
        path, symbol = self.path.text().strip(), self.symbol.text().strip()
        if not path or not symbol:
            self._error("Choose a file and name the market it holds.")
            return None
        self.button.setEnabled(False)
        self.bar.setValue(0)
        self.message.setObjectName("hint")
        self.message.setText(f"Reading {path} …")
        self.task = asyncio.get_event_loop().create_task(self._run(path, symbol))
        return self.task

    async def _run(self, path: str, symbol: str) -> None:
        data = self.services.data
        try:
            code = self.timeframe.currentData()
            tf = Timeframe(code) if isinstance(code, str) else None
            result = await asyncio.to_thread(data.import_file, path, self.exchange.text().strip() or "csv",
                                             symbol, tf, self.progressed.emit)
        except UserError as err:
            self._error(str(err))
            log.error("import %s: %s", path, err)
        except OSError as err:
            self._error(f"{path}: {err.strerror or err}")
        else:
            self.bar.setValue(1000)
            self._set_message("hint", f"Imported {result.rows:,} bars into {result.key} "
                                      f"({result.rows_after - result.rows_before:,} new).")
            log.info("imported %s bars from %s into %s", f"{result.rows:,}", path, result.key)
            self.imported.emit(result)
        finally:
            self.button.setEnabled(True)

    def _show_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.bar.setValue(int(1000 * min(done, total) / total))

    def _error(self, text: str) -> None:
        self._set_message("error", text)

    def _set_message(self, kind: str, text: str) -> None:
        self.message.setObjectName(kind)
        self.message.setText(text)
        self.message.style().polish(self.message)
