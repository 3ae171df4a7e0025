"""The paper broker scales in and exits on position values exactly as the backtest does on the same bars."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.backtest import BacktestSettings
from domain.backtest.run import indicator_warmup, run_backtest
from domain.live.paper import PaperSettings
from domain.live.paper_scale import ADD, ScaleSettings, ScalingPaperBroker
from domain.market import CandleSeries, Timeframe
from domain.strategy import IncrementalEvaluator, Strategy, parse_strategy


def walk(n: int, seed: int) -> CandleSeries:
    rng = np.random.default_rng(seed)
    close = np.round(1000 * np.exp(np.cumsum(rng.normal(0, 0.006, n))), 1)
    open_ = np.round(np.r_[close[0], close[:-1]] * np.exp(rng.normal(0, 0.002, n)), 1)
    high, low = np.maximum(open_, close) + 0.5, np.minimum(open_, close) - 0.5
    ts = np.arange(n, dtype=np.int64) * Timeframe.M1.ms
    return CandleSeries.from_columns(Timeframe.M1, ts, open_, high, low, close, np.ones(n))


def scaling(take: float, hold: int, up: float, down: float, adds: int, gap: int, direction: str) -> Strategy:
    ret, held = {"var": "position_return_pct"}, {"var": "bars_in_position"}
    rsi = {"var": "rsi", "params": {"period": 6}}
    exit_rule = {"any": [{"left": ret, "op": "ge", "right": {"const": take}},
                         {"left": held, "op": "ge", "right": {"const": hold}}]}
    return parse_strategy({
        "schema": 2, "name": "scaling", "direction": direction,
        "entry_long": {"all": [{"left": rsi, "op": "crosses_above", "right": {"const": 40}}]},
        "entry_short": {"all": [{"left": rsi, "op": "crosses_below", "right": {"const": 60}}]},
        "exit_long": exit_rule, "exit_short": exit_rule,
        "risk": {"position_size_pct": 30},
        "scale_in": {"when": {"any": [{"left": ret, "op": "ge", "right": {"const": up}},
                                      {"left": ret, "op": "le", "right": {"const": -down}}]},
                     "size_pct": 50, "max_adds": adds, "min_bars_between": gap}})


def paper_run(strategy: Strategy, series: CandleSeries, cfg: BacktestSettings) -> ScalingPaperBroker:
    """Each bar: a trade at its open (fills what the last close decided), then its close is evaluated."""
    s = strategy.scale_in
    assert s is not None
    broker = ScalingPaperBroker(PaperSettings(cash=cfg.cash, commission=cfg.commission, slippage=cfg.slippage,
                                              lot_size=cfg.lot_size, position_size_pct=30,
                                              reverse=strategy.direction == "long_short"),
                                ScaleSettings(s.size_pct, s.max_adds, s.min_bars_between))
    evaluator = IncrementalEvaluator(strategy, series.take(slice(0, 0)))
    first = indicator_warmup(strategy, series) + 1
    for i in range(len(series)):
        bar = series.candle(i)
        broker.on_trade(bar.ts, bar.open)
        row = evaluator.update(bar, broker.position_at_close(bar.close))
        if first <= i < len(series) - 1:
            broker.on_signal(row.entry_long, row.exit_long, row.entry_short, row.exit_short, bar.ts, row.scale_in)
    return broker


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.floats(0.5, 3).map(lambda x: round(x, 1)), st.integers(3, 25), st.floats(0.3, 2).map(lambda x: round(x, 1)),
       st.floats(0.3, 2).map(lambda x: round(x, 1)), st.integers(1, 3), st.integers(0, 4),
       st.sampled_from(["long_only", "short_only", "long_short"]), st.integers(0, 300))
def test_paper_fills_equal_the_backtest_with_scaling_in_and_position_exits(
        take: float, hold: int, up: float, down: float, adds: int, gap: int, direction: str, seed: int) -> None:
    strategy = scaling(take, hold, up, down, adds, gap, direction)
    series = walk(600, seed)
    cfg = BacktestSettings(cash=100_000, commission=0.001, slippage=0.0005, lot_size=0.001)
    bt = run_backtest(strategy, series, cfg)
    broker = paper_run(strategy, series, cfg)
    closes = [o for o in broker.orders.values() if o.action == "close" and o.quantity]
    t = bt.trades
    assert len(closes) == len(t)
    np.testing.assert_allclose([o.quantity for o in closes], t.size, rtol=1e-12)
    np.testing.assert_allclose([o.price for o in closes], t.exit_price, rtol=1e-12)
    assert broker.realized == pytest.approx(float(t.pnl.sum()), rel=1e-9, abs=1e-6)
    if broker.side == 0:
        assert broker.cash == pytest.approx(float(bt.equity[-1]), rel=1e-12)


def test_the_parity_run_really_scales_in_and_exits_on_position_values() -> None:
    strategy = scaling(1.0, 10, 0.5, 0.5, 2, 1, "long_only")
    broker = paper_run(strategy, walk(600, 1), BacktestSettings(cash=100_000, lot_size=0.001))
    actions = [o.action for o in broker.orders.values() if o.quantity]
    assert actions.count(ADD) >= 3 and actions.count("close") >= 5
