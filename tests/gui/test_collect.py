"""Collecting from the Demo exchange in the Data tab: progress, a responsive UI, cancel and resume."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import qasync
from PyQt6 import QtCore
from pytestqt.qtbot import QtBot
from qt_async import fired, keep

from app.bootstrap.container import Container
from domain.market import DAY_MS, SeriesKey, Timeframe
from presentation.data.tab import DataTab
from presentation.main_window import MainWindow
from presentation.services import Services

KEY = SeriesKey("demo", "KRW-BTC", Timeframe.M1)


def choose(tab: DataTab, key: SeriesKey, days: int) -> tuple[int, int]:
    tab.exchange.setCurrentIndex(tab.exchange.findData(key.exchange))
    tab.market.setCurrentText(key.symbol)
    tab.timeframe.setCurrentIndex(tab.timeframe.findData(key.timeframe.code))
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start, end = today - timedelta(days=days), today
    for edit, when in ((tab.start, start), (tab.end, end)):
        edit.setDateTime(QtCore.QDateTime.fromMSecsSinceEpoch(int(when.timestamp() * 1000), QtCore.QTimeZone.utc()))
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def make_window(qtbot: QtBot, container: Container) -> MainWindow:
    window = MainWindow(Services(container), first_run_demo=False)
    qtbot.addWidget(keep(window))
    window.show()
    window.show_tab("Data")
    return window


def test_collecting_advances_the_progress_bar_while_the_ui_keeps_processing_events(
        qtbot: QtBot, container: Container, qloop: qasync.QEventLoop) -> None:
    window = make_window(qtbot, container)
    tab = window.data_tab
    ticks: list[int] = []
    timer = QtCore.QTimer()
    timer.timeout.connect(lambda: ticks.append(tab.progress.value()))
    seen: list[int] = []
    tab.progressed.connect(lambda p: seen.append(p.requests))

    async def scenario() -> str:
        choose(tab, KEY, days=2)
        timer.start(5)
        tab.start_collect()
        assert not tab.collect_btn.isEnabled() and tab.cancel_btn.isEnabled()
        (outcome,) = await fired(tab.finished, timeout=120)
        timer.stop()
        await container.aclose()
        return str(outcome)

    assert qloop.run_until_complete(scenario()) == "done"
    assert tab.progress.value() == 1000
    assert seen == sorted(seen) and seen[-1] >= 10  # 2 days of 1m bars at 200 per request
    # The timer kept firing during the collection, and saw the bar part-way, not only before and after.
    assert len(ticks) > 20 and any(0 < v < 1000 for v in ticks)
    assert container.candles.count(KEY) > DAY_MS // 60_000
    assert "Requests" in tab.stats.text() or tab.stats.text()
    assert window.markets.index_of(KEY).isValid()


def test_cancel_stops_cleanly_keeps_what_was_stored_and_collect_resumes_into_the_open_chart(
        qtbot: QtBot, container: Container, qloop: qasync.QEventLoop) -> None:
    window = make_window(qtbot, container)
    tab = window.data_tab

    async def scenario() -> tuple[str, int, int, object]:
        choose(tab, KEY, days=6)
        tab.start_collect()
        while True:  # wait for the first stored chunk, then cancel
            (p,) = await fired(tab.progressed)
            if p.candles > 0:
                break
        qtbot.mouseClick(tab.cancel_btn, QtCore.Qt.MouseButton.LeftButton)
        (outcome,) = await fired(tab.finished)
        partial = container.candles.count(KEY)
        window.refresh_markets()
        assert window.select_series(KEY) and len(window.chart_tab.chart.pyramid) == partial
        tab.start_collect()
        (again,) = await fired(tab.finished, timeout=180)
        await container.aclose()
        return str(outcome), partial, container.candles.count(KEY), again

    outcome, partial, full, again = qloop.run_until_complete(scenario())
    assert outcome == "cancelled" and again == "done"
    assert "Cancelled" in tab.stats.text() or tab.progress.value() == 1000
    assert 0 < partial < full
    assert tab.collect_btn.isEnabled() and not tab.cancel_btn.isEnabled()
    cov = container.candles.coverage(KEY)
    assert cov.holes() == []
    assert len(window.chart_tab.chart.pyramid) == full  # the chart picked up the resumed bars
