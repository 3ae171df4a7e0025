"""The strategy tabs inside the main window: wired to each other, themed with it, and guarding unsaved work."""

from __future__ import annotations

from builder_clicks import choose, type_number
from pytestqt.qtbot import QtBot
from stored import store_walk

from app.bootstrap.container import Container
from presentation.chart.panes import LIGHT
from presentation.main_window import MainWindow
from presentation.services import Services


def open_window(qtbot: QtBot, container: Container) -> MainWindow:
    window = MainWindow(Services(container), first_run_demo=False)
    qtbot.addWidget(window)
    window.show()
    return window


def test_the_list_opens_a_strategy_in_the_builder_and_sends_it_to_the_backtests_tab(
        qtbot: QtBot, container: Container) -> None:
    window = open_window(qtbot, container)
    work = window.strategy_work
    record = container.strategies.get_by_name("RSI mean reversion")
    assert record is not None
    work.list.openRequested.emit(record.id)
    assert window.tabs.currentWidget() is work.builder and work.builder.strategy_id == record.id
    work.list.backtestRequested.emit(record.id)
    assert window.tabs.currentWidget() is work.backtests
    assert work.backtests.form.strategy.currentData() == record.id


def test_saving_in_the_builder_refreshes_and_selects_the_row_in_the_list(qtbot: QtBot, container: Container) -> None:
    window = open_window(qtbot, container)
    work = window.strategy_work
    before = work.list.model.rowCount()
    work.new_in_builder()
    work.builder.name.selectAll()
    qtbot.keyClicks(work.builder.name, "Fresh idea")
    with qtbot.waitSignal(work.builder.saved) as saved:
        work.builder.act_save.trigger()
    assert work.list.model.rowCount() == before + 1
    assert work.list.selected_ids() == [saved.args[0]]
    assert work.backtests.form.strategy.currentData() == saved.args[0]


def test_closing_the_window_with_unsaved_builder_changes_asks_and_cancel_keeps_it_open(
        qtbot: QtBot, container: Container) -> None:
    window = open_window(qtbot, container)
    builder = window.strategy_work.builder
    record = container.strategies.get_by_name("SMA 10/20 cross")
    assert record is not None and builder.open_strategy(record.id)
    choose(qtbot, builder.fields["risk.take_profit"], "one")  # one target…
    type_number(qtbot, builder.fields["risk.take_profit.pct"], "5")  # …of 5 %
    asked: list[str] = []
    builder.ask_unsaved = lambda title, text: asked.append(text) or "cancel"
    assert not window.close() and window.isVisible() and asked
    builder.ask_unsaved = lambda title, text: "discard"
    assert window.close()


def test_the_strategy_charts_follow_the_light_theme(qtbot: QtBot, container: Container) -> None:
    window = open_window(qtbot, container)
    window.set_theme("light")
    work = window.strategy_work
    assert work.builder.preview.chart.theme == LIGHT and work.backtests.chart.theme == LIGHT
    assert window.live_tab.chart.theme == LIGHT  # the Live chart too (it stayed dark before)


def test_tabs_built_after_the_first_paint_take_the_restored_light_theme(qtbot: QtBot, container: Container) -> None:
    from presentation.main_window import MainWindow
    from presentation.services import Services

    window = MainWindow(Services(container), first_run_demo=False, defer_workspaces=True)
    qtbot.addWidget(window)
    window.set_theme("light")  # as a saved theme is restored, before the engine tabs exist
    window.show()
    qtbot.waitUntil(lambda: window.engines.strategy_work is not None, timeout=60_000)
    work = window.strategy_work
    assert work.builder.preview.chart.theme == LIGHT and work.backtests.chart.theme == LIGHT
    assert window.live_tab.chart.theme == LIGHT
    window.set_theme("dark")


def test_the_market_picked_in_the_window_becomes_the_preview_backtest_and_live_market(
        qtbot: QtBot, container: Container) -> None:
    from domain.market import SeriesKey, Timeframe

    keys = [SeriesKey("demo", "KRW-BTC", Timeframe.M1), SeriesKey("demo", "KRW-ETH", Timeframe.M5)]
    for key in keys:
        store_walk(container, key, 500)
    window = open_window(qtbot, container)
    work = window.strategy_work
    window.select_series(keys[1])
    assert work.backtests.form.key() == keys[1]
    live = window.live_tab  # and the market a new paper session would trade
    assert (live.market.symbol(), live.timeframe.currentText()) == ("KRW-ETH", "5m")
    window.show_tab("Builder")
    assert work.builder.preview.key == keys[1]
