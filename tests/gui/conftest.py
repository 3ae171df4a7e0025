"""GUI test fixtures: settings in a temp folder, a container on a temp database, a qasync loop."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import qasync
from PyQt6 import QtCore, QtWidgets
from qt_async import release_all

from app.bootstrap.container import Container
from presentation.app import make_app


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path) -> Iterator[Path]:
    """QSettings (layout, theme, last selection) go to a temp folder, never the user's file."""
    folder = tmp_path / "settings"
    fmt, scope = QtCore.QSettings.Format.IniFormat, QtCore.QSettings.Scope.UserScope
    QtCore.QSettings.setPath(fmt, scope, str(folder))
    yield folder


@pytest.fixture(autouse=True)
def windows_kept_until_teardown() -> Iterator[None]:
    yield
    release_all()


@pytest.fixture(scope="session")
def qapp_cls() -> type[QtWidgets.QApplication]:
    return QtWidgets.QApplication


@pytest.fixture
def app(qapp: QtWidgets.QApplication) -> QtWidgets.QApplication:
    return make_app()


@pytest.fixture
def container(db_path: Path) -> Iterator[Container]:
    c = Container.open(db_path)
    yield c
    c.close()


@pytest.fixture
def qloop(app: QtWidgets.QApplication) -> Iterator[qasync.QEventLoop]:
    """The same qasync loop the app uses, as the current asyncio loop for the test."""
    loop = qasync.QEventLoop(app, already_running=False)
    asyncio.set_event_loop(loop)
    yield loop
    for task in asyncio.all_tasks(loop):
        task.cancel()
    loop.run_until_complete(asyncio.sleep(0))
    asyncio.set_event_loop(None)
    # Close it here, on the GUI thread: an unclosed loop is closed by its finalizer wherever the garbage
    # collector happens to run, once inside a later test's worker thread, where touching Qt aborted.
    loop.close()
