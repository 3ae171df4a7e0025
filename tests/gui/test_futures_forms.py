"""Leverage, margin mode and funding in the Backtests and Optimize forms: shown for Binance futures, disabled with
a reason for spot and CSV data, a funding data indicator whose one-click collect runs on the qasync loop."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import qasync
from PyQt6 import QtCore
from pytestqt.qtbot import QtBot
from qt_async import fired
from stored import store_walk

from app.bootstrap.container import Container
from app.sweeps.plan import ParamRange
from app.timeparse import parse_time_arg
from domain.market import SeriesKey, Timeframe
from infrastructure.simulator import SimulatorConfig, SimulatorServer, fixed_clock, simulator_candles
from presentation.backtests.futures import COVERED, NONE, PARTLY
from presentation.backtests.tab import BacktestsTab
from presentation.optimize import optimize_view
from presentation.services import Services

START, END = parse_time_arg("2024-03-01"), parse_time_arg("2024-03-11")
FUT = SeriesKey("binance", "BTCUSDT", Timeframe.H1)
SPOT = SeriesKey("upbit", "KRW-BTC", Timeframe.H1)
RUN_TIMEOUT = 120_000


@pytest.fixture
def tab(qtbot: QtBot, container: Container) -> Iterator[BacktestsTab]:
    container.candles.upsert(FUT, simulator_candles("binance", "BTCUSDT", Timeframe.H1, START, END,
                                                    now_ms=parse_time_arg("2024-06-01")))
    store_walk(container, SPOT, 300)
    widget = BacktestsTab(container.backtests, container.strategies, Services(container))
    qtbot.addWidget(widget)
    widget.resize(1400, 900)
    widget.show()
    record = container.strategies.get_by_name("SMA 10/20 cross")
    assert record is not None and widget.form.set_strategy(record.id)
    yield widget
    widget.shutdown()
    container.backtests.close()


def test_spot_and_binance_futures_markets_show_or_disable_leverage_with_a_reason(tab: BacktestsTab) -> None:
    f = tab.form.futures
    assert tab.form.set_series(SPOT)
    assert not f.leverage.isEnabled() and not f.margin.isEnabled() and not f.collect_btn.isEnabled()
    assert f.leverage.isHidden() and f.funding_row().isHidden() and f.funding_label.isHidden()
    assert f.reason.text() == "1× (Upbit is spot)" and not f.reason.isHidden()  # one line; the reason on hover
    assert f.reason.toolTip() == "Upbit trades spot only: 1×, no margin, no funding."
    assert "Upbit trades spot only" in f.leverage.toolTip()
    assert tab.form.command().settings.brackets is None
    assert tab.form.set_series(FUT)
    assert f.leverage.isEnabled() and f.margin.isEnabled() and f.reason.isHidden()
    assert not f.leverage.isHidden() and not f.funding_row().isHidden() and not f.collect_btn.isHidden()
    assert f.leverage.maximum() == 125  # BTCUSDT's first bracket
    f.leverage.setValue(20)
    assert f.initial.text() == "margin 5 %"  # margin as a percent of the notional, as the costs form's units
    assert f.state.property("funding") == NONE and f.collect_btn.isEnabled()


def test_collecting_funding_from_the_form_turns_the_indicator_covered_and_the_run_charges_it(
        qloop: qasync.QEventLoop, qtbot: QtBot, tab: BacktestsTab, container: Container) -> None:
    f = tab.form.futures
    assert tab.form.set_series(FUT)
    ticks: list[int] = []

    async def scenario() -> tuple[str, str]:
        async with SimulatorServer(SimulatorConfig(clock=fixed_clock(parse_time_arg("2024-06-01")))) as sim:
            container.use_base_url("binance", sim.url)
            timer = QtCore.QTimer(tab, interval=5)
            timer.timeout.connect(lambda: ticks.append(1))
            timer.start()
            qtbot.mouseClick(f.collect_btn, QtCore.Qt.MouseButton.LeftButton)
            assert not f.collect_btn.isEnabled() and f.state.text() == "Collecting funding …"
            (text,) = await fired(f.collected, timeout=60)
            timer.stop()
            state = str(f.state.property("funding"))
            await container.aclose()
        return str(text), state

    text, state = qloop.run_until_complete(scenario())
    assert text.startswith("Collected ") and state == COVERED and not f.collect_btn.isEnabled()
    # the UI timer fired while the collect awaited the exchange (a blocking collect lets none fire before stop());
    # how many depends only on how fast the simulator answers
    assert len(ticks) >= 1
    assert f.state.text().startswith("Funding data: covered (30 events)")  # 10 days × 3 events
    f.leverage.setValue(10)
    f.margin.setCurrentIndex(f.margin.findData("cross"))
    cmd = tab.form.command()
    assert (cmd.settings.leverage, cmd.settings.margin, len(cmd.settings.funding or ())) == (10, "cross", 30)
    with qtbot.waitSignal(tab.finished, timeout=RUN_TIMEOUT) as done:
        qtbot.mouseClick(tab.run_btn, QtCore.Qt.MouseButton.LeftButton)
    assert done.args[0] == "done"
    expected = container.backtests.run_here(cmd).result.stats
    rows = tab.stats.keys()
    assert "Funding [$]" in rows and "Liquidations" in rows
    assert tab.run_shown is not None and tab.run_shown.stats["Funding [$]"] == pytest.approx(expected["Funding [$]"])
    assert tab.run_shown.stats["Funding [$]"] != 0.0
    f.funding.setChecked(False)
    assert tab.form.command().settings.funding is None


def test_a_range_past_the_collected_funding_reads_partly(tab: BacktestsTab, container: Container) -> None:
    from domain.futures import FundingRates

    container.funding  # noqa: B018
    from infrastructure.db.funding import SqlFundingRepository

    repo = SqlFundingRepository(container.engine)
    half = START + 5 * 86_400_000
    ts = list(range(START, half, 8 * 3_600_000))
    repo.upsert("binance", "BTCUSDT", FundingRates.from_columns(ts, [1e-4] * len(ts), [float("nan")] * len(ts)),
                (START, half))
    assert tab.form.set_series(FUT)
    f = tab.form.futures
    assert f.state.property("funding") == PARTLY
    assert f.state.toolTip().startswith("Missing (UTC): 2024-03-06T00:00 .. 2024-03-11T00:00")


def test_the_optimize_form_sweeps_binance_futures_with_leverage_and_funding(
        qtbot: QtBot, container: Container) -> None:
    container.candles.upsert(FUT, simulator_candles("binance", "BTCUSDT", Timeframe.H1, START, END,
                                                    now_ms=parse_time_arg("2024-06-01")))
    store_walk(container, SPOT, 300)
    view = optimize_view(Services(container))
    qtbot.addWidget(view)
    f = view.form.futures

    def choose(key: SeriesKey) -> None:
        view.data.setCurrentIndex(next(i for i in range(view.data.count()) if view.data.itemData(i).key == key))

    choose(SPOT)
    assert not f.leverage.isEnabled() and "spot only" in f.reason.toolTip()
    choose(FUT)
    assert f.leverage.isEnabled() and f.state.property("funding") == NONE
    f.leverage.setValue(15)
    view.params.set_checked(0)
    req: Any = view.request()[0]
    s = req.cmd.settings
    assert (s.leverage, s.margin, s.brackets.symbol, len(s.funding)) == (15, "isolated", "BTCUSDT", 0)
    assert isinstance(req.cmd.params[0], ParamRange)
