"""Collecting from the Demo exchange in the Data tab: progress, a responsive UI, cancel and resume."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import qasync
from PyQt6 import QtCore
from pytestqt.qtbot import QtBot
from qt_async import fired, keep

from app.bootstrap.container import Container
from domain.market import DAY_MS, SeriesKey, Timeframe
from presentation.chart.axis import local
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
    heights: set[int] = set()
    timer.timeout.connect(lambda: (ticks.append(tab.progress.value()), heights.add(tab.stats.height())))
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
    assert len(heights) == 1  # the progress line never wrapped onto a second line, so nothing below it jumped
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
        if window.loading is not None:  # the chart reads the grown series off the UI thread
            await window.loading
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


def test_collecting_older_history_for_the_charted_series_keeps_candles_in_view_and_the_readout_on_the_axis(
        qtbot: QtBot, container: Container, qloop: qasync.QEventLoop) -> None:
    window = make_window(qtbot, container)
    tab, chart = window.data_tab, window.chart_tab.chart

    async def scenario() -> None:
        choose(tab, KEY, days=1)
        tab.start_collect()
        await fired(tab.finished, timeout=120)
        assert window.select_series(KEY)
        window.show_tab("Chart")
        first_day = len(chart.pyramid)
        choose(tab, KEY, days=4)  # then three older days for the series on the chart
        tab.start_collect()
        await fired(tab.finished, timeout=180)
        while window.loading is not None:
            await window.loading
        assert len(chart.pyramid) == container.candles.count(KEY) > 3 * first_day
        await container.aclose()

    qloop.run_until_complete(scenario())
    (x0, x1), (y0, y1) = chart.price.vb.viewRange()
    n = len(chart.pyramid)
    assert 0 <= x0 < n - 1 < x1  # still on the latest bars, not on the older ones now in front
    a, b = max(0, int(x0)), min(n - 1, int(x1))
    lows, highs = chart.pyramid.low_high(0, a, b + 1) or (np.nan, np.nan)
    assert y0 <= lows and highs <= y1 and (y1 - y0) < 1.5 * (highs - lows) + 1e-9  # fitted to what is in view
    shown = local(int(chart.pyramid.ts[n - 1])).strftime("%Y-%m-%d %H:%M")
    assert chart.readout.text().startswith(shown)  # the readout names the last bar the axis shows
    assert chart.visible_times()[1] == int(chart.pyramid.ts[n - 1])
    row = window.markets.index_of(KEY)
    assert f"{n:,}" == row.siblingAtColumn(1).data()  # the Markets tree counts the new bars
