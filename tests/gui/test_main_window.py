"""The main window on a temp database: title, status bar, tabs, market list, settings that persist."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

import numpy as np
import qasync
from PyQt6 import QtCore, QtWidgets
from pytestqt.qtbot import QtBot
from qt_async import keep
from stored import store_walk

from app.bootstrap.container import Container
from domain.market import SeriesKey, Timeframe
from presentation.main_window import TABS, MainWindow
from presentation.services import Services
from presentation.settings import app_settings


def open_window(qtbot: QtBot, container: Container) -> MainWindow:
    window = MainWindow(Services(container), first_run_demo=False)
    qtbot.addWidget(keep(window))
    window.show()
    qtbot.waitExposed(window)
    return window


def test_the_main_window_is_titled_quantdesk_and_shows_the_database_path(
        qtbot: QtBot, container: Container, db_path: Path) -> None:
    window = open_window(qtbot, container)
    assert window.windowTitle() == "QuantDesk"
    assert str(db_path) in window.status.db.text()
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == list(TABS)


def test_the_strategies_builder_and_backtests_tabs_are_the_working_tools_not_placeholders(
        qtbot: QtBot, container: Container) -> None:
    from presentation.backtests.tab import BacktestsTab
    from presentation.builder.tab import BuilderTab
    from presentation.strategies.tab import StrategiesTab

    window = open_window(qtbot, container)
    for name, cls in (("Strategies", StrategiesTab), ("Builder", BuilderTab), ("Backtests", BacktestsTab)):
        assert isinstance(window.pages[name], cls)
        assert window.tabs.indexOf(window.pages[name]) == TABS.index(name)


def test_stored_series_appear_under_exchange_and_market_with_their_bar_count(
        qtbot: QtBot, container: Container) -> None:
    key = SeriesKey("demo", "KRW-BTC", Timeframe.M1)
    store_walk(container, key, 1500)
    window = open_window(qtbot, container)
    index = window.markets.index_of(key)
    assert index.isValid()
    assert index.parent().data() == "KRW-BTC" and index.parent().parent().data() == "Demo"
    assert index.siblingAtColumn(1).data() == "1,500"


def test_choosing_a_series_in_the_market_list_draws_it_on_the_chart(qtbot: QtBot, container: Container) -> None:
    key = SeriesKey("demo", "KRW-ETH", Timeframe.M5)
    series = store_walk(container, key, 800)
    window = open_window(qtbot, container)
    with qtbot.waitSignal(window.seriesShown):
        window.tree.setCurrentIndex(window.markets.index_of(key))
    assert window.chart_tab.key == key
    np.testing.assert_array_equal(window.chart_tab.chart.pyramid.ts, series.ts)
    assert "KRW-ETH" in window.chart_tab.title.text() and "&nbsp;O " in window.chart_tab.chart.readout.text()


def test_a_click_reads_the_series_in_a_worker_thread_and_the_newest_click_wins(
        qtbot: QtBot, container: Container, qloop: qasync.QEventLoop) -> None:
    eth, xrp = SeriesKey("demo", "KRW-ETH", Timeframe.M5), SeriesKey("demo", "KRW-XRP", Timeframe.M5)
    store_walk(container, eth, 900)
    xrp_bars = store_walk(container, xrp, 700, start_ms=1_700_500_000_000)
    window = open_window(qtbot, container)
    shown: list[SeriesKey] = []
    window.seriesShown.connect(shown.append)

    async def scenario() -> bool:
        window.tree.setCurrentIndex(window.markets.index_of(eth))
        first = window.loading
        assert first is not None and window.chart_tab.key is None  # the click returned before any drawing
        assert "loading" in window.status.currentMessage()
        window.tree.setCurrentIndex(window.markets.index_of(xrp))  # the user moves on at once
        second = window.loading
        assert second is not None and second is not first
        await asyncio.gather(first, second, return_exceptions=True)
        return first.cancelled()

    assert qloop.run_until_complete(scenario())
    assert shown == [xrp] and window.chart_tab.key == xrp
    np.testing.assert_array_equal(window.chart_tab.chart.pyramid.ts, xrp_bars.ts)
    assert "700 bars" in window.status.currentMessage()


def test_layout_theme_and_last_selection_come_back_after_a_restart(qtbot: QtBot, container: Container) -> None:
    key = SeriesKey("demo", "KRW-BTC", Timeframe.M1)
    store_walk(container, key, 300)
    first = open_window(qtbot, container)
    first.select_series(key)
    first.set_theme("light")
    first.show_tab("Data")
    first.log_dock.hide()
    first.close()
    second = open_window(qtbot, container)
    assert second.theme == "light"
    assert second.tabs.currentWidget() is second.pages["Data"]
    assert second.chart_tab.key == key and second.current_key() == key
    assert second.log_dock.isHidden()


def test_a_later_tab_replaces_its_placeholder_in_place(qtbot: QtBot, container: Container) -> None:
    window = open_window(qtbot, container)
    window.show_tab("Builder")
    builder = QtWidgets.QLabel("builder")
    window.set_page("Builder", builder)
    assert window.tabs.indexOf(builder) == TABS.index("Builder") and window.tabs.currentWidget() is builder
    extra = QtWidgets.QLabel("sweeps")
    window.set_page("Sweeps", extra)
    assert window.tabs.tabText(window.tabs.count() - 1) == "Sweeps"


def test_keyboard_shortcuts_switch_tabs_and_the_theme(qtbot: QtBot, container: Container) -> None:
    window = open_window(qtbot, container)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, QtCore.Qt.Key.Key_5, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is window.pages["Data"]
    qtbot.keyClick(window, QtCore.Qt.Key.Key_1, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is window.pages["Chart"]
    before = window.theme
    qtbot.keyClick(window, QtCore.Qt.Key.Key_T, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert window.theme != before


def test_a_damaged_settings_file_is_ignored(qtbot: QtBot, container: Container) -> None:
    s = app_settings()
    s.setValue("selection/series", "demo:KRW-BTC:7x")
    s.setValue("window/tab", "many")
    s.setValue("window/geometry", "not bytes")
    s.sync()
    window = open_window(qtbot, container)
    assert window.chart_tab.key is None and window.tabs.currentIndex() == 0


def test_the_status_bar_reports_loop_lag_and_memory_every_second(qtbot: QtBot, container: Container) -> None:
    window = open_window(qtbot, container)
    window.status.memory.setText("")
    qtbot.waitUntil(lambda: window.status.memory.text().startswith("Memory:"), timeout=3000)
    assert window.status.memory.text().endswith("MB") and window.status.lag.text().endswith("ms")
    assert window.status.meter.ticks > 0


def test_refreshing_the_market_list_keeps_the_chart_as_the_user_left_it(qtbot: QtBot, container: Container) -> None:
    key = SeriesKey("demo", "KRW-BTC", Timeframe.M1)
    store_walk(container, key, 600)
    window = open_window(qtbot, container)
    window.select_series(key)
    tab = window.chart_tab
    tab.view_tf.setCurrentIndex(tab.view_tf.findData("5m"))
    pyramid = tab.chart.pyramid
    window.refresh_markets()
    assert tab.shown_timeframe() is Timeframe.M5 and tab.chart.pyramid is pyramid
    assert window.current_key() == key


def test_the_engine_backed_tabs_can_be_built_just_after_the_first_paint(qtbot: QtBot, container: Container) -> None:
    window = MainWindow(Services(container), first_run_demo=False, defer_workspaces=True)
    qtbot.addWidget(keep(window))
    window.show()
    for name in ("Strategies", "Builder", "Backtests", "Live"):  # neutral stand-ins until each tab is built
        shown = " ".join(label.text() for label in window.pages[name].findChildren(QtWidgets.QLabel))
        assert shown == f"{name} Loading…"
    qtbot.waitUntil(lambda: window.engines.strategy_work is not None, timeout=60_000)
    # the engines were loaded on a thread of their own, which has finished; the collector is back on
    assert window.engines.loader is not None and window.engines.loader.name == "load-engines"
    assert not window.engines.loader.is_alive() and gc.isenabled()
    assert window.pages["Live"] is window.live_tab
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())][: len(TABS)] == list(TABS)


def test_the_strategy_tabs_are_built_one_per_step_so_no_step_holds_the_ui_for_all_three(
        qtbot: QtBot, container: Container) -> None:
    from presentation.strategies.workspace import StrategyWorkspace

    work = StrategyWorkspace(Services(container), lambda name: None, build_now=False)
    assert not hasattr(work, "list") and work.pages == {}
    assert work.step() is False and hasattr(work, "list") and not hasattr(work, "builder")
    assert work.step() is False and hasattr(work, "builder") and not hasattr(work, "backtests")
    assert work.step() is True and list(work.pages) == ["Strategies", "Builder", "Backtests"]
    assert work.step() is True  # nothing left to build
    for page in work.pages.values():
        qtbot.addWidget(page)
    work.shutdown()



def test_the_charts_indicators_and_view_timeframe_come_back_after_a_restart(
        qtbot: QtBot, container: Container) -> None:
    from presentation.chart.indicators import Applied

    key = SeriesKey("demo", "KRW-BTC", Timeframe.M1)
    store_walk(container, key, 600)
    first = open_window(qtbot, container)
    first.select_series(key)
    first.chart_tab.add_indicator(Applied("ema", (("period", 12.0),)))
    first.chart_tab.add_indicator(Applied("rsi", (("period", 14.0),)))
    first.chart_tab.view_tf.setCurrentIndex(first.chart_tab.view_tf.findData("5m"))
    first.close()
    second = open_window(qtbot, container)
    chart = second.chart_tab
    assert chart.view_tf.currentText() == "5m" and "5m" in chart.title.text()
    assert [a.label for a in chart.applied] == ["EMA(12)", "RSI(14)"]
    assert "EMA(12)" in chart.chart.price.lines and chart.chart.pane("RSI(14)") is not None
    five = container.candles.read(key).resample(Timeframe.M5)  # 600 minutes seen as 5-minute bars
    assert 120 <= len(chart.chart.pyramid) == len(five) <= 121


def test_damaged_saved_indicators_are_ignored() -> None:
    from presentation.window.state import indicators

    assert indicators('[["ema", [["period", 12]]]]')[0].label == "EMA(12)"
    assert indicators("not json") == [] and indicators(None) == [] and indicators("[[1]]") == []


def test_the_markets_tree_counts_bars_stored_when_a_paper_session_starts(qtbot: QtBot, container: Container) -> None:
    key = SeriesKey("demo", "KRW-ETH", Timeframe.M1)
    store_walk(container, key, 300)
    window = open_window(qtbot, container)
    assert window.markets.index_of(key).siblingAtColumn(1).data() == "300"
    store_walk(container, key, 900)  # what a starting session's history catch-up writes
    window.live_tab.sessionStarted.emit("eth")
    assert window.markets.index_of(key).siblingAtColumn(1).data() == "900"


def test_with_every_tab_built_the_window_fits_a_1440_by_900_screen(qtbot: QtBot, container: Container) -> None:
    """The Backtests form grew futures rows; its column once made the window's minimum 937 px tall, so on a
    1440 x 900 screen the status bar and the run buttons fell off the bottom."""
    window = open_window(qtbot, container)
    window.ensure_workspaces()
    need = window.minimumSizeHint()
    assert need.width() <= 1440 and need.height() <= 880  # room for a window manager's title bar
    window.resize(1440, 900)
    window.show_tab("Backtests")
    qtbot.wait(50)
    assert window.height() == 900
    # a column taller than the room (a large font, a tall log dock) scrolls inside the tab instead
    scroll = window.pages["Backtests"].left_scroll
    assert scroll.widget().height() >= scroll.widget().minimumSizeHint().height()  # never squeezed
