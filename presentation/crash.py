"""One crash handler: an exception escaping a Qt slot, a thread or an asyncio task is logged and shown."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from PyQt6 import QtCore, QtWidgets, sip

APP_NAME = "QuantDesk"
log = logging.getLogger("quantdesk.crash")
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def default_log_path() -> Path:
    """The desktop's log file, in the user's log folder."""
    from platformdirs import user_log_dir

    return Path(user_log_dir(APP_NAME, appauthor=False)) / "quantdesk.log"


@dataclass(frozen=True, slots=True)
class Crash:
    """What went wrong, where (a slot, a thread's name, the asyncio loop), and the log file holding it."""

    where: str
    summary: str  # "ValueError: bad input"
    details: str  # the whole traceback
    log_path: Path


ShowCrash = Callable[[Crash], object]


def crash_dialog(crash: Crash) -> QtWidgets.QMessageBox:
    """A non-modal message box over the active window: the error, that the app runs on, where the log is."""
    box = QtWidgets.QMessageBox(QtWidgets.QApplication.activeWindow())
    box.setObjectName("crashDialog")
    box.setIcon(QtWidgets.QMessageBox.Icon.Critical)
    box.setWindowTitle(f"{APP_NAME} — unexpected error")
    box.setText(f"An unexpected error occurred ({crash.where}):\n{crash.summary}")
    box.setInformativeText(f"QuantDesk keeps running. The details are in the log file:\n{crash.log_path}")
    box.setDetailedText(crash.details)
    box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setModal(False)
    box.show()
    return box


class CrashHandler(QtCore.QObject):
    """Installs itself as `sys.excepthook` (exceptions escaping Qt slots and virtual methods), as
    `threading.excepthook`, and as the asyncio loop's exception handler. Each exception is logged with its
    traceback (to the "quantdesk.crash" logger and `log_path`) and shown with `show` (a dialog by default;
    tests inject their own), on the UI thread. The app keeps running; KeyboardInterrupt and the like quit it.
    While one crash is being shown, later ones are only logged, so one fault cannot flood the screen.
    """

    _crashed = QtCore.pyqtSignal(object)  # Crash, delivered on the thread this handler lives in (the UI's)
    _quit = QtCore.pyqtSignal()

    def __init__(self, log_path: Path, show: ShowCrash = crash_dialog,
                 parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.log_path = log_path
        self.show = show
        self.shown: object | None = None  # what `show` returned for the crash on screen
        self._file: logging.Handler | None = None
        self._previous: tuple[Any, Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._crashed.connect(self._show)
        self._quit.connect(QtWidgets.QApplication.quit)

    def install(self, loop: asyncio.AbstractEventLoop | None = None) -> CrashHandler:
        """Take over the hooks (and `loop`'s exception handler); `uninstall` gives them back."""
        if self._previous is None:
            self._previous = (sys.excepthook, threading.excepthook)
            sys.excepthook = self.excepthook
            threading.excepthook = self.thread_excepthook
            self._open_log_file()
        if loop is not None:
            self._loop = loop
            loop.set_exception_handler(self.loop_exception_handler)
        return self

    def uninstall(self) -> None:
        if self._previous is not None:
            sys.excepthook, threading.excepthook = self._previous
            self._previous = None
        if self._loop is not None:
            self._loop.set_exception_handler(None)
            self._loop = None
        if self._file is not None:
            log.removeHandler(self._file)
            self._file.close()
            self._file = None

    def _open_log_file(self) -> None:
        try:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._file = logging.FileHandler(self.log_path, encoding="utf-8", delay=True)
        except OSError as err:  # an unwritable log folder must not stop the app: the log dock still shows it
            log.warning("crash reports cannot be written to %s: %s", self.log_path, err)
            return
        self._file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(self._file)

    # ---- the hooks ----------------------------------------------------------------------------------------
    def excepthook(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        self.report("a Qt slot", (exc_type, exc, tb))

    def thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None or issubclass(args.exc_type, SystemExit):
            return  # a thread that called sys.exit(): nothing went wrong
        name = args.thread.name if args.thread is not None else "?"
        self.report(f"thread {name!r}", (args.exc_type, args.exc_value, args.exc_traceback))

    def loop_exception_handler(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if not isinstance(exc, BaseException):  # a warning such as "Task was destroyed but it is pending!"
            loop.default_exception_handler(context)
            return
        task = context.get("task") or context.get("future")
        where = f"task {task.get_name()!r}" if isinstance(task, asyncio.Task) else "the event loop"
        self.report(where, (type(exc), exc, exc.__traceback__))

    def report(self, where: str, exc_info: ExcInfo) -> None:
        """Log the exception with its traceback and show it (from any thread)."""
        exc_type, exc, tb = exc_info
        log.error("unhandled exception in %s", where, exc_info=exc_info)
        if not issubclass(exc_type, Exception):  # KeyboardInterrupt and the like: the user wants out
            self._quit.emit()
            return
        summary = "".join(traceback.format_exception_only(exc_type, exc)).strip()
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        self._crashed.emit(Crash(where, summary, details, self.log_path))

    def _show(self, crash: Crash) -> None:
        shown = self.shown
        if isinstance(shown, QtWidgets.QWidget) and not sip.isdeleted(shown) and shown.isVisible():
            return  # one crash on screen at a time; the others are in the log
        try:
            self.shown = self.show(crash)
        except Exception:  # a failing dialog must not recurse into this handler
            log.exception("the crash dialog could not be shown")
