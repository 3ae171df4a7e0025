"""Desktop entry point: one QApplication, one qasync loop joining Qt and asyncio, the main window."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import pyqtgraph as pg
import qasync
from PyQt6 import QtWidgets

from presentation.crash import CrashHandler, default_log_path
from presentation.main_window import MainWindow
from presentation.services import AppServices, Services
from presentation.settings import APPLICATION, ORGANIZATION


def make_app(argv: list[str] | None = None) -> QtWidgets.QApplication:
    """The QApplication (reused if one exists), named so QSettings finds the user's file."""
    app = QtWidgets.QApplication.instance()
    if not isinstance(app, QtWidgets.QApplication):
        app = QtWidgets.QApplication(argv if argv is not None else sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName(APPLICATION)
    pg.setConfigOptions(antialias=False, background="#131722", foreground="#b2b5be")
    return app


def run_desktop(app_services: AppServices, log_path: Path | None = None) -> int:
    """Show the main window over the composition root's services and run until it closes. An exception that
    escapes a slot, a thread or a task is logged to `log_path` (default: the user's log folder) and shown."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    log_path = log_path or default_log_path()
    app = make_app()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    crashes = CrashHandler(log_path).install(loop)
    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    window = MainWindow(Services(app_services), defer_workspaces=True, log_path=log_path)
    window.show()
    try:
        with loop:
            loop.call_soon(window.start)
            loop.run_until_complete(closed.wait())
            loop.run_until_complete(window.shutdown())
    finally:
        crashes.uninstall()
    return 0
