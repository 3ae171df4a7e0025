"""Reconciliation of a live session with the simulator: the exchange is the truth, the unexplained halts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.errors import UserError
from app.live.bars import MarketBars
from app.live.history import gateway_bar_fetch
from app.live.trading.driver import SessionDriver
from app.live.trading.live_session import LiveTrader
from domain.live.risk import RiskLimits
from domain.market import CandleSeries, Timeframe
from domain.strategy import IncrementalEvaluator, SignalRow
from infrastructure.exchanges import ExchangeGateways
from infrastructure.exchanges.binance_private import BinancePrivateClient, FuturesOrder
from tests.integration.private_sim import API_KEY, SECRET, exchange_state, private_simulator
from tests.integration.test_live_session import fast_cross, live_broker


def trader(url: str, client: BinancePrivateClient, db_path: Path, stop_loss_pct: float | None = None) -> LiveTrader:
    strategy = fast_cross(stop_loss_pct)
    broker = live_broker(client, db_path, "rec-BTCUSDT-1m", strategy, RiskLimits())
    fetch = gateway_bar_fetch(ExchangeGateways({"binance": url}))("binance")
    driver = SessionDriver(IncrementalEvaluator(strategy, CandleSeries.empty(Timeframe.M1)),
                           MarketBars("binance", "BTCUSDT", fetch), broker, Timeframe.M1)
    return LiveTrader("rec-BTCUSDT-1m", driver, broker)


async def test_an_order_of_the_session_the_journal_never_sent_halts_it_with_a_report(db_path: Path) -> None:
    async with private_simulator() as sim:
        client = BinancePrivateClient(API_KEY, SECRET, sim.url)
        try:
            t = trader(sim.url, client, db_path)
            started = await t.start(resume=False)
            price = sim.private.engine.price("binance", "BTCUSDT")
            await client.place_order(FuturesOrder("BTCUSDT", "BUY", "LIMIT", 0.01, round(price * 0.8, 1),
                                                  client_id="rec-BTCUSDT-1m-99"))
            later = await t.reconcile("timer")
        finally:
            await client.aclose()
    assert started.clean and not later.clean
    assert later.differences == ("order rec-BTCUSDT-1m-99 is open at the exchange but not in the journal",)
    assert t.broker.halted.startswith("reconciliation: order rec-BTCUSDT-1m-99")


async def test_a_stop_that_filled_at_the_exchange_is_explained_and_its_position_taken_over(db_path: Path) -> None:
    async with private_simulator(speed=120) as sim:
        client = BinancePrivateClient(API_KEY, SECRET, sim.url)
        try:
            t = trader(sim.url, client, db_path, stop_loss_pct=0.02)
            await t.start(resume=False)
            await t.broker.on_price(0, sim.private.engine.price("binance", "BTCUSDT"))
            await t.broker.on_signal(SignalRow(True, False, False, False), 0)
            held = t.broker.position
            for _ in range(200):  # the market moves until the exchange's stop fires
                if not (await exchange_state(sim))["open_orders"]:
                    break
                await asyncio.sleep(0.1)
            rec = await t.reconcile("timer")
        finally:
            await client.aclose()
    assert held > 0 and rec.clean and rec.position.amount == 0
    assert t.broker.position == 0 and t.broker.stop.current is None and not t.broker.halted


async def test_a_fresh_session_refuses_to_start_on_a_position_it_did_not_open(db_path: Path) -> None:
    async with private_simulator() as sim:
        client = BinancePrivateClient(API_KEY, SECRET, sim.url)
        try:
            await client.place_order(FuturesOrder("BTCUSDT", "BUY", "MARKET", 0.01, client_id="manual-1"))
            with pytest.raises(UserError, match="already holds a position of 0.01"):
                await trader(sim.url, client, db_path).start(resume=False)
        finally:
            await client.aclose()
