"""Click-through: collect Demo candles, build "SMA 10/20 cross" in the Builder, save it, find it in the list,
backtest it from the Backtests tab, and get the same headline numbers as `quantdesk backtest --json`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import qasync
from builder_clicks import build_sma_cross
from PyQt6 import QtCore
from pytestqt.qtbot import QtBot
from qt_async import fired

from app.bootstrap.cli import main as cli_main
from app.bootstrap.container import Container
from domain.market import SeriesKey, Timeframe
from presentation.backtests.tab import BacktestsTab
from presentation.builder.tab import BuilderTab
from presentation.main_window import MainWindow
from presentation.models.backtest_results import VALUE_ROLE
from presentation.models.strategy_list import ID_ROLE
from presentation.services import Services
from presentation.strategies.tab import StrategiesTab

KEY = SeriesKey("demo", "KRW-BTC", Timeframe.M1)
NAME = "SMA 10/20 cross"


def click(qtbot: QtBot, widget: object) -> None:
    qtbot.mouseClick(widget, QtCore.Qt.MouseButton.LeftButton)  # type: ignore[arg-type]


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()


def collect_three_days(qtbot: QtBot, window: MainWindow) -> None:
    tab = window.data_tab
    window.show_tab("Data")
    tab.exchange.setCurrentIndex(tab.exchange.findData("demo"))
    tab.market.setCurrentText(KEY.symbol)
    tab.timeframe.setCurrentIndex(tab.timeframe.findData("1m"))
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for edit, when in ((tab.start, today - timedelta(days=3)), (tab.end, today)):
        edit.setDateTime(QtCore.QDateTime.fromMSecsSinceEpoch(int(when.timestamp() * 1000), QtCore.QTimeZone.utc()))
    click(qtbot, tab.collect_btn)


def delete_the_sample_of_the_same_name(qtbot: QtBot, window: MainWindow) -> None:
    """A fresh database holds a bundled sample with this name; the user deletes it first."""
    strategies = window.pages["Strategies"]
    assert isinstance(strategies, StrategiesTab)
    window.show_tab("Strategies")
    qtbot.keyClicks(strategies.search, NAME)
    qtbot.waitUntil(lambda: strategies.model.rowCount() == 1)
    strategies.view.selectRow(0)
    strategies.confirm = lambda title, text: True  # the user answers Yes
    strategies._menu(strategies.view.visualRect(strategies.model.index(0, 0)).center())
    next(a for a in strategies.menu.actions() if a.text() == "Delete…").trigger()
    strategies.menu.close()
    assert strategies.model.rowCount() == 0


def test_collect_build_save_list_and_backtest_match_the_cli(
        qtbot: QtBot, db_path: Path, qloop: qasync.QEventLoop, capsys: pytest.CaptureFixture[str]) -> None:
    container = Container.open(db_path)
    window = MainWindow(Services(container), first_run_demo=False)
    qtbot.addWidget(window)
    window.show()
    builder, backtests, strategies = window.pages["Builder"], window.pages["Backtests"], window.pages["Strategies"]
    assert isinstance(builder, BuilderTab) and isinstance(backtests, BacktestsTab)
    assert isinstance(strategies, StrategiesTab)

    async def scenario() -> list[str]:
        outcomes = []
        collect_three_days(qtbot, window)
        outcomes.append((await fired(window.data_tab.finished, timeout=180))[0])
        delete_the_sample_of_the_same_name(qtbot, window)
        window.show_tab("Builder")
        build_sma_cross(qtbot, builder, NAME)
        click(qtbot, builder.toolbar.widgetForAction(builder.act_save))
        window.show_tab("Strategies")
        strategies.search.clear()
        qtbot.keyClicks(strategies.search, "SMA 10/20")
        qtbot.waitUntil(lambda: strategies.model.rowCount() == 1)
        assert strategies.model.index(0, 0).data() == NAME
        strategies.view.selectRow(0)
        strategies._menu(strategies.view.visualRect(strategies.model.index(0, 0)).center())
        next(a for a in strategies.menu.actions() if a.text() == "Run backtest…").trigger()
        strategies.menu.close()
        assert window.tabs.currentWidget() is backtests
        assert backtests.form.strategy.currentData() == strategies.model.index(0, 0).data(ID_ROLE)
        assert backtests.form.set_series(KEY)
        click(qtbot, backtests.run_btn)
        outcomes.append((await fired(backtests.finished, timeout=180))[0])
        await container.aclose()
        return outcomes

    assert qloop.run_until_complete(scenario()) == ["done", "done"]
    shown = {key: backtests.stats.index(row, 1).data(VALUE_ROLE) for row, key in enumerate(backtests.stats.keys())}
    text = {key: backtests.stats.index(row, 1).data() for row, key in enumerate(backtests.stats.keys())}

    form = backtests.form
    start, end = form.start.dateTime().toMSecsSinceEpoch(), form.end.dateTime().toMSecsSinceEpoch()
    capsys.readouterr()
    code = cli_main(["--db", str(db_path), "backtest", "--strategy", NAME, "--exchange", KEY.exchange,
                     "--market", KEY.symbol, "--timeframe", "1m", "--start", iso(start), "--end", iso(end),
                     "--cash", f"{form.cash.value():g}", "--commission", f"{form.commission.value() / 100:g}",
                     "--slippage", f"{form.slippage.value() / 100:g}", "--json"])
    assert code == 0
    cli = json.loads(capsys.readouterr().out)["stats"]
    assert shown["# Trades"] == cli["# Trades"] > 0
    assert shown["Return [%]"] == cli["Return [%]"]
    assert text["# Trades"] == f"{cli['# Trades']:,}"
    backtests.shutdown()
    container.backtests.close()
    container.close()
