"""Live mode in the Live tab, against the simulator's private API: arming, LIVE state, real orders, the kill switch."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import qasync
from PyQt6 import QtCore, QtWidgets

from app.bootstrap.container import Container
from app.bootstrap.live import build_live_engine
from infrastructure.keys import KeyStore
from presentation.live.tab import LiveTab
from presentation.services import Services
from tests.integration.private_sim import API_KEY, SECRET, exchange_state, private_simulator

ALWAYS_LONG = {
    "schema": 1, "name": "Live long", "direction": "long_only",
    "entry_long": {"all": [{"left": {"var": "close"}, "op": "gt", "right": {"const": 0}}]},
    "entry_short": None, "exit_long": None, "exit_short": None,
    "risk": {"position_size_pct": 20, "stop_loss_pct": 5, "take_profit_pct": None, "trailing_stop_pct": None},
}


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[KeyStore]:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.keyring_backend.MemoryKeyring")
    from tests.keyring_backend import MemoryKeyring

    MemoryKeyring.entries.clear()
    yield KeyStore()
    MemoryKeyring.entries.clear()


async def until(cond: Any, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


def live_tab(container: Container, url: str, logs: Path | None = None) -> tuple[LiveTab, QtWidgets.QTabWidget]:
    """The Live tab inside a tab widget (as in the window), set to live mode on Binance BTCUSDT; its audit and
    app logs in `logs` (else nowhere)."""
    container.use_base_url("binance", url)
    record = container.strategies.create(ALWAYS_LONG).record
    assert record is not None
    stack = build_live_engine(container.exchanges, container.base_urls, container.clock, sql_engine=container.engine,
                              log_dir=logs)
    tab = LiveTab(Services(container), lambda: stack)
    tabs = QtWidgets.QTabWidget()
    tabs.addTab(tab, "Live")
    tab.load_strategies()
    tab.strategy.setCurrentIndex(tab.strategy.findData(record.id))
    tab.exchange.setCurrentIndex(tab.exchange.findData("binance"))
    tab.market.setCurrentText("BTCUSDT")
    tab.mode.setCurrentIndex(tab.mode.findData("live"))
    return tab, tabs


def click_kill_confirmation(tab: LiveTab) -> None:
    box = tab.findChild(QtWidgets.QMessageBox, "killConfirm")
    assert box is not None and box.isVisible()
    (yes,) = [b for b in box.buttons() if box.buttonRole(b) == QtWidgets.QMessageBox.ButtonRole.DestructiveRole]
    yes.click()


def test_a_live_session_armed_in_the_tab_sends_real_orders_shows_live_and_the_kill_switch_flattens(
        qloop: qasync.QEventLoop, container: Container, keys: KeyStore, tmp_path: Path) -> None:
    state: dict[str, Any] = {}

    async def scenario() -> None:
        async with private_simulator(speed=600.0) as sim:
            tab, tabs = live_tab(container, sim.url, tmp_path / "logs")
            keys.set("binance", API_KEY, SECRET)
            tab.confirm.setText("BTCUSDT")
            assert tab.arming.text() == ""
            tab.on_start()
            await until(lambda: tab.desk is not None and tab.desk.sessions)
            sid = next(iter(tab.desk.sessions))  # type: ignore[union-attr]
            desk = tab.live_desk()
            await until(lambda: desk.row(desk.sessions[sid])["stop_order"] != "", 30)  # entered and protected
            tab.refresh()
            row = tab.sessions.rows[0]
            index = tab.sessions.index(0, 0)
            state.update(row=row, banner=tab.live_panel.banner.text(), stops=tab.live_panel.stops.text(),
                         rec=tab.live_panel.reconciled.text(), tab_text=tabs.tabText(0),
                         tab_icon=tabs.tabIcon(0).pixmap(12, 12).toImage().pixelColor(6, 6).name(),
                         background=tab.sessions.data(index, QtCore.Qt.ItemDataRole.BackgroundRole).name(),
                         before=await exchange_state(sim))
            tab.live_panel.kill_button.click()
            click_kill_confirmation(tab)
            await until(lambda: "confirmed clean" in tab.live_panel.kill_result.text(), 30)
            state.update(kill=tab.live_panel.kill_result.text(), after=await exchange_state(sim),
                         killed=tab.sessions.rows[0]["status"], stops_after=tab.live_panel.stops.text(),
                         tab_after=tabs.tabText(0), icon_after=tabs.tabIcon(0).isNull())
            await tab.shutdown()

    qloop.run_until_complete(asyncio.wait_for(scenario(), 120))
    assert state["row"]["mode"] == "live" and state["row"]["status"] == "LIVE · live"
    assert state["banner"].startswith("LIVE — REAL ORDERS on BINANCE BTCUSDT")
    assert state["tab_text"] == "Live ● LIVE (1)" and state["background"] == "#d32f2f"
    assert state["tab_icon"] == "#d32f2f"  # a red dot on the window's Live tab
    assert "held by the exchange" in state["stops"] and "Reconciliation OK" in state["rec"]
    before = state["before"]
    sid = state["row"]["session_id"]
    assert [o["client_id"] for o in before["orders"]][:2] == [f"{sid}-1", f"{sid}-2"]  # the entry, then its stop
    assert [p["amount"] for p in before["positions"] if p["amount"]] and before["open_orders"]
    stop = before["open_orders"][0]
    assert stop["type"] == "STOP_MARKET" and stop["reduce_only"] and stop["client_id"] in state["stops"]
    assert state["kill"].endswith("the exchange shows 0 open order(s) and a position of 0 — confirmed clean")
    after = state["after"]
    assert after["open_orders"] == [] and all(p["amount"] == 0 for p in after["positions"])
    assert state["killed"] == "LIVE · killed" and state["stops_after"].startswith("Position 0 ")
    assert state["tab_after"] == "Live" and state["icon_after"]
    audit = [json.loads(line) for line in (tmp_path / "logs" / "audit.jsonl").read_text().splitlines()]
    kinds = [a["kind"] for a in audit]
    assert "ExchangeRequest" in kinds and "Reconciled" in kinds and "StopPlaced" in kinds
    (killed,) = [a for a in audit if a["kind"] == "KillSwitch"]
    assert killed["clean"] is True and killed["open_orders"] == 0 and killed["position"] == 0
    every_file = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    assert SECRET.encode() not in every_file and API_KEY.encode() not in every_file


def test_start_is_refused_without_keys_and_with_a_confirmation_that_is_not_the_market(
        qloop: qasync.QEventLoop, container: Container, keys: KeyStore, tmp_path: Path) -> None:
    said: list[str] = []

    async def scenario() -> None:
        async with private_simulator() as sim:
            tab, _tabs = live_tab(container, sim.url)
            tab.failed.connect(said.append)
            tab.confirm.setText("BTCUSDT")
            no_keys = tab.arming.text()
            tab.start_button.click()
            keys.set("binance", API_KEY, SECRET)
            tab.confirm.setText("btcusdt")
            wrong = tab.arming.text()
            tab.start_button.click()
            tab.confirm.setText("BTCUSDT ")  # the exact symbol, a stray space trimmed: armed
            armed = tab.arming.text()
            tab.leverage.setValue(5)
            tab.limits["max_leverage"].setValue(3)  # type: ignore[attr-defined]
            tab.start_button.click()
            await until(lambda: len(said) == 3)
            tab.mode.setCurrentIndex(tab.mode.findData("paper"))
            said.append(f"paper:{tab.arming.text()}:{tab.start_button.text()}")
            await asyncio.sleep(0.2)
            orders = (await exchange_state(sim))["orders"]
            assert tab.desk is None or not tab.desk.sessions
            said.extend([no_keys, wrong, armed, str(len(orders))])

    qloop.run_until_complete(asyncio.wait_for(scenario(), 60))
    refused_no_keys, refused_wrong, refused_leverage, paper, no_keys, wrong, armed, orders = said
    assert no_keys == refused_no_keys == "no binance API keys are stored: add them in Settings → Exchange keys"
    assert wrong == refused_wrong == ("not armed: type BTCUSDT exactly into the confirmation field to send real "
                                      "orders")
    assert refused_leverage == "leverage 5x is above the leverage cap of 3x"
    assert armed == "" and paper == "paper::Start session" and orders == "0"


def test_an_unexplained_balance_halts_the_live_session_in_view_and_reset_halt_lifts_it(
        qloop: qasync.QEventLoop, container: Container, keys: KeyStore) -> None:
    state: dict[str, Any] = {}

    async def scenario() -> None:
        async with private_simulator(speed=60.0) as sim:
            tab, _tabs = live_tab(container, sim.url)
            keys.set("binance", API_KEY, SECRET)
            tab.confirm.setText("BTCUSDT")
            tab.on_start()
            await until(lambda: tab.desk is not None and tab.desk.sessions)
            trader = next(iter(tab.live_desk().sessions.values())).trader
            sim.private.book.accounts[API_KEY].balances["USDT"] -= 1_000.0  # a transfer nobody told the session of
            await trader.reconcile("timer")  # what the minute timer does
            tab.refresh()
            panel = tab.live_panel
            state.update(halted=panel.reconciled.text(), reset_shown=not panel.reset_button.isHidden(),
                         status=tab.sessions.rows[0]["status"], pnl=tab.pnl.text())
            tab.live_panel.reset_button.click()
            await until(lambda: not trader.broker.halted and trader.last is not None and trader.last.clean)
            tab.refresh()
            state.update(after=tab.live_panel.reconciled.text(), reset_after=not tab.live_panel.reset_button.isHidden(),
                         status_after=tab.sessions.rows[0]["status"])
            await tab.shutdown()

    qloop.run_until_complete(asyncio.wait_for(scenario(), 90))
    assert state["status"] == "LIVE · halted" and state["reset_shown"]
    assert state["halted"].startswith("HALTED (no new entries, stops kept) — reconciled ")
    assert "balance of USDT at the exchange is " in state["halted"] and "USDT unexplained" in state["halted"]
    assert "HALTED: reconciliation: balance of USDT" in state["pnl"]
    assert state["after"].startswith("Reconciliation OK, last at ") and "USDT balance 9,000.00" in state["after"]
    assert not state["reset_after"] and state["status_after"] == "LIVE · live"


def test_on_upbit_the_live_panel_says_the_stop_is_watched_locally_and_leverage_is_not_offered(
        qloop: qasync.QEventLoop, container: Container, keys: KeyStore) -> None:
    state: dict[str, Any] = {}

    async def scenario() -> None:
        async with private_simulator(speed=600.0) as sim:
            tab, _tabs = live_tab(container, sim.url)
            container.use_base_url("upbit", sim.url)
            tab.exchange.setCurrentIndex(tab.exchange.findData("upbit"))
            tab.market.setCurrentText("KRW-BTC")
            keys.set("upbit", API_KEY, SECRET)
            tab.confirm.setText("KRW-BTC")
            state["leverage"] = (tab.leverage.isEnabled(), tab.margin.isEnabled())
            tab.on_start()
            await until(lambda: tab.desk is not None and tab.desk.sessions)
            desk = tab.live_desk()
            session = next(iter(desk.sessions.values()))
            await until(lambda: session.trader.broker.guard_level > 0, 30)
            tab.refresh()
            state.update(stops=tab.live_panel.stops.text(), exchange=await exchange_state(sim))
            await tab.shutdown()

    qloop.run_until_complete(asyncio.wait_for(scenario(), 90))
    assert state["leverage"] == (False, False)
    assert "LOCAL guardian (not at the exchange)" in state["stops"] and "Position 0 " not in state["stops"]
    assert state["exchange"]["open_orders"] == []  # nothing resting at Upbit: the stop lives in the session


def test_risk_limits_in_the_form_halt_a_paper_session_too_and_reset_halt_is_offered(
        qloop: qasync.QEventLoop, container: Container, tmp_path: Path) -> None:
    from app.live.session import session_name
    from domain.market import Timeframe
    from infrastructure.exchanges import ExchangeGateways
    from infrastructure.simulator.server import SimulatorServer
    from tests.gui.test_live_tab import _Services
    from tests.integration.live_helpers import SimClock, fast_config

    config = fast_config()
    state: dict[str, Any] = {}

    async def scenario() -> None:
        async with SimulatorServer(config) as sim:
            gateways = ExchangeGateways({"demo": sim.url})
            stack = build_live_engine(gateways, {"demo": sim.url}, SimClock(config.clock),
                                      sql_engine=container.engine, log_dir=tmp_path / "logs", flush_grace_ms=None)
            record = container.strategies.create(ALWAYS_LONG).record
            assert record is not None
            tab = LiveTab(_Services(container, sim.url), lambda: stack)  # type: ignore[arg-type]
            tab.load_strategies()
            tab.strategy.setCurrentIndex(tab.strategy.findData(record.id))
            tab.limits["max_order_notional"].setValue(100.0)  # type: ignore[attr-defined]
            spec = tab.spec_from_form()
            await tab.start_session(spec)
            name = session_name("Live long", "KRW-BTC", Timeframe.M1)
            await until(lambda: stack.engine.paper_risk.halted(name) != "")
            tab.refresh()
            state.update(limits=spec.limits.max_order_notional, pnl=tab.pnl.text(),
                         reset=not tab.reset_paper_button.isHidden())
            tab.reset_paper_button.click()
            state.update(after=stack.engine.paper_risk.halted(name), reset_after=not tab.reset_paper_button.isHidden())
            await tab.shutdown()
            await gateways.aclose()

    qloop.run_until_complete(asyncio.wait_for(scenario(), 60))
    assert state["limits"] == 100.0 and state["reset"]
    assert "— HALTED: order notional " in state["pnl"] and "above the limit of 100.00" in state["pnl"]
    assert state["after"] == "" and not state["reset_after"]
