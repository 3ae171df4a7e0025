"""The Backtests tab: runs in the worker process with progress and cancel; results, trades, history, compare."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from PyQt6 import QtCore, QtGui, QtWidgets
from pytestqt.qtbot import QtBot
from stored import store_walk

from app.bootstrap.container import Container
from domain.market import SeriesKey, Timeframe
from presentation.backtests.tab import BacktestsTab
from presentation.models.backtest_results import RUN_COLUMNS, TRADE_COLUMNS, VALUE_ROLE
from presentation.services import Services

KEY = SeriesKey("demo", "KRW-BTC", Timeframe.M1)
RUN_TIMEOUT = 120_000


@pytest.fixture
def tab(qtbot: QtBot, container: Container) -> Iterator[BacktestsTab]:
    store_walk(container, KEY, 3_000)
    widget = BacktestsTab(container.backtests, container.strategies, Services(container))
    qtbot.addWidget(widget)
    widget.resize(1400, 850)
    widget.show()
    record = container.strategies.get_by_name("SMA 10/20 cross")
    assert record is not None and widget.form.set_strategy(record.id) and widget.form.set_series(KEY)
    yield widget
    widget.shutdown()
    container.backtests.close()


def run(qtbot: QtBot, tab: BacktestsTab) -> str:
    with qtbot.waitSignal(tab.finished, timeout=RUN_TIMEOUT) as done:
        qtbot.mouseClick(tab.run_btn, QtCore.Qt.MouseButton.LeftButton)
    return str(done.args[0])


def stat(tab: BacktestsTab, key: str, run: int = 0) -> object:
    rows = tab.stats.keys()
    return tab.stats.index(rows.index(key), 1 + run).data(VALUE_ROLE)


def test_a_run_matches_the_same_backtest_run_in_process_while_the_ui_keeps_ticking(
        qtbot: QtBot, tab: BacktestsTab, container: Container) -> None:
    ticks: list[int] = []
    timer = QtCore.QTimer(tab, interval=10)  # dies with the tab even if the test fails early
    timer.timeout.connect(lambda: ticks.append(tab.progress.value()))
    timer.start()
    assert run(qtbot, tab) == "done"
    timer.stop()
    assert len(ticks) > 10 and tab.progress.value() == 1000
    expected = container.backtests.run_here(tab.form.command()).result.stats
    assert stat(tab, "# Trades") == expected["# Trades"] > 0
    assert stat(tab, "Return [%]") == pytest.approx(expected["Return [%]"], rel=1e-12)
    assert tab.trades.rowCount() == expected["# Trades"]
    assert "Run #" in tab.message.text() and tab.run_btn.isEnabled() and not tab.cancel_btn.isEnabled()
    assert tab.chart.pane("Equity") is not None and tab.chart.pane("Drawdown %") is not None


def test_clicking_a_trade_frames_it_on_the_chart_with_its_markers(qtbot: QtBot, tab: BacktestsTab) -> None:
    assert run(qtbot, tab) == "done"
    row = tab.trades.rowCount() // 2
    index = tab.trades.index(row, 0)
    tab.trades_view.scrollTo(index)
    qtbot.mouseClick(tab.trades_view.viewport(), QtCore.Qt.MouseButton.LeftButton,
                     pos=tab.trades_view.visualRect(index).center())
    t = tab.trades.trades
    ts = tab.chart.pyramid.ts
    entry_bar, exit_bar = (int(np.searchsorted(ts, x)) for x in (t.entry_time[row], t.exit_time[row]))
    (x0, x1), _ = tab.chart.price.vb.viewRange()
    assert x0 < entry_bar <= exit_bar < x1 and x1 - x0 < len(ts) / 2
    assert len(tab.chart.markers.data) == 2 * tab.trades.rowCount()


def test_two_runs_compare_side_by_side_and_a_run_can_be_deleted(qtbot: QtBot, tab: BacktestsTab) -> None:
    assert run(qtbot, tab) == "done"
    tab.form.commission.setValue(0.0)
    assert run(qtbot, tab) == "done"
    assert tab.history.rowCount() == 2
    tab.history_view.selectAll()
    assert tab.compare_selected()
    assert tab.stats.columnCount() == 3
    assert stat(tab, "Commissions [$]", 0) == 0 and stat(tab, "Commissions [$]", 1) > 0  # newest first
    equity = tab.chart.pane("Equity")
    assert equity is not None and sorted(equity.lines) == ["Run #1", "Run #2"]  # both curves
    assert not np.array_equal(*(equity.lines[k].yData for k in ("Run #1", "Run #2")))
    names = tab.stats_view
    assert names.columnWidth(0) >= names.sizeHintForColumn(0)  # statistic names are not clipped
    tab.confirm = lambda title, text: True
    tab.history_view.clearSelection()
    tab.history_view.selectRow(0)
    assert tab.delete_selected() == 1 and tab.history.rowCount() == 1


def test_the_fill_options_reach_the_engine(qtbot: QtBot, tab: BacktestsTab) -> None:
    tab.form.on_close.setCurrentIndex(tab.form.on_close.findData(True))
    tab.form.finalize.setCurrentIndex(tab.form.finalize.findData(True))
    settings = tab.form.command().settings
    assert settings.trade_on_close and settings.finalize_trades and settings.commission == 0.0005  # Demo: Upbit's fee
    assert run(qtbot, tab) == "done"
    assert tab.trades.trades.reasons()[-1] == "end"


def test_a_range_without_candles_is_reported_in_the_panel(qtbot: QtBot, tab: BacktestsTab) -> None:
    tab.form.start.setDateTime(QtCore.QDateTime(QtCore.QDate(2001, 1, 1), QtCore.QTime(0, 0), QtCore.QTimeZone.utc()))
    tab.form.end.setDateTime(QtCore.QDateTime(QtCore.QDate(2001, 2, 1), QtCore.QTime(0, 0), QtCore.QTimeZone.utc()))
    assert run(qtbot, tab) == "failed"
    assert "no candles stored" in tab.message.text() and tab.run_btn.isEnabled()


def test_cancel_stops_the_run_and_stores_nothing(qtbot: QtBot, tab: BacktestsTab, container: Container) -> None:
    with qtbot.waitSignal(tab.finished, timeout=RUN_TIMEOUT) as done:
        tab.run_btn.click()
        tab.cancel_btn.click()
    assert done.args == ["cancelled"] and "cancelled" in tab.message.text()
    assert container.backtests.list() == []


def test_result_models_pass_the_qt_model_tester(qtbot: QtBot, tab: BacktestsTab, qtmodeltester: object) -> None:
    assert run(qtbot, tab) == "done"
    for model in (tab.stats, tab.trades, tab.history):
        qtmodeltester.check(model)  # type: ignore[attr-defined]


def test_the_costs_default_to_the_exchange_in_percent_and_cash_in_the_quote_currency(
        qtbot: QtBot, tab: BacktestsTab) -> None:
    form = tab.form
    assert form.commission.text() == "0.050 %" and form.slippage.text() == "0.000 %"
    assert form.costs.cash_label.text() == "Cash (KRW)" and form.cash.value() == 10_000_000
    assert form.command().settings.commission == 0.0005
    assert run(qtbot, tab) == "done"
    labels = [tab.stats.index(r, 0).data() for r in range(tab.stats.rowCount())]
    assert "Equity Final [KRW]" in labels and not any("[$]" in label for label in labels)


def test_csv_data_starts_from_the_last_fee_used_on_csv_data(qtbot: QtBot, container: Container) -> None:
    csv_key = SeriesKey("csv", "MYDATA", Timeframe.M1)
    store_walk(container, csv_key, 500)
    store_walk(container, KEY, 500)
    first = BacktestsTab(container.backtests, container.strategies, Services(container))
    qtbot.addWidget(first)
    first.show()
    assert first.form.set_series(csv_key)
    first.form.commission.setFocus()
    qtbot.keyClick(first.form.commission, QtCore.Qt.Key.Key_A, QtCore.Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(first.form.commission, "0.125")
    assert first.form.command().settings.commission == 0.00125
    assert first.form.costs.cash_label.text() == "Cash"
    second = BacktestsTab(container.backtests, container.strategies, Services(container))
    qtbot.addWidget(second)
    assert second.form.set_series(KEY) and second.form.commission.value() == 0.05
    assert second.form.set_series(csv_key) and second.form.commission.text() == "0.125 %"


def test_an_underflowed_volatility_shows_a_dash_with_the_raw_value_in_its_tooltip(tab: BacktestsTab) -> None:
    tab.stats.set_runs([("Run #1", {"Return [%]": -95.0, "Volatility (Ann.) [%]": 3e-9, "Equity Final [$]": 5.0})],
                       ("upbit", "KRW-BTC"))
    rows = [tab.stats.index(r, 0).data() for r in range(tab.stats.rowCount())]
    vol = tab.stats.index(rows.index("Volatility (Ann.) [%]"), 1)
    assert vol.data() == "—" and "3e-09" in vol.data(QtCore.Qt.ItemDataRole.ToolTipRole)
    assert "Equity Final [KRW]" in rows


def test_history_and_header_say_what_produced_a_run_and_load_these_settings_restores_them(
        qtbot: QtBot, tab: BacktestsTab) -> None:
    form = tab.form
    form.commission.setValue(0.1)
    form.slippage.setValue(0.02)
    form.on_close.setCurrentIndex(form.on_close.findData(True))
    assert run(qtbot, tab) == "done"
    header = tab.view.title.text()
    for part in ("SMA 10/20 cross", "demo:KRW-BTC 1m", "→", "cash 10,000,000 KRW", "fee 0.1 %", "slip 0.02 %",
                 "on the signal bar's close"):
        assert part in header
    costs, params = (tab.history.index(0, RUN_COLUMNS.index(c)).data() for c in ("Costs", "Parameters"))
    assert costs == "fee 0.1 %, slip 0.02 %" and params == "as saved"
    assert "fee 0.1 %" in tab.history.index(0, 0).data(QtCore.Qt.ItemDataRole.ToolTipRole)
    expected = form.command()
    form.commission.setValue(0.3)
    form.cash.setValue(5_000)
    form.on_close.setCurrentIndex(form.on_close.findData(False))
    form.start.setDateTime(form.start.dateTime().addDays(1))
    tab.history_view.selectRow(0)
    qtbot.mouseClick(tab.load_btn, QtCore.Qt.MouseButton.LeftButton)
    assert form.commission.text() == "0.100 %" and form.cash.text() == "10,000,000"
    assert form.on_close.currentText() == "signal bar's close" and "loaded" in tab.message.text()
    again = form.command()
    assert (again.settings, again.start_ms, again.end_ms, again.key) == \
        (expected.settings, expected.start_ms, expected.end_ms, expected.key)


def test_a_second_run_replaces_the_first_runs_message(qtbot: QtBot, tab: BacktestsTab) -> None:
    assert run(qtbot, tab) == "done"
    first = tab.message.text()
    assert run(qtbot, tab) == "done"
    assert tab.message.text() != first and "Run #2 stored" in tab.message.text() and "#1" not in tab.message.text()


def test_the_progress_bar_moves_through_the_stages_the_run_reports(qtbot: QtBot, tab: BacktestsTab) -> None:
    seen: list[tuple[int, str]] = []
    timer = QtCore.QTimer(tab, interval=5)
    timer.timeout.connect(lambda: seen.append((tab.progress.value(), tab.progress.text())))
    shown: list[str] = []  # every stage the bar is given: saving a run can take less than the 5 ms between samples
    set_format = tab.progress.setFormat
    tab.progress.setFormat = lambda text: (shown.append(text), set_format(text))[1]  # type: ignore[method-assign]
    timer.start()
    assert run(qtbot, tab) == "done"
    timer.stop()
    seen.append((tab.progress.value(), tab.progress.text()))  # where it ended (the run may end between samples)
    values = [v for v, _ in seen]
    assert values == sorted(values) and values[-1] == 1000  # never goes back
    stages = {text.split(" …")[0] for text in shown if " …" in text}
    assert {"Starting", "Signals", "Simulating", "Saving"} <= stages
    assert len({v for v in values if 0 < v < 1000}) >= 4  # it moves, rather than jumping 50 % -> 100 %


def test_at_1440_by_900_statistics_and_the_trades_pnl_are_visible_without_scrolling_sideways(
        qtbot: QtBot, container: Container) -> None:
    store_walk(container, KEY, 3_000)
    tab = BacktestsTab(container.backtests, container.strategies, Services(container))
    qtbot.addWidget(tab)
    tab.resize(1080, 700)  # what the tab gets in a 1440 x 900 window beside the Markets dock, above the log
    tab.show()
    record = container.strategies.get_by_name("SMA 10/20 cross")
    assert record is not None and tab.form.set_strategy(record.id) and tab.form.set_series(KEY)
    try:
        assert run(qtbot, tab) == "done"
        qtbot.wait(50)
        stats, trades = tab.stats_view, tab.trades_view
        for col in range(tab.stats.columnCount()):
            assert stats.columnWidth(col) >= stats.sizeHintForColumn(col), col
        last = tab.stats.columnCount() - 1
        assert stats.columnViewportPosition(last) + stats.columnWidth(last) <= stats.viewport().width() + 1
        pnl = TRADE_COLUMNS.index("P&L")
        for col in range(pnl + 2):
            assert trades.columnWidth(col) >= trades.sizeHintForColumn(col), TRADE_COLUMNS[col]
        right = trades.columnViewportPosition(pnl + 1) + trades.columnWidth(pnl + 1)
        assert right <= trades.viewport().width()  # P&L and Return % in view with the scroll bar at its start
        assert trades.horizontalScrollBar().value() == 0
        for button in tab.findChildren(QtWidgets.QPushButton):  # every label whole ("ompare tw" was seen)
            if button.isVisible():
                assert button.fontMetrics().horizontalAdvance(button.text()) <= button.contentsRect().width(), \
                    button.text()
    finally:
        tab.shutdown()
        container.backtests.close()


def test_with_a_wider_font_the_statistics_and_the_trades_pnl_still_fit(qtbot: QtBot, container: Container) -> None:
    """Fonts differ between machines (a fresh CI machine drew names ~10 % wider than here): the layout follows."""
    app = QtWidgets.QApplication.instance()
    assert isinstance(app, QtWidgets.QApplication)
    old = app.font()
    app.setFont(QtGui.QFont("DejaVu Sans", 11))  # ~12 % wider than the offscreen default
    try:
        test_at_1440_by_900_statistics_and_the_trades_pnl_are_visible_without_scrolling_sideways(qtbot, container)
    finally:
        app.setFont(old)
