"""First start on an empty database: the Demo exchange runs in-process and the chart fills with real candles."""

from __future__ import annotations

import qasync
from pytestqt.qtbot import QtBot
from qt_async import fired, keep
from stored import store_walk

from app.bootstrap.container import Container
from domain.market import SeriesKey, Timeframe
from presentation.main_window import MainWindow
from presentation.services import Services


def test_an_empty_database_is_seeded_from_the_demo_exchange_and_the_chart_shows_it(
        qtbot: QtBot, container: Container, qloop: qasync.QEventLoop) -> None:
    window = MainWindow(Services(container))
    qtbot.addWidget(keep(window))
    window.show()

    async def scenario() -> str:
        window.start()
        (outcome,) = await fired(window.demoFinished, timeout=180)
        if window.loading is not None:  # the chart reads the seeded series in a worker thread
            await window.loading
        return str(outcome)

    try:
        assert qloop.run_until_complete(scenario()) == "done"
    finally:
        qloop.run_until_complete(window.shutdown())
    stored = {(s.key.exchange, s.key.symbol, s.key.timeframe) for s in container.candles.series()}
    assert stored == {("demo", "KRW-BTC", Timeframe.M1), ("demo", "KRW-ETH", Timeframe.M1)}
    chart = window.chart_tab.chart
    assert window.chart_tab.key is not None and window.chart_tab.key.exchange == "demo"
    assert len(chart.pyramid) == container.candles.count(window.chart_tab.key) > 3 * 1000
    assert window.chart_tab.stack.currentWidget() is chart
    assert "Demo: 127.0.0.1:" in window.status.exchange.text()


def test_a_database_with_data_is_left_alone_but_demo_still_runs(
        qtbot: QtBot, container: Container, qloop: qasync.QEventLoop) -> None:
    key = SeriesKey("csv", "GOOG", Timeframe.D1)
    store_walk(container, key, 200)
    window = MainWindow(Services(container))
    qtbot.addWidget(keep(window))

    async def scenario() -> str:
        window.start()
        (outcome,) = await fired(window.demoFinished, timeout=60)
        if window.loading is not None:  # the chart reads the stored series in a worker thread
            await window.loading
        await window.shutdown()
        return str(outcome)

    assert qloop.run_until_complete(scenario()) == "skipped"
    assert [s.key for s in container.candles.series()] == [key]
    assert window.chart_tab.key == key


def test_as_the_app_starts_the_engine_tabs_and_the_demo_exchange_wait_for_the_engine_loader(
        qtbot: QtBot, container: Container, qloop: qasync.QEventLoop) -> None:
    """start() used to ask for the Live tab (to resume sessions): that built every engine tab on the UI thread
    before the first paint, and the Demo exchange imported aiohttp there just after it (a 1 s freeze)."""
    window = MainWindow(Services(container), first_run_demo=False, defer_workspaces=True)  # as the app does
    qtbot.addWidget(keep(window))
    window.show()
    built_at_start: list[bool] = []

    async def scenario() -> str:
        window.start()
        built_at_start.append(window.engines.strategy_work is not None or window.engines.live_tab is not None)
        (outcome,) = await fired(window.demoFinished, timeout=120)
        await window.shutdown()
        return str(outcome)

    assert qloop.run_until_complete(scenario()) == "skipped"
    assert built_at_start == [False]
    loader = window.engines.loader
    assert loader is not None and not loader.is_alive()  # the Demo started after the loader
    assert window.engines.live_tab is not None  # built once the engines loaded, and sessions resumed from there


def test_engine_tabs_built_before_the_loader_ran_still_let_the_demo_exchange_start(
        qtbot: QtBot, container: Container, qloop: qasync.QEventLoop) -> None:
    """A menu action may need the engine tabs before the loader thread ran (it then never runs): the Demo
    exchange, which waits for the engines, must start all the same."""
    windows: list[MainWindow] = []

    async def scenario() -> str:
        # Built, started and given its engine tabs in one step of the loop: on a loaded machine, a window built
        # before the loop ran could reach its loader's fallback timer first.
        window = keep(MainWindow(Services(container), first_run_demo=False, defer_workspaces=True))
        qtbot.addWidget(window)
        windows.append(window)
        window.start()
        window.ensure_workspaces()  # built here, on the UI thread, before any paint
        (outcome,) = await fired(window.demoFinished, timeout=60)
        await window.shutdown()
        return str(outcome)

    assert qloop.run_until_complete(scenario()) == "skipped"
    assert windows[0].engines.loader is None  # the loader never ran


def test_a_later_start_collects_the_stored_demo_series_up_to_now_and_the_chart_shows_the_newest_bar(
        qtbot: QtBot, container: Container, qloop: qasync.QEventLoop) -> None:
    import time

    from infrastructure.simulator import simulator_candles

    key = SeriesKey("demo", "KRW-BTC", Timeframe.M1)
    minute = Timeframe.M1.ms
    last_run = Timeframe.M1.floor(int(time.time() * 1000)) - 180 * minute  # the last run ended 3 hours ago
    seeded = (last_run - 120 * minute, last_run)  # stored as a collection stores it: bars and the range asked
    last_runs = simulator_candles("demo", "KRW-BTC", Timeframe.M1, *seeded)
    container.candles.upsert(key, last_runs, seeded)
    other = SeriesKey("csv", "GOOG", Timeframe.D1)
    store_walk(container, other, 50)
    window = MainWindow(Services(container))
    qtbot.addWidget(keep(window))
    window.show()

    async def scenario() -> str:
        window.start()
        (outcome,) = await fired(window.demoFinished, timeout=120)
        window.show_series(key)
        if window.loading is not None:
            await window.loading
        await window.shutdown()
        return str(outcome)

    assert qloop.run_until_complete(scenario()) == "done"
    now = Timeframe.M1.floor(int(time.time() * 1000))
    [demo] = [s for s in container.candles.series() if s.key == key]
    assert demo.first_ts == int(last_runs.ts[0]) and demo.last_ts >= now - 3 * minute  # current again
    assert container.candles.coverage(key).holes() == []  # the three hours between are filled
    assert container.candles.count(other) == 50  # other exchanges' series are left as they were
    assert int(window.chart_tab.chart.pyramid.ts[-1]) == demo.last_ts
