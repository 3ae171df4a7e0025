"""A paper session that scales in and exits on position values makes the backtest's trades on the same bars."""

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
from domain.live.paper_scale import ADD, ScalingPaperBroker
from domain.market import CandleSeries, Timeframe
from domain.strategy import Strategy, evaluate, parse_strategy

T0 = 1_704_067_200_000
COSTS = {"cash": 100_000.0, "commission": 0.001, "slippage": 0.0005, "lot_size": 0.001}


def trades(n_minutes: int, seed: int) -> list[tuple[int, float, float]]:
    rng = random.Random(seed)
    out, price = [], 1000.0
    for minute in range(n_minutes):
        for ms in sorted(rng.sample(range(60_000), rng.randint(1, 5))):
            price = round(price * (1 + rng.gauss(0, 0.004)), 1)
            out.append((T0 + minute * 60_000 + ms, price, round(rng.uniform(0.01, 2.0), 8)))
    return out


def scaling(direction: str) -> Strategy:
    """RSI entries; exits at +1.5 % or after 12 bars; adds at +0.6 % (불타기) or -0.6 % (물타기), twice at most."""
    ret, held = {"var": "position_return_pct"}, {"var": "bars_in_position"}
    rsi = {"var": "rsi", "params": {"period": 6}}
    exit_rule = {"any": [{"left": ret, "op": "ge", "right": {"const": 1.5}},
                         {"left": held, "op": "ge", "right": {"const": 12}}]}
    return parse_strategy({
        "schema": 2, "name": "scale in", "direction": direction,
        "entry_long": {"all": [{"left": rsi, "op": "crosses_above", "right": {"const": 40}}]},
        "entry_short": {"all": [{"left": rsi, "op": "crosses_below", "right": {"const": 60}}]},
        "exit_long": exit_rule, "exit_short": exit_rule, "risk": {"position_size_pct": 30},
        "scale_in": {"when": {"any": [{"left": ret, "op": "ge", "right": {"const": 0.6}},
                                      {"left": ret, "op": "le", "right": {"const": -0.6}}]},
                     "size_pct": 50, "max_adds": 2, "min_bars_between": 1}})


class ListFeed:
    exchange, symbol = "demo", "KRW-BTC"

    def __init__(self, ticks: list[tuple[int, float, float]]) -> None:
        self.ticks = ticks
        self.counters = FeedCounters()
        self.done = asyncio.Event()

    async def run(self, sink: Any) -> None:
        for ts, price, vol in self.ticks:
            sink(TradeTick(self.exchange, self.symbol, ts, price, vol, 0))
            self.counters.messages += 1
            await asyncio.sleep(0)
        self.done.set()
        await asyncio.Event().wait()


class FixedClock:
    def now_ms(self) -> int:
        return T0


async def run_paper(strategy: Strategy, ticks: list[tuple[int, float, float]]) -> Any:
    feed = ListFeed(ticks)

    async def history(exchange: str, symbol: str, tf: Timeframe, n: int) -> CandleSeries:
        return CandleSeries.empty(tf)

    async def rest(symbol: str, tf: Timeframe, start: int, end: int) -> CandleSeries:
        raise AssertionError("a stream that never drops needs no backfill here")

    engine = LiveEngine(lambda ex, sym: feed, lambda ex: rest, history, FixedClock(), flush_grace_ms=None)
    await engine.start()
    session = await engine.add_session(SessionSpec("p", strategy, "demo", "KRW-BTC", Timeframe.M1, **COSTS))
    await asyncio.wait_for(feed.done.wait(), 30)
    await engine.bus.drain()
    await engine.shutdown(flatten=False)
    return session


@pytest.mark.parametrize(("direction", "seed"), [("long_only", 3), ("long_short", 4)])
async def test_paper_scale_ins_and_position_exits_match_the_backtest_of_the_bars_the_session_saw(
        direction: str, seed: int) -> None:
    strategy = scaling(direction)
    session = await run_paper(strategy, trades(300, seed))
    assert isinstance(session.broker, ScalingPaperBroker)
    bars = session.evaluator.series()
    bt = simulate(bars, evaluate(strategy, bars), strategy.direction, strategy.risk, BacktestSettings(**COSTS))
    closes = [f for f in session.fills if f.action == "close"]
    adds = [f for f in session.fills if f.action == ADD]
    k = len(bt.trades.pnl)
    assert k >= 5 and len(adds) >= 3
    assert len(closes) in (k, k + 1)
    if len(closes) == k + 1:  # decided on the newest bar, filled by a trade of the minute the backtest lacks
        assert closes[-1].ts >= int(bars.ts[-1]) + 60_000
        closes = closes[:k]
    np.testing.assert_allclose([f.price for f in closes], bt.trades.exit_price, rtol=1e-12)
    np.testing.assert_allclose([f.quantity for f in closes], bt.trades.size, rtol=1e-12)
    np.testing.assert_allclose([f.realized_pnl for f in closes], bt.trades.pnl, rtol=1e-9)
