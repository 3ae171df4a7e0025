"""Paper broker: the same trades as the backtest engine, stops on live prices, orders as a state machine."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.backtest import BacktestSettings, simulate
from domain.live.orders import TERMINAL, TRANSITIONS, InvalidTransition, OrderEvent, OrderState, next_state
from domain.live.paper import PaperBroker, PaperSettings
from domain.market import CandleSeries, Timeframe
from domain.strategy import Risk


@dataclass
class _Signals:
    entry_long: np.ndarray
    exit_long: np.ndarray
    entry_short: np.ndarray
    exit_short: np.ndarray


def _series(seed: int, n: int = 300) -> CandleSeries:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.concatenate([[100.0], close[:-1]]) * (1 + rng.normal(0, 0.002, n))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.01, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.01, n))
    ts = np.arange(n, dtype=np.int64) * 60_000
    return CandleSeries.from_columns(Timeframe.M1, ts, open_, high, low, close, np.ones(n))


@pytest.mark.parametrize("direction", ["long_only", "short_only", "long_short"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_signal_trades_match_the_backtest_engine_with_commission_and_slippage(direction: str, seed: int) -> None:
    s = _series(seed)
    rng = np.random.default_rng(seed + 100)
    sig = _Signals(*(rng.random(len(s)) < 0.08 for _ in range(4)))
    risk = Risk(position_size_pct=50)
    bt = simulate(s, sig, direction, risk, BacktestSettings(cash=10_000, commission=0.001, slippage=0.0005))
    broker = PaperBroker(PaperSettings(cash=10_000, commission=0.001, slippage=0.0005, position_size_pct=50,
                                       reverse=direction == "long_short"))
    long_ok, short_ok = direction != "short_only", direction != "long_only"
    closes = []
    for i in range(len(s)):
        for price in (s.open[i], s.high[i], s.low[i], s.close[i]):
            closes += [f for f in broker.on_trade(int(s.ts[i]), float(price)) if f.action == "close"]
        if 1 <= i < len(s) - 1:
            broker.on_signal(bool(sig.entry_long[i] and long_ok), bool(sig.exit_long[i] and long_ok),
                             bool(sig.entry_short[i] and short_ok), bool(sig.exit_short[i] and short_ok), 0)
    t = bt.trades
    assert len(closes) == len(t.pnl) > 0
    np.testing.assert_allclose([f.price for f in closes], t.exit_price, rtol=1e-12)
    np.testing.assert_allclose([f.quantity for f in closes], t.size, rtol=1e-12)
    np.testing.assert_allclose([f.realized_pnl for f in closes], t.pnl, rtol=1e-9, atol=1e-9)
    assert [-f.side for f in closes] == t.side.tolist()
    if bt.open_position is None:
        assert broker.side == 0
    else:
        assert broker.side == bt.open_position.side
        assert broker.size == pytest.approx(bt.open_position.size)
    assert broker.equity(float(s.close[-1])) == pytest.approx(bt.equity[-1], rel=1e-12)


def _long(settings: PaperSettings, price: float = 100.0) -> PaperBroker:
    b = PaperBroker(settings)
    b.on_trade(0, price)
    b.on_signal(True, False, False, False, 0)
    fills = b.on_trade(1, price)
    assert [f.action for f in fills] == ["open"]
    return b


def test_a_stop_loss_closes_a_long_at_the_first_trade_through_it() -> None:
    b = _long(PaperSettings(cash=1000, stop_loss_pct=2, take_profit_pct=5))
    assert b.on_trade(2, 98.5) == []
    (fill,) = b.on_trade(3, 97.0)
    assert (fill.reason, fill.price, b.side) == ("stop", 97.0, 0)
    assert fill.realized_pnl == pytest.approx(-30.0)
    assert b.cash == pytest.approx(970.0)


def test_a_take_profit_closes_a_long_and_adds_the_gain_to_cash() -> None:
    b = _long(PaperSettings(cash=1000, stop_loss_pct=2, take_profit_pct=5))
    (fill,) = b.on_trade(2, 105.5)
    assert fill.reason == "take_profit" and b.cash == pytest.approx(1055.0) and b.realized == pytest.approx(55.0)


def test_a_trailing_stop_follows_the_best_price_and_closes_on_the_pullback() -> None:
    b = _long(PaperSettings(cash=1000, trailing_stop_pct=10))
    for i, p in enumerate((110.0, 120.0, 109.0)):
        assert b.on_trade(10 + i, p) == []
    (fill,) = b.on_trade(20, 107.9)
    assert fill.reason == "trailing"


def test_equity_and_unrealised_pnl_follow_the_last_price() -> None:
    b = _long(PaperSettings(cash=1000, commission=0.001))
    b.on_trade(2, 110.0)
    assert b.unrealized() == pytest.approx(b.size * 10)
    assert b.equity() == pytest.approx(b.cash + b.size * 10)


def test_flatten_halts_trading_and_closes_at_the_last_price() -> None:
    b = _long(PaperSettings(cash=1000))
    b.on_trade(2, 104.0)
    (fill,) = b.flatten(3)
    assert (fill.reason, fill.price, b.side, b.halted) == ("flatten", 104.0, 0, True)
    rejected = b.on_signal(True, False, False, False, 4)
    assert [o.state for o in rejected] == [OrderState.REJECTED]


def test_a_snapshot_restores_the_same_position_levels_and_pending_orders() -> None:
    b = _long(PaperSettings(cash=1000, stop_loss_pct=3, trailing_stop_pct=5))
    b.on_trade(2, 108.0)
    b.on_signal(False, True, False, False, 3)
    twin = PaperBroker(b.settings)
    twin.restore(b.snapshot())
    assert twin.snapshot() == b.snapshot()
    assert twin.on_trade(4, 107.0)[0].price == b.on_trade(4, 107.0)[0].price


def test_an_entry_larger_than_the_cash_allows_is_rejected_with_a_reason() -> None:
    b = PaperBroker(PaperSettings(cash=1, lot_size=1.0))
    b.on_signal(True, False, False, False, 0)
    assert b.on_trade(1, 100.0) == []
    (order,) = b.orders.values()
    assert order.state is OrderState.REJECTED and "cash" in order.note


@given(st.lists(st.sampled_from(list(OrderEvent)), max_size=8))
@settings(max_examples=300)
def test_orders_move_only_along_the_table_and_terminal_states_are_final(events: list[OrderEvent]) -> None:
    state = OrderState.NEW
    for event in events:
        if (state, event) in TRANSITIONS:
            new = next_state(state, event)
            assert not state.terminal
            assert new is not OrderState.NEW
            state = new
        else:
            with pytest.raises(InvalidTransition):
                next_state(state, event)
    assert state is OrderState.NEW or state is OrderState.ACCEPTED or state in TERMINAL


def test_only_an_accepted_order_can_fill() -> None:
    assert {s for (s, e) in TRANSITIONS if e is OrderEvent.FILL} == {OrderState.ACCEPTED}


@given(st.lists(st.tuples(st.floats(50, 150), st.booleans(), st.booleans(), st.booleans(), st.booleans()),
                max_size=60))
@settings(max_examples=150, deadline=None)
def test_cash_is_the_start_plus_realised_pnl_when_flat_and_no_order_is_ever_left_undecided(rows: list) -> None:
    b = PaperBroker(PaperSettings(cash=1000, commission=0.001, slippage=0.001, stop_loss_pct=5,
                                  take_profit_pct=8, trailing_stop_pct=4))
    for i, (price, el, xl, es, xs) in enumerate(rows):
        b.on_trade(i, price)
        b.on_signal(el, xl, es, xs, i)
    b.on_trade(len(rows), rows[-1][0] if rows else 100.0)
    b.flatten(len(rows) + 1)
    assert b.side == 0 and not b.pending
    assert b.cash == pytest.approx(1000 + b.realized, abs=1e-6)
    assert all(o.state.terminal for o in b.orders.values())
    assert math.isfinite(b.equity())
