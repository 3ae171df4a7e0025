"""One strategy, two engines: paper trading on a stream of trades makes the backtest's trades on the same bars."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import numpy as np
import pytest

from app.live.engine import LiveEngine
from app.live.events import TradeTick
from app.live.metrics import FeedCounters
from app.live.session import SessionSpec
from domain.backtest import BacktestSettings, simulate
from domain.live.aggregator import TradeAggregator
from domain.market import CandleSeries, Timeframe
from domain.strategy import evaluate, parse_strategy

T0 = 1_704_067_200_000


def _trades(n_minutes: int, seed: int) -> list[tuple[int, float, float]]:
    rng = random.Random(seed)
    out, price = [], 1000.0
    for minute in range(n_minutes):
        for ms in sorted(rng.sample(range(60_000), rng.randint(1, 6))):
            price = round(price * (1 + rng.gauss(0, 0.004)), 1)
            out.append((T0 + minute * 60_000 + ms, price, round(rng.uniform(0.01, 2.0), 8)))
    return out


class _ListFeed:
    exchange, symbol = "demo", "KRW-BTC"

    def __init__(self, trades: list[tuple[int, float, float]]) -> None:
        self.trades = trades
        self.counters = FeedCounters()
        self.done = asyncio.Event()

    async def run(self, sink: Any) -> None:
        for ts, price, vol in self.trades:
            sink(TradeTick(self.exchange, self.symbol, ts, price, vol, 0))
            self.counters.messages += 1
            await asyncio.sleep(0)
        self.done.set()
        await asyncio.Event().wait()


@pytest.mark.parametrize("seed", [1, 2])
async def test_paper_fills_match_the_backtest_of_the_bars_the_session_saw(seed: int) -> None:
    strategy = parse_strategy({
        "schema": 1, "name": "SMA 2/5", "direction": "long_short",
        "entry_long": {"all": [{"left": {"var": "sma", "params": {"period": 2}}, "op": "crosses_above",
                                "right": {"var": "sma", "params": {"period": 5}}}]},
        "entry_short": {"all": [{"left": {"var": "sma", "params": {"period": 2}}, "op": "crosses_below",
                                 "right": {"var": "sma", "params": {"period": 5}}}]},
        "exit_long": None, "exit_short": None,
        "risk": {"position_size_pct": 50, "stop_loss_pct": None, "take_profit_pct": None, "trailing_stop_pct": None}})
    trades = _trades(240, seed)
    feed = _ListFeed(trades)

    async def history(exchange: str, symbol: str, tf: Timeframe, n: int) -> CandleSeries:
        return CandleSeries.empty(tf)

    async def rest(symbol: str, tf: Timeframe, start: int, end: int) -> CandleSeries:
        raise AssertionError("a stream that never drops needs no backfill here")

    class Clock:
        def now_ms(self) -> int:
            return T0

    engine = LiveEngine(lambda ex, sym: feed, lambda ex: rest, history, Clock(), flush_grace_ms=None)
    await engine.start()
    session = await engine.add_session(SessionSpec("p", strategy, "demo", "KRW-BTC", Timeframe.M1, cash=100_000,
                                                   commission=0.001, slippage=0.0005))
    await asyncio.wait_for(feed.done.wait(), 30)
    await engine.bus.drain()
    await engine.shutdown(flatten=False)

    bars = session.evaluator.series()
    agg = TradeAggregator(Timeframe.M1)
    expected_first = next(b for t in trades if (b := agg.add(*t)) is not None).ts + 60_000  # first whole minute
    assert int(bars.ts[0]) == expected_first
    signals = evaluate(strategy, bars)
    bt = simulate(bars, signals, strategy.direction, strategy.risk,
                  BacktestSettings(cash=100_000, commission=0.001, slippage=0.0005))
    closes = [f for f in session.fills if f.action == "close"]
    opens = [f for f in session.fills if f.action == "open"]
    k = len(bt.trades.pnl)
    assert k >= 3 and len(closes) in (k, k + 1)
    if len(closes) == k + 1:  # decided on the newest bar, filled by a trade of the minute the backtest lacks
        assert closes[-1].ts >= int(bars.ts[-1]) + 60_000
        closes, opens = closes[:k], opens[:k]
    np.testing.assert_allclose([f.price for f in opens[: len(closes)]], bt.trades.entry_price, rtol=1e-12)
    np.testing.assert_allclose([f.price for f in closes], bt.trades.exit_price, rtol=1e-12)
    np.testing.assert_allclose([f.quantity for f in closes], bt.trades.size, rtol=1e-12)
    np.testing.assert_allclose([f.realized_pnl for f in closes], bt.trades.pnl, rtol=1e-9)
