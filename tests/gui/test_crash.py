"""The crash handler: an exception escaping a slot, a thread or a task is logged and shown; the app lives on."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import qasync
from PyQt6 import QtCore, QtWidgets
from pytestqt.qtbot import QtBot
from stored import store_walk

from app.bootstrap.container import Container
from domain.market import SeriesKey, Timeframe
from presentation.crash import Crash, CrashHandler, crash_dialog


class Ticket(QtCore.QObject):
    """A model that tells its listeners about an order ticket (the signal a button's slot emits)."""

    submitted = QtCore.pyqtSignal(str)


def reject_every_order(symbol: str) -> None:
    raise ValueError(f"no price for {symbol}")


@pytest.fixture
def shown() -> list[Crash]:
    return []


@pytest.fixture
def handler(tmp_path: Path, shown: list[Crash]) -> Iterator[CrashHandler]:
    crashes = CrashHandler(tmp_path / "logs" / "quantdesk.log", show=shown.append).install()
    yield crashes
    crashes.uninstall()


def test_an_exception_in_a_slot_behind_a_clicked_button_is_logged_shown_and_the_app_keeps_running(
        qtbot: QtBot, handler: CrashHandler, shown: list[Crash], caplog: pytest.LogCaptureFixture) -> None:
    ticket = Ticket()
    ticket.submitted.connect(reject_every_order)
    window = QtWidgets.QWidget()
    qtbot.addWidget(window)
    buy, count = QtWidgets.QPushButton("Buy", window), QtWidgets.QPushButton("Count", window)
    count.move(0, 40)
    buy.clicked.connect(lambda: ticket.submitted.emit("KRW-BTC"))
    counted: list[bool] = []
    count.clicked.connect(lambda: counted.append(True))
    window.show()
    with caplog.at_level(logging.ERROR, logger="quantdesk.crash"):
        qtbot.mouseClick(buy, QtCore.Qt.MouseButton.LeftButton)
    assert [c.summary for c in shown] == ["ValueError: no price for KRW-BTC"]
    assert shown[0].where == "a Qt slot" and shown[0].log_path == handler.log_path
    assert "in reject_every_order" in shown[0].details
    (record,) = caplog.records
    assert record.exc_info is not None and record.exc_info[0] is ValueError
    written = handler.log_path.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in written and "ValueError: no price for KRW-BTC" in written
    qtbot.mouseClick(count, QtCore.Qt.MouseButton.LeftButton)  # the app still answers clicks
    assert counted == [True] and window.isVisible()


def test_an_exception_in_a_worker_thread_is_shown_on_the_ui_thread(
        qtbot: QtBot, handler: CrashHandler, shown: list[Crash]) -> None:
    seen_on: list[bool] = []
    handler.show = lambda crash: (shown.append(crash), seen_on.append(threading.current_thread() is
                                                                        threading.main_thread()))
    worker = threading.Thread(target=reject_every_order, args=("KRW-ETH",), name="load-candles")
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: len(shown) == 1, timeout=5000)
    assert shown[0].where == "thread 'load-candles'" and shown[0].summary == "ValueError: no price for KRW-ETH"
    assert seen_on == [True]
    assert "in reject_every_order" in handler.log_path.read_text(encoding="utf-8")


def test_an_exception_in_an_asyncio_callback_or_an_unawaited_task_is_shown(
        qloop: qasync.QEventLoop, tmp_path: Path, shown: list[Crash]) -> None:
    crashes = CrashHandler(tmp_path / "quantdesk.log", show=shown.append).install(qloop)

    async def place_order() -> None:
        reject_every_order("KRW-XRP")

    async def scenario() -> None:
        qloop.call_soon(reject_every_order, "KRW-SOL")
        task = qloop.create_task(place_order(), name="place-order")
        await asyncio.sleep(0.05)
        assert task.done()
        del task  # never awaited: the loop reports its exception once the task is gone
        gc.collect()

    try:
        qloop.run_until_complete(scenario())
    finally:
        crashes.uninstall()
    assert [(c.where, c.summary) for c in shown] == [
        ("the event loop", "ValueError: no price for KRW-SOL"),
        ("task 'place-order'", "ValueError: no price for KRW-XRP")]


def test_while_one_crash_is_on_screen_later_ones_are_only_logged(
        qtbot: QtBot, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    boxes: list[QtWidgets.QMessageBox] = []

    def show(crash: Crash) -> QtWidgets.QMessageBox:
        boxes.append(crash_dialog(crash))
        return boxes[-1]

    crashes = CrashHandler(tmp_path / "quantdesk.log", show=show).install()
    try:
        with caplog.at_level(logging.ERROR, logger="quantdesk.crash"):
            for symbol in ("KRW-BTC", "KRW-ETH"):
                crashes.report("a Qt slot", exc_info_of(symbol))
    finally:
        crashes.uninstall()
    (box,) = boxes
    qtbot.addWidget(box)
    assert box.isVisible() and not box.isModal()
    assert "ValueError: no price for KRW-BTC" in box.text()
    assert str(tmp_path / "quantdesk.log") in box.informativeText() and "keeps running" in box.informativeText()
    assert "in reject_every_order" in box.detailedText()
    assert [r.exc_info[1].args for r in caplog.records if r.exc_info and r.exc_info[1]] == [
        ("no price for KRW-BTC",), ("no price for KRW-ETH",)]


def exc_info_of(symbol: str) -> tuple[type[BaseException], BaseException, object]:
    try:
        reject_every_order(symbol)
    except ValueError as err:
        return type(err), err, err.__traceback__
    raise AssertionError("reject_every_order returned")


def test_uninstalling_gives_the_hooks_back(tmp_path: Path) -> None:
    before = (sys.excepthook, threading.excepthook)
    crashes = CrashHandler(tmp_path / "quantdesk.log", show=lambda crash: None).install()
    assert sys.excepthook == crashes.excepthook and threading.excepthook == crashes.thread_excepthook
    crashes.uninstall()
    assert (sys.excepthook, threading.excepthook) == before


def test_the_desktop_app_shows_a_crash_in_a_slot_and_runs_on_until_its_window_is_closed(
        app: QtWidgets.QApplication, container: Container, tmp_path: Path) -> None:
    from presentation.app import run_desktop
    from presentation.main_window import MainWindow

    store_walk(container, SeriesKey("csv", "GOOG", Timeframe.D1), 50)  # not empty: no first-run seeding
    log_path = tmp_path / "logs" / "quantdesk.log"
    hooks_before = (sys.excepthook, threading.excepthook)
    seen: list[str] = []
    deadline = time.monotonic() + 120

    def crash_in_a_slot() -> None:  # a timer's timeout slot, run by the app's event loop
        reject_every_order("KRW-BTC")

    def check_then_close() -> None:
        windows = [w for w in QtWidgets.QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        boxes = [w for w in QtWidgets.QApplication.allWidgets() if w.objectName() == "crashDialog" and w.isVisible()]
        started = bool(windows) and windows[0].engines.strategy_work is not None and \
            windows[0].startup.task is not None and windows[0].startup.task.done()
        if not (boxes and started) and time.monotonic() < deadline:
            QtCore.QTimer.singleShot(200, check_then_close)  # the app runs on: tabs built, Demo exchange started
            return
        seen.extend(f"{b.text()} {b.informativeText()}" for b in boxes)
        for widget in boxes + windows:
            widget.close()

    QtCore.QTimer.singleShot(300, crash_in_a_slot)
    QtCore.QTimer.singleShot(500, check_then_close)
    try:
        assert run_desktop(container, log_path) == 0
    finally:
        asyncio.set_event_loop(None)
    assert len(seen) == 1 and "ValueError: no price for KRW-BTC" in seen[0] and str(log_path) in seen[0]
    written = log_path.read_text(encoding="utf-8")
    assert "unhandled exception in a Qt slot" in written and "in crash_in_a_slot" in written
    assert (sys.excepthook, threading.excepthook) == hooks_before  # handed back once the app ended
