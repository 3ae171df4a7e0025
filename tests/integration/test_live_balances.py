"""Balances reconciled with the simulator, and Upbit's private websocket feeding fills and balances to the broker."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from app.bootstrap.trading import TradingAccount, open_account
from app.live.bars import MarketBars
from app.live.history import gateway_bar_fetch
from app.live.trading.balances import BalanceLedger
from app.live.trading.driver import SessionDriver
from app.live.trading.live_broker import LiveBroker, LiveSettings
from app.live.trading.live_session import LiveTrader
from app.live.trading.ports import OrderIntent
from app.live.trading.router import OrderRouter
from domain.live.risk import RiskEngine, RiskLimits
from domain.market import CandleSeries, Timeframe
from domain.strategy import IncrementalEvaluator, SignalRow, Strategy, parse_strategy
from infrastructure.clock import SystemClock
from infrastructure.exchanges import ExchangeGateways
from infrastructure.exchanges.upbit_private import SpotOrder, UpbitPrivateClient
from infrastructure.exchanges.upbit_ws import UpbitTradeFeed
from infrastructure.exchanges.ws import StreamPolicy
from infrastructure.keys import ApiKeys
from tests.integration.private_sim import API_KEY, SECRET, private_simulator
from tests.integration.test_live_session import journal


def never_trades() -> Strategy:
    """A strategy whose rules never fire: every order in these tests is the test's own."""
    return parse_strategy({
        "schema": 1, "name": "Quiet", "direction": "long_only",
        "entry_long": {"all": [{"left": {"var": "close"}, "op": "lt", "right": {"const": 0}}]},
        "entry_short": None, "exit_long": None, "exit_short": None,
        "risk": {"position_size_pct": 20, "stop_loss_pct": None, "take_profit_pct": None, "trailing_stop_pct": None}})


def trader(account: TradingAccount, url: str, db_path: Path, session: str, audit: Any = None) -> LiveTrader:
    exchange, market = account.exchange, account.market
    router = OrderRouter(account.gateway, journal(db_path), SystemClock(), session)
    settings = LiveSettings(20, lot_size=1e-3 if exchange == "binance" else 1e-8, spot=exchange == "upbit")
    broker = LiveBroker(router, account, RiskEngine(RiskLimits()), settings, SystemClock(), audit)
    broker.bind(market, 0.0)
    fetch = gateway_bar_fetch(ExchangeGateways({exchange: url}))(exchange)
    driver = SessionDriver(IncrementalEvaluator(never_trades(), CandleSeries.empty(Timeframe.M1)),
                           MarketBars(exchange, market, fetch), broker, Timeframe.M1)
    ledger = BalanceLedger(account, account.quote, futures=exchange == "binance")
    return LiveTrader(session, driver, broker, account.stream(), reconcile_every_s=3600, ledger=ledger)


async def test_upbit_buys_of_the_session_are_explained_and_an_outside_trade_on_the_same_krw_halts_it(
        db_path: Path) -> None:
    async with private_simulator(speed=1.0) as sim:
        account = open_account("upbit", "KRW-BTC", ApiKeys("upbit", API_KEY, SECRET), sim.url)
        other = UpbitPrivateClient(API_KEY, SECRET, sim.url)
        try:
            t = trader(account, sim.url, db_path, "bal-KRWBTC-1m")
            started = await t.start(resume=False)
            await t.broker.on_price(0, sim.private.engine.price("upbit", "KRW-BTC"))
            entry = await t.broker.on_signal(SignalRow(True, False, False, False), 0)
            after_entry = await t.reconcile("timer")
            await other.place_order(SpotOrder("KRW-ETH", "bid", "price", funds=300_000, identifier="by-hand-1"))
            outside = await t.reconcile("timer")
            halted = t.broker.halted
            reset = await t.reset_halt()
        finally:
            await other.aclose()
            await account.aclose()
    assert started.clean and len(entry) == 1 and t.broker.position > 0
    assert after_entry.clean, after_entry.differences  # 2,000,000 KRW spent on BTC: the journal explains it
    (difference,) = outside.differences
    assert difference.startswith("balance of KRW at the exchange is ") and " unexplained" in difference
    # the outside buy with its fee, and the fee of the session's own buy (fees are a tolerance, not expected)
    assert -302_500 < unexplained(difference) < -300_000
    assert halted.startswith("reconciliation: balance of KRW") and reset.clean and not t.broker.halted


async def test_binance_realised_profit_is_explained_and_an_outside_withdrawal_halts_the_session(
        db_path: Path) -> None:
    async with private_simulator(speed=60.0) as sim:
        account = open_account("binance", "BTCUSDT", ApiKeys("binance", API_KEY, SECRET), sim.url)
        try:
            t = trader(account, sim.url, db_path, "bal-BTCUSDT-1m")
            await t.start(resume=False)
            await t.broker.on_price(0, sim.private.engine.price("binance", "BTCUSDT"))
            await t.broker.on_signal(SignalRow(True, False, False, False), 0)
            await asyncio.sleep(1.0)  # the market moves: the close realises a profit or a loss
            await t.broker.on_price(1, sim.private.engine.price("binance", "BTCUSDT"))
            await t.broker.close("signal")
            round_trip = await t.reconcile("timer")
            sim.private.book.accounts[API_KEY].balances["USDT"] -= 250.0  # a transfer out of the futures wallet
            withdrawn = await t.reconcile("timer")
        finally:
            await account.aclose()
    assert round_trip.clean, round_trip.differences
    orders = t.broker.router.journal.orders("bal-BTCUSDT-1m")
    assert [o.side for o in orders] == ["BUY", "SELL"] and orders[0].avg_price != orders[1].avg_price
    (difference,) = withdrawn.differences
    assert difference.startswith("balance of USDT at the exchange is ") and difference.endswith(" USDT unexplained")
    assert -254 < unexplained(difference) < -250  # the transfer and the two fills' fees
    assert t.broker.halted.startswith("reconciliation: balance of USDT")


async def test_upbit_fills_and_balances_reach_the_broker_through_the_private_websocket(db_path: Path) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []
    async with private_simulator(speed=60.0) as sim:
        account = open_account("upbit", "KRW-BTC", ApiKeys("upbit", API_KEY, SECRET), sim.url)
        try:
            t = trader(account, sim.url, db_path, "ws-KRWBTC-1m", audit=lambda kind, **f: seen.append((kind, f)))
            await t.start(resume=False)
            feed = UpbitTradeFeed("KRW-BTC", sim.url, StreamPolicy(stall_s=5.0, backoff_initial_s=0.05),
                                  exchange="upbit")
            run = asyncio.create_task(t.run(feed))
            account_ = sim.private.book.accounts[API_KEY]
            await _until(lambda: any(kind == "upbit" for kind, _q in account_.subscribers))
            router = t.broker.router
            # sent through the session's router only: the broker hears of the fill from the stream alone
            await router.submit(OrderIntent(router.new_client_id(), "KRW-BTC", "BUY", "MARKET",
                                            quote_amount=50_000))
            before_stream = t.broker.position
            await _until(lambda: t.broker.position > 0 and "KRW" in t.broker.balances)
            await t.stop(run)
            exchange_krw = sim.private.book.accounts[API_KEY].balances["KRW"]
        finally:
            await account.aclose()
    assert before_stream == 0
    updates = [f for kind, f in seen if kind == "OrderUpdate"]
    done = [u for u in updates if u["status"] == "FILLED"]
    assert done and done[-1]["client_id"] == "ws-KRWBTC-1m-1" and done[-1]["fee_asset"] == "KRW"
    assert sum(u["fee"] for u in updates) > 0  # the trade's fee, as the stream reported it
    assert abs(t.broker.balances["KRW"] - exchange_krw) < 1e-6
    assert t.broker.router.journal.orders("ws-KRWBTC-1m")[0].status == "FILLED"


def unexplained(difference: str) -> float:
    return float(difference.split(": ")[-1].split()[0].replace(",", ""))


async def _until(cond: Any, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)

