"""Live tab: a paper session on the simulator updates the chart, tables and Monitor; models are valid Qt models."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

import pytest
import qasync
from PyQt6 import QtCore, QtWidgets
from pytestqt.modeltest import ModelTester

from app.bootstrap.container import Container
from app.bootstrap.live import build_live_engine
from app.live.session import SessionSpec
from domain.market import SeriesKey, Timeframe
from infrastructure.exchanges import ExchangeGateways
from infrastructure.simulator.server import SimulatorServer
from presentation.live.models import FillsModel, OrdersModel, SessionsModel
from presentation.live.tab import LiveTab
from presentation.services import Services
from presentation.theme import apply_theme

sys.path.insert(0, str(Path(__file__).parents[1] / "integration"))
from live_helpers import SimClock, always_long, fast_config  # noqa: E402


class _Services:
    """The Live tab's services, with the Demo exchange being the test's own simulator."""

    def __init__(self, container: Container, demo_url: str = "") -> None:
        self.container = container
        self.strategies = container.strategies
        self.demo_url = demo_url

    async def start_demo(self) -> str:
        return self.demo_url


class _NoStore:
    """Services with an empty strategy store (layout tests need no database)."""

    class strategies:  # noqa: N801 - stands in for the StrategyService attribute
        revision = 0

        @staticmethod
        def page(limit: int) -> Any:
            return type("Page", (), {"items": ()})()


def snapshot(scale: int) -> dict[str, Any]:
    """A metrics snapshot whose figures grow with `scale`."""
    lat = {"count": 12 * scale, "p50_us": 1.5 * scale, "p99_us": 41.25 * scale, "max_us": 250.0 * scale}
    return {"tick_to_signal": lat, "bar_to_signal": lat, "gc_pause": lat, "loop_lag": lat,
            "queues": {q: {"depth": scale, "high_water": scale, "published": 99 * scale, "dropped": scale,
                           "waits": scale} for q in ("data", "signals", "orders")},
            "feeds": {"binance:BTCUSDT": {"connected": True, "messages": 999 * scale, "rejected": scale,
                                          "reconnects": scale, "backfilled_bars": scale}}}


async def _until(cond: Any, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


def test_a_paper_session_started_from_the_live_tab_streams_bars_fills_and_metrics(
        qloop: qasync.QEventLoop, container: Container, tmp_path: Path, qtmodeltester: ModelTester,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="quantdesk.live")
    config = fast_config()
    state: dict[str, Any] = {}

    async def scenario() -> None:
        sim = SimulatorServer(config)
        await sim.start()
        gateways = ExchangeGateways({"demo": sim.url})
        stack = build_live_engine(gateways, {"demo": sim.url}, SimClock(config.clock), sql_engine=container.engine,
                                  log_dir=tmp_path / "logs", flush_grace_ms=None)
        tab = LiveTab(_Services(container, sim.url), lambda: stack)
        tab.load_strategies()
        assert tab.strategy.count() >= 1  # the bundled samples
        spec = tab.spec_from_form()
        assert spec.symbol == "KRW-BTC" and spec.strategy.name == tab.strategy.currentText()
        await tab.start_session(SessionSpec("gui", always_long(), "demo", "KRW-ETH", Timeframe.M1, cash=1e6))
        session = stack.engine.sessions["gui"]
        await _until(lambda: session.broker.side == 1 and len(tab.fills.rows) == 1)
        bars_before = len(tab.chart.pyramid.ts)
        await _until(lambda: len(tab.chart.pyramid.ts) > bars_before + 2)
        state.update(rows=len(tab.sessions.rows), fills=list(tab.fills.rows), pnl=tab.pnl.text(),
                     streams=tab.monitor.feeds.rowCount(), latency=tab.monitor.latency.item(0, 1).text(),
                     marks=[(p.pos().y(), p.data()) for p in tab.chart.markers.points()])
        for model in (tab.sessions, tab.fills, tab.orders):
            qtmodeltester.check(model)
        assert tab.open_positions() == 1
        await tab.flatten_selected()
        tab.refresh()
        state["after"] = [r["reason"] for r in tab.fills.rows]
        await tab.stop_selected()
        state["stopped"] = (tab.sessions.rows[0]["status"], tab.pnl.text(), tab.remove_button.isEnabled(),
                            tab.stop_button.isEnabled())
        tab.remove_selected()
        state["removed"] = len(tab.sessions.rows)
        await tab.shutdown()
        await gateways.aclose()
        await sim.stop()

    qloop.run_until_complete(asyncio.wait_for(scenario(), 60))
    assert state["rows"] == 1 and state["fills"][0]["reason"] == "signal"
    assert "gui: running" in state["pnl"] and "equity" in state["pnl"]
    assert state["streams"] == 1 and state["latency"] != "0"
    assert state["after"] == ["flatten", "signal"]
    fill = state["fills"][0]
    assert state["marks"] == [(fill["price"], f"signal @ {fill['price']:,.8g}")]  # the fill is drawn on the chart
    status, pnl, can_remove, can_stop = state["stopped"]
    assert status == "stopped" and pnl.startswith("gui: stopped") and can_remove and not can_stop
    assert state["removed"] == 0
    said = [r.getMessage() for r in caplog.records if r.name == "quantdesk.live"]
    assert said[0].startswith("paper session gui started: ") and "paper session gui stopped" in said
    assert any(m.startswith("gui: bought ") and "(signal)" in m for m in said)  # the log pane shows each fill


def test_the_live_table_models_are_valid_qt_models_with_rows(qtmodeltester: ModelTester) -> None:
    sessions = SessionsModel()
    sessions.set_rows([{"session_id": "a", "strategy": "x", "exchange": "demo", "market": "KRW-BTC", "timeframe": "1m",
                        "status": "running",
                        "position": 0.5, "entry_price": 100.0, "last_price": 101.0, "equity": 1000.0,
                        "return_pct": 1.0, "realized_pnl": 0.0, "unrealized_pnl": 0.5, "trades": 0}])
    fills = FillsModel()
    fills.set_rows([{"order_id": "a-1", "ts": 1_700_000_000_000, "side": 1, "quantity": 0.5, "price": 100.0,
                     "commission": 0.05, "reason": "signal", "realized_pnl": 0.0}])
    orders = OrdersModel()
    orders.set_rows([{"id": "a-2", "side": -1, "action": "close", "reason": "signal", "state": "accepted",
                      "created_ts": 1_700_000_060_000}])
    for model in (sessions, fills, orders):
        qtmodeltester.check(model)
    titles = [sessions.headerData(c, QtCore.Qt.Orientation.Horizontal) for c in range(sessions.columnCount())]
    assert sessions.data(sessions.index(0, titles.index("Return"))) == "+1.00 %"
    assert "Strategy" not in titles and "Market" not in titles  # the session's name and tooltip say them
    tip = sessions.data(sessions.index(0, 0), QtCore.Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith("x on demo:KRW-BTC 1m")
    assert fills.data(fills.index(0, 1)) == "buy"
    assert fills.data(fills.index(0, 0), QtCore.Qt.ItemDataRole.ToolTipRole) == "order a-1"



def test_the_sessions_table_shows_every_column_without_scrolling_sideways(qtbot: Any) -> None:
    """The Live page of a 1440-wide window (the market list takes ~360 px): two sessions with long names and
    eight-figure prices fit, Trades included. In the app's own theme, whose padding widens every column."""
    app = QtWidgets.QApplication.instance()
    assert isinstance(app, QtWidgets.QApplication)
    before = app.styleSheet()
    apply_theme(app, "dark")
    try:
        _check_the_live_page_fits(qtbot)
    finally:
        app.setStyleSheet(before)


def _check_the_live_page_fits(qtbot: Any) -> None:
    tab = LiveTab(_NoStore(), lambda: None)
    qtbot.addWidget(tab)
    tab.strategy.addItem("EMA(3) flip (demo)", 1)
    row = {"strategy": "SMA 10/20 cross", "exchange": "demo", "market": "KRW-ETH", "timeframe": "1m",
           "status": "running", "position": -0.00816585, "entry_price": 1_224_000.0, "last_price": 123_456_789.0,
           "equity": 10_003_171.25, "return_pct": -12.34, "realized_pnl": -123_456.78, "unrealized_pnl": 98_765.43,
           "trades": 1234}
    tab.sessions.set_rows([{**row, "session_id": "SMA 10/20 cross · KRW-ETH · 1m"},
                           {**row, "session_id": "EMA(3) flip (demo) · KRW-BTC · 15m"},
                           {**row, "session_id": "RSI mean reversion · KRW-XRP · 5m"}])
    tab.monitor.show_snapshot(snapshot(1000))  # the Monitor as wide as an hour of live figures make it
    tab.resize(1030, 760)  # the Live page of a 1440-px window
    tab.show()
    qtbot.waitExposed(tab)
    view = tab.session_view
    assert view.horizontalHeader().length() <= view.viewport().width()
    assert not view.horizontalScrollBar().isVisible()
    # three sessions in view (it showed a row and a half: the Monitor's full height set the page's minimum)
    assert view.viewport().height() >= view.verticalHeader().length() == 3 * view.rowHeight(0)
    assert tab.minimumSizeHint().height() <= 760
    for table in (tab.monitor.latency, tab.monitor.queues, tab.monitor.feeds):  # the Monitor's figures whole
        assert table.horizontalHeader().length() <= table.viewport().width()
    tab.fills.set_rows([{"order_id": "EMA(3) flip (demo) · KRW-BTC · 15m-12", "ts": 1_700_000_000_000, "side": 1,
                         "quantity": 0.00016885, "price": 29_546_000.0, "commission": 2.4944, "reason": "signal",
                         "realized_pnl": -7.87}])  # a fill arriving while the page is shown
    qtbot.wait(10)
    fills = tab.fills_view  # every figure of a fill in view; its order id in the tooltip
    assert fills.horizontalHeader().length() <= fills.viewport().width()
    for col in range(tab.fills.columnCount()):  # and none clipped ("28,326,0…" before)
        assert fills.columnWidth(col) >= fills.sizeHintForColumn(col), col
    assert tab.strategy.width() >= tab.strategy.fontMetrics().horizontalAdvance("EMA(3) flip (demo)")
    # nothing on the page asks for more than the page has: a wider minimum used to widen the whole window
    tab.strategy.addItem("A strategy with a name much longer than anyone would ever type in", 2)
    assert tab.minimumSizeHint().width() <= 1080


def test_the_market_box_lists_the_chosen_exchanges_markets_and_follows_the_chart(
        qtbot: Any, container: Container) -> None:
    tab = LiveTab(Services(container), lambda: None)
    qtbot.addWidget(tab)
    assert tab.market.symbol() == "KRW-BTC"
    tab.exchange.setCurrentIndex(tab.exchange.findData("binance"))
    assert tab.market.symbol() == "BTCUSDT"  # not a KRW market Binance does not list
    tab.follow_series(SeriesKey("upbit", "KRW-ETH", Timeframe.M5))
    assert (tab.exchange.currentData(), tab.market.symbol(), tab.timeframe.currentText()) == ("upbit", "KRW-ETH", "5m")
    tab.follow_series(SeriesKey("csv", "GOOG", Timeframe.D1))  # imported candles have no live feed: unchanged
    assert tab.exchange.currentData() == "upbit" and tab.market.symbol() == "KRW-ETH"
    tab.strategy.addItem("SMA 10/20 cross", container.strategies.get_by_name("SMA 10/20 cross").id)
    tab.strategy.setCurrentIndex(tab.strategy.count() - 1)
    tab.market.setCurrentText(" krw-xrp ")
    spec = tab.spec_from_form()
    assert (spec.exchange, spec.symbol, spec.timeframe) == ("upbit", "KRW-XRP", Timeframe.M5)


def test_sessions_left_running_resume_with_their_position_when_the_app_starts_again(
        qloop: qasync.QEventLoop, container: Container, tmp_path: Path) -> None:
    config = fast_config()
    state: dict[str, Any] = {}

    async def scenario() -> None:
        sim = SimulatorServer(config)
        await sim.start()

        def stack() -> Any:
            gateways = ExchangeGateways({"demo": sim.url})
            state.setdefault("gateways", []).append(gateways)
            return build_live_engine(gateways, {"demo": sim.url}, SimClock(config.clock),
                                     sql_engine=container.engine, log_dir=tmp_path / "logs", flush_grace_ms=None)

        first = LiveTab(_Services(container), lambda s=stack(): s)
        first.resume_on_start()  # nothing stored yet: the engine is not even built
        assert first.stack is None
        await first.start_session(SessionSpec("kept", always_long(), "demo", "KRW-ETH", Timeframe.M1, cash=1e6))
        await _until(lambda: first.open_positions() == 1)
        size = first.engine.sessions["kept"].broker.size
        first.flatten_on_exit = False  # "Keep and quit"
        await first.shutdown()

        second = LiveTab(_Services(container), lambda s=stack(): s)
        second.resume_on_start()
        await _until(lambda: second.engine is not None and "kept" in second.engine.sessions)
        resumed = second.engine.sessions["kept"]
        state.update(side=resumed.broker.side, same=resumed.broker.size == size)
        await second.shutdown()
        for g in state["gateways"]:
            await g.aclose()
        await sim.stop()

    qloop.run_until_complete(asyncio.wait_for(scenario(), 60))
    assert state["side"] == 1 and state["same"]


def test_the_monitor_shows_every_figure_whole_even_when_figures_grow(qtbot: Any) -> None:
    from presentation.live.monitor import MonitorPanel

    panel = MonitorPanel()
    qtbot.addWidget(panel)
    panel.show()

    for scale in (1, 1_000_000):  # the second snapshot widens every figure
        panel.show_snapshot(snapshot(scale))
        panel.adjustSize()  # what a layout does for a panel whose minimum grew
        qtbot.wait(10)
        for table in (panel.latency, panel.queues, panel.feeds):
            head = table.horizontalHeader()
            for c in range(table.columnCount()):
                assert head.sectionSize(c) >= table.sizeHintForColumn(c), (table.item(0, 0).text(), c)
            assert head.length() <= table.viewport().width()  # nothing cut off at the right edge
        assert panel.latency.verticalHeader().length() <= panel.latency.viewport().height()  # every row shown
    assert panel.latency.item(0, 3).text() == "41,250,000.0"
    assert panel.feeds.item(0, 2).text() == "999,000,000"


def test_the_data_and_live_tabs_share_one_ask_for_an_exchanges_markets(
        qloop: qasync.QEventLoop, container: Container, monkeypatch: Any) -> None:
    from presentation.data.tab import DataTab

    services = Services(container)
    asked: list[str] = []
    real = container.market_data.list_markets

    async def counted(exchange: str) -> Any:
        asked.append(exchange)
        return await real(exchange)

    monkeypatch.setattr(container.market_data, "list_markets", counted)
    state: dict[str, Any] = {}

    async def scenario() -> None:
        data = DataTab(services)
        live = LiveTab(services, lambda: None)
        answered: list[object] = []
        for box in (data.market, live.market):  # each asked as it was built (the loop runs)
            box.listed.connect(lambda exchange, ok: answered.append(ok))
        await _until(lambda: len(answered) == 2)
        state["answered"] = answered
        state["listed"] = sorted(m.symbol for m in await real("demo"))
        state.update(data=[data.market.itemText(i) for i in range(data.market.count())],
                     live=[live.market.itemText(i) for i in range(live.market.count())])
        await services.aclose()

    qloop.run_until_complete(asyncio.wait_for(scenario(), 60))
    assert asked == ["demo"]  # the second picker used the first one's answer
    assert state["answered"] == [True, True] and state["data"] == state["live"]
    assert state["live"] == state["listed"]  # the exchange's own list, not the defaults


def test_a_new_session_starts_with_the_exchanges_fee_in_percent_and_cash_in_its_quote_currency(qtbot: Any) -> None:
    tab = LiveTab(_NoStore(), lambda: None)  # type: ignore[arg-type]
    qtbot.addWidget(tab)
    tab.exchange.setCurrentIndex(tab.exchange.findData("upbit"))
    tab.market.setCurrentText("KRW-BTC")
    tab.apply_cost_defaults()
    assert (tab.fee.value(), tab.fee.suffix(), tab.cash.value()) == (0.05, " %", 10_000_000.0)
    assert tab.cash_label.text() == "Cash (KRW)" and tab.cash.text() == "10,000,000.00"
    assert not tab.stop_button.isEnabled() and not tab.flatten_button.isEnabled()  # no session to act on
    tab.exchange.setCurrentIndex(tab.exchange.findData("binance"))
    tab.market.setCurrentText("BTCUSDT")
    tab.apply_cost_defaults()
    assert (tab.fee.value(), tab.cash.value(), tab.cash_label.text()) == (0.05, 10_000.0, "Cash (USDT)")


def test_a_session_without_a_price_yet_shows_a_dash_not_nan() -> None:
    sessions = SessionsModel()
    sessions.set_rows([{"session_id": "a", "strategy": "x", "exchange": "demo", "market": "KRW-BTC",
                        "timeframe": "1m", "status": "running", "position": 0.0, "entry_price": 0.0,
                        "last_price": float("nan"), "equity": 1000.0, "return_pct": 0.0, "realized_pnl": 0.0,
                        "unrealized_pnl": 0.0, "trades": 0}])
    titles = [sessions.headerData(c, QtCore.Qt.Orientation.Horizontal) for c in range(sessions.columnCount())]
    assert sessions.index(0, titles.index("Last")).data() == "—"


def test_the_strategy_picker_follows_the_store_and_selects_the_strategy_being_worked_on(
        qtbot: Any, container: Container) -> None:
    from strategy_helpers import sma_cross

    services = _Services(container)
    services.current_strategy_id = None  # type: ignore[attr-defined]
    tab = LiveTab(services, lambda: None)  # type: ignore[arg-type,return-value]
    qtbot.addWidget(tab)
    tab.show()
    before = tab.strategy.count()
    saved = container.strategies.create(sma_cross("Saved after the Live tab opened")).record
    assert saved is not None
    services.current_strategy_id = saved.id  # type: ignore[attr-defined]  # the Builder just saved it
    tab.hide()
    tab.show()
    assert tab.strategy.count() == before + 1 and tab.strategy.currentText() == "Saved after the Live tab opened"
