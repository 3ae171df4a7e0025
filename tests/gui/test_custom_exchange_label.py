"""Candles imported under an exchange label of the user's own open in the desktop like CSV data, not a crash."""

from __future__ import annotations

from pytestqt.qtbot import QtBot
from qt_async import keep
from stored import store_walk

from app.bootstrap.container import Container
from domain.market import SeriesKey, Timeframe
from presentation.main_window import MainWindow
from presentation.services import Services


def test_a_series_under_a_users_own_exchange_label_opens_in_the_backtests_form_with_file_data_costs(
        qtbot: QtBot, container: Container) -> None:
    key = SeriesKey("mybroker", "GOOG", Timeframe.D1)
    store_walk(container, key, 300)
    window = MainWindow(Services(container), first_run_demo=False)
    qtbot.addWidget(keep(window))
    window.show()
    window.show_tab("Backtests")
    form = window.pages["Backtests"].form
    assert form.set_series(key)
    assert form.costs.cash_label.text() == "Cash"  # no quote currency to count in
    assert form.command().key == key
