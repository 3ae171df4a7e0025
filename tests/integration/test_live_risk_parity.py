"""A paper session on a trade stream stops, takes profit in parts and trails as the backtest of its bars."""

from __future__ import annotations

import numpy as np
import pytest

from domain.backtest import BacktestSettings, simulate
from domain.backtest.trades import EXIT_REASONS
from domain.live.paper_risk import RiskPaperBroker
from domain.strategy import Strategy, evaluate, parse_strategy
from tests.integration.test_live_scale_in_parity import COSTS, run_paper, trades


def levels(direction: str) -> Strategy:
    fast, slow = {"var": "ema", "params": {"period": 3}}, {"var": "ema", "params": {"period": 8}}
    return parse_strategy({
        "schema": 2, "name": "levels", "direction": direction,
        "entry_long": {"all": [{"left": fast, "op": "crosses_above", "right": slow}]},
        "entry_short": {"all": [{"left": fast, "op": "crosses_below", "right": slow}]},
        "risk": {"position_size_pct": 50, "stop_loss": {"atr": {"period": 5, "mult": 2}},
                 "take_profit": [{"atr": {"period": 5, "mult": 1}, "close_pct": 50}, {"pct": 1.5, "close_pct": 50}],
                 "trailing_stop": {"atr": {"period": 5, "mult": 2.5}, "anchor": "close"}}})


@pytest.mark.parametrize(("direction", "seed"),
                         [("long_only", 5), ("long_short", 6), ("short_only", 3), ("long_short", 1)])
async def test_paper_stops_levels_and_trailing_on_a_trade_stream_match_the_backtest_of_its_bars(
        direction: str, seed: int) -> None:
    strategy = levels(direction)
    session = await run_paper(strategy, trades(400, seed))
    assert isinstance(session.broker, RiskPaperBroker)
    bars = session.evaluator.series()
    bt = simulate(bars, evaluate(strategy, bars), strategy.direction, strategy.risk, BacktestSettings(**COSTS))
    end = int(bars.ts[-1]) + 60_000  # fills after it come from the minute the backtest lacks
    closes = [f for f in session.fills if f.action == "close" and f.ts < end]
    t = bt.trades
    assert len(t) >= 10
    assert {"stop", "take_profit", "trailing"} <= {f.reason for f in closes}
    assert [f.reason for f in closes] == [EXIT_REASONS[r] for r in t.exit_reason]
    np.testing.assert_allclose([f.price for f in closes], t.exit_price, rtol=1e-12)
    np.testing.assert_allclose([f.quantity for f in closes], t.size, rtol=1e-12)
    np.testing.assert_allclose([f.realized_pnl for f in closes], t.pnl, rtol=1e-9)
