"""Runs a sweep or a backtest off the GUI thread and reports back through Qt signals (queued to the GUI thread)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PyQt6 import QtCore

from app.errors import UserError


class BackgroundCall(QtCore.QObject):
    """Calls `fn(cancel_event, progress_emit)` on a worker thread; `finished(result)` or `failed(message)`.

    The work itself runs in worker processes (the sweep executor, the backtest worker); this thread only
    coordinates, so the event loop and the window never block.
    """

    progressed = QtCore.pyqtSignal(object)
    finished = QtCore.pyqtSignal(object)
    failed = QtCore.pyqtSignal(str)

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.cancel_event = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, fn: Callable[[threading.Event, Callable[[Any], None]], Any]) -> None:
        if self.running:
            raise UserError("already running")
        self.cancel_event = threading.Event()
        cancel = self.cancel_event
        self._thread = threading.Thread(target=self._main, args=(fn, cancel), daemon=True, name="gui-background")
        self._thread.start()

    def _main(self, fn: Callable[[threading.Event, Callable[[Any], None]], Any], cancel: threading.Event) -> None:
        try:
            result = fn(cancel, self.progressed.emit)
        except UserError as err:
            self.failed.emit(str(err))
        except Exception as err:  # shown to the user as one line, never a traceback dialog
            self.failed.emit(f"{type(err).__name__}: {err}")
        else:
            self.finished.emit(result)

    def cancel(self) -> None:
        self.cancel_event.set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
