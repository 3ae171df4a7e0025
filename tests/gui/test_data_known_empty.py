"""Data tab: ranges known to have no trades are shown, and "Forget known-empty ranges" forgets them, not candles."""

from __future__ import annotations

from typing import Any

import qasync
from PyQt6 import QtCore, QtWidgets
from pytestqt.qtbot import QtBot
from qt_async import fired, keep
from stored import store_walk

from app.bootstrap.container import Container
from domain.market import CandleSeries, SeriesKey, Timeframe
from presentation.main_window import MainWindow
from presentation.services import Services

KEY = SeriesKey("demo", "KRW-BTC", Timeframe.H1)
H = Timeframe.H1.ms


def answer_next_question(button: QtWidgets.QMessageBox.StandardButton, seen: list[str]) -> None:
    """Press `button` in the question box about to open, as the user would; note what it asked."""
    def press() -> None:
        box = QtWidgets.QApplication.activeModalWidget()
        if not isinstance(box, QtWidgets.QMessageBox):
            QtCore.QTimer.singleShot(20, press)
            return
        seen.append(box.text())
        QtBot.mouseClick(box.button(button), QtCore.Qt.MouseButton.LeftButton)

    QtCore.QTimer.singleShot(0, press)


def stocked(container: Container) -> CandleSeries:
    """100 stored bars, 50 known-empty bars just before them and 100 more well before (e.g. before a listing)."""
    s = store_walk(container, KEY, 100)
    first = int(s.ts[0])
    container.candles.upsert(KEY, CandleSeries.empty(Timeframe.H1), (first - 50 * H, first))
    container.candles.upsert(KEY, CandleSeries.empty(Timeframe.H1), (first - 500 * H, first - 400 * H))
    return s


def window_on(qtbot: QtBot, container: Container) -> MainWindow:
    window = MainWindow(Services(container), first_run_demo=False)
    qtbot.addWidget(keep(window))
    window.show_tab("Data")
    window.data_tab.pick(KEY)
    return window


def test_the_data_tab_shows_ranges_known_to_have_no_trades(qtbot: QtBot, container: Container) -> None:
    stocked(container)
    tab = window_on(qtbot, container).data_tab
    rows = [(sp.kind, sp.bars, sp.quiet) for sp in tab.coverage_model.spans]
    assert rows == [("Known empty", 0, 100), ("Covered", 100, 50)]
    assert "150 bars known to have no trades" in tab.coverage_summary.text()


def test_forgetting_known_empty_ranges_asks_first_keeps_every_candle_and_says_how_many_bars_it_forgot(
        qtbot: QtBot, container: Container, qloop: qasync.QEventLoop) -> None:
    s = stocked(container)
    tab = window_on(qtbot, container).data_tab
    asked: list[str] = []
    result: dict[str, Any] = {}

    async def scenario() -> None:
        answer_next_question(QtWidgets.QMessageBox.StandardButton.Yes, asked)
        waiting = fired(tab.forgotten)
        QtCore.QTimer.singleShot(0, lambda: qtbot.mouseClick(tab.forget_btn, QtCore.Qt.MouseButton.LeftButton))
        result["signal"] = await waiting

    qloop.run_until_complete(scenario())
    assert asked and "2 ranges (150 bars)" in asked[0] and "Stored candles are kept" in asked[0]
    assert result["signal"] == (KEY, 150)
    assert "Forgot 150 known-empty bars" in tab.forget_note.text()
    assert container.candles.coverage(KEY).known_empty == []
    assert container.candles.read(KEY) == s  # not one candle went
    assert [(sp.kind, sp.bars, sp.quiet) for sp in tab.coverage_model.spans] == [("Covered", 100, 0)]


def test_saying_no_forgets_nothing_and_a_series_without_known_empty_ranges_says_so(
        qtbot: QtBot, container: Container) -> None:
    stocked(container)
    tab = window_on(qtbot, container).data_tab
    asked: list[str] = []
    answer_next_question(QtWidgets.QMessageBox.StandardButton.No, asked)
    qtbot.mouseClick(tab.forget_btn, QtCore.Qt.MouseButton.LeftButton)
    assert asked and len(container.candles.coverage(KEY).known_empty) == 2
    other = SeriesKey("demo", "KRW-ETH", Timeframe.H1)
    store_walk(container, other, 10)
    tab.refresh()
    tab.pick(other)
    qtbot.mouseClick(tab.forget_btn, QtCore.Qt.MouseButton.LeftButton)
    assert "has no ranges known to be empty" in tab.forget_note.text()
