"""A futures paper session on the simulator's Binance stream (klines and mark prices) keeps the futures backtest's
account on the bars it saw: the same trades and exit reasons, liquidations, and funding settled at funding times."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from live_helpers import SimClock

from app.bootstrap.live import build_live_engine
from app.live.session import SessionSpec
from domain.backtest import BacktestSettings
from domain.backtest.run import backtest_signals, indicator_warmup
from domain.market import Timeframe
from domain.strategy import Strategy, evaluate, parse_strategy
from infrastructure.exchanges import ExchangeGateways
from infrastructure.futures_brackets import load_default_brackets
from infrastructure.simulator.funding import FUNDING_MS, simulator_funding
from infrastructure.simulator.server import SimulatorServer
from infrastructure.simulator.state import SimulatorConfig, accelerated_clock

START_MS = 1_709_280_000_000 - 2 * 3_600_000  # 2024-03-01T06:00Z: two hours before a funding time
SPEED = 10_800.0  # three simulated hours per wall second


def sma_cross() -> Strategy:
    def leg(op: str) -> dict:
        return {"all": [{"left": {"var": "sma", "params": {"period": 3}}, "op": op,
                         "right": {"var": "sma", "params": {"period": 8}}}]}

    return parse_strategy({"schema": 1, "name": "SMA 3/8", "direction": "long_short",
                           "entry_long": leg("crosses_above"), "entry_short": leg("crosses_below"),
                           "exit_long": None, "exit_short": None,
                           "risk": {"position_size_pct": 50, "stop_loss_pct": None, "take_profit_pct": None,
                                    "trailing_stop_pct": None}})


@pytest.mark.parametrize(("leverage", "margin", "cash"), [(100, "isolated", 10_000.0), (125, "cross", 1_000.0)])
async def test_a_leveraged_paper_session_on_the_binance_stream_keeps_the_backtests_trades_and_funding(
        leverage: int, margin: str, cash: float) -> None:
    config = SimulatorConfig(clock=accelerated_clock(START_MS, SPEED), stream_interval_s=0.02, seed=5)
    strategy, tf = sma_cross(), Timeframe.M15
    async with SimulatorServer(config) as sim:
        gateways = ExchangeGateways({"binance": sim.url})
        stack = build_live_engine(gateways, {"binance": sim.url}, SimClock(config.clock), flush_grace_ms=None)
        engine = stack.engine
        await engine.start()
        session = await engine.add_session(SessionSpec("fut", strategy, "binance", "BTCUSDT", tf, cash=cash,
                                                       commission=0.0005, leverage=leverage, margin=margin))
        joined = session.last_bar_ts
        await asyncio.sleep(20.0)  # about 2.5 simulated days: seven funding times
        await engine.shutdown(flatten=False)
        await gateways.aclose()

    bars = session.evaluator.series()
    first = int(np.searchsorted(bars.ts, joined, side="right"))  # the first bar closed on the stream
    assert first >= indicator_warmup(strategy, bars) + 1 and len(bars) - first > 150
    end = int(bars.ts[-1]) + tf.ms
    rates = simulator_funding("BTCUSDT", int(bars.ts[0]), end, seed=5)
    settings = BacktestSettings(cash=cash, commission=0.0005, leverage=leverage, margin=margin,
                                brackets=load_default_brackets()["BTCUSDT"], funding=rates)
    bt = backtest_signals(bars, evaluate(strategy, bars), strategy.direction, strategy.risk, settings, first - 1)

    closes = [f for f in session.fills if f.action == "close"]
    opens = [f for f in session.fills if f.action == "open"]
    k = len(bt.trades.pnl)
    if len(closes) == k + 1:  # decided on the newest bar, filled by a kline of the bar the backtest lacks
        assert closes[-1].ts >= end
        closes = closes[:k]
    opens = opens[:k]  # a position still open at the end has no backtest trade
    assert len(closes) == k >= 5
    reasons = bt.trades.reasons()
    assert [f.reason for f in closes] == reasons
    assert "liquidation" in reasons and bt.stats["Liquidations"] == reasons.count("liquidation")
    np.testing.assert_allclose([f.price for f in opens], bt.trades.entry_price, rtol=1e-12)
    np.testing.assert_allclose([f.quantity for f in closes], bt.trades.size, rtol=1e-12)
    np.testing.assert_allclose([f.realized_pnl for f in closes], bt.trades.pnl, rtol=1e-9, atol=1e-9)
    kept = [(t, r) for t, r in session.funding if t < end]
    assert len(kept) >= 3 and all(t % FUNDING_MS == 0 for t, _ in kept)
    assert sum(r for _, r in kept) == pytest.approx(bt.stats["Funding [$]"], rel=1e-9, abs=1e-9)
