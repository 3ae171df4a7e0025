"""Click-through fixtures: the GUI suite's helpers on the path, settings in a temp folder, a qasync loop."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import qasync
from PyQt6 import QtCore, QtWidgets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "gui"))  # builder_clicks, qt_async


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path) -> Iterator[Path]:
    """QSettings (layout, theme, last selection) go to a temp folder, never the user's file."""
    folder = tmp_path / "settings"
    QtCore.QSettings.setPath(QtCore.QSettings.Format.IniFormat, QtCore.QSettings.Scope.UserScope, str(folder))
    yield folder


@pytest.fixture(scope="session")
def qapp_cls() -> type[QtWidgets.QApplication]:
    return QtWidgets.QApplication


@pytest.fixture
def qloop(qapp: QtWidgets.QApplication) -> Iterator[qasync.QEventLoop]:
    """The qasync loop the app runs on, as the current asyncio loop."""
    from presentation.app import make_app

    loop = qasync.QEventLoop(make_app(), already_running=False)
    asyncio.set_event_loop(loop)
    yield loop
    for task in asyncio.all_tasks(loop):
        task.cancel()
    loop.run_until_complete(asyncio.sleep(0))
    asyncio.set_event_loop(None)
    # Close it here, on the GUI thread: an unclosed loop is closed by its finalizer wherever the garbage
    # collector happens to run, once inside a later test's worker thread, where touching Qt aborted.
    loop.close()
