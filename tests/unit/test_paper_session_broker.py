"""A paper session picks its broker: plain, scaling in, or running stops and targets by the backtest's rules."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from app.errors import UserError
from app.live.session import PaperSession, SessionSpec
from domain.live.paper import PaperBroker
from domain.live.paper_risk import RiskPaperBroker
from domain.live.paper_scale import ScaleSettings, ScalingPaperBroker
from domain.market import CandleSeries, Timeframe
from domain.strategy import parse_strategy

RSI = {"var": "rsi", "params": {"period": 6}}
ENTRY = {"all": [{"left": RSI, "op": "crosses_above", "right": {"const": 40}}]}


def spec(risk: dict[str, Any], **extra: Any) -> SessionSpec:
    strategy = parse_strategy({"schema": 2, "name": "s", "direction": "long_only", "entry_long": ENTRY,
                               "risk": risk, **extra})
    return SessionSpec("p1", strategy, "demo", "KRW-BTC", Timeframe.M1)


def test_a_strategy_without_stops_scaling_or_position_rules_trades_on_the_plain_paper_broker() -> None:
    broker = spec({"position_size_pct": 50}).new_broker()
    assert type(broker) is PaperBroker


def test_scaling_in_gets_the_scaling_broker_with_the_strategy_s_limits() -> None:
    when = {"all": [{"left": {"var": "position_return_pct"}, "op": "le", "right": {"const": -3}}]}
    broker = spec({"position_size_pct": 50}, scale_in={"when": when, "size_pct": 40, "max_adds": 2,
                                                       "min_bars_between": 3}).new_broker()
    assert isinstance(broker, ScalingPaperBroker) and broker.scale is not None
    assert (broker.scale.size_pct, broker.scale.max_adds, broker.scale.min_bars_between) == (40, 2, 3)


def test_an_exit_on_bars_held_gets_the_scaling_broker_for_the_position_values_only() -> None:
    held = {"all": [{"left": {"var": "bars_in_position"}, "op": "ge", "right": {"const": 10}}]}
    broker = spec({"position_size_pct": 50}, exit_long=held).new_broker()
    assert isinstance(broker, ScalingPaperBroker) and broker.scale is None


@pytest.mark.parametrize("risk", [{"position_size_pct": 50, "stop_loss": {"pct": 2}},
                                  {"position_size_pct": 50, "stop_loss": {"atr": {"period": 14, "mult": 2}}},
                                  {"position_size_pct": 50, "take_profit": [{"pct": 2, "close_pct": 50},
                                                                            {"pct": 5, "close_pct": 50}]},
                                  {"position_size_pct": 50, "trailing_stop": {"pct": 3, "anchor": "close"}}])
def test_stops_targets_and_trailing_run_on_the_broker_that_shares_the_backtest_s_rules(risk: dict[str, Any]) -> None:
    when = {"all": [{"left": {"var": "position_return_pct"}, "op": "le", "right": {"const": -3}}]}
    plain = spec(risk).new_broker()
    scaling = spec(risk, scale_in={"when": when, "size_pct": 40, "max_adds": 2, "min_bars_between": 3}).new_broker()
    assert isinstance(plain, RiskPaperBroker) and plain.scale is None
    assert isinstance(scaling, RiskPaperBroker) and scaling.scale == ScaleSettings(40, 2, 3)


def test_bad_account_settings_are_refused_naming_the_session() -> None:
    bad = SessionSpec("p1", spec({"position_size_pct": 50}).strategy, "demo", "KRW-BTC", Timeframe.M1, cash=-5)
    with pytest.raises(UserError, match="paper session p1: cash: must be a positive amount"):
        bad.new_broker()


def walk(n: int, seed: int) -> CandleSeries:
    rng = np.random.default_rng(seed)
    close = np.round(1000 * np.exp(np.cumsum(rng.normal(0, 0.006, n))), 1)
    open_ = np.round(np.r_[close[0], close[:-1]] * np.exp(rng.normal(0, 0.002, n)), 1)
    ts = np.arange(n, dtype=np.int64) * Timeframe.M1.ms
    return CandleSeries.from_columns(Timeframe.M1, ts, open_, np.maximum(open_, close) + 0.5,
                                     np.minimum(open_, close) - 0.5, close, np.ones(n))


def trade_bars(session: PaperSession, series: CandleSeries, start: int, stop: int) -> None:
    """Each bar: a trade at its open fills what the last close decided, then its close is evaluated and acted on."""
    for i in range(start, stop):
        bar = series.candle(i)
        session.on_trade(bar.ts, bar.open)
        row = session.on_bar(bar)
        assert row is not None
        session.act(row, bar.ts)


def test_a_resumed_scaling_session_keeps_its_bars_held_and_adds_and_trades_as_if_never_stopped() -> None:
    ret, held = {"var": "position_return_pct"}, {"var": "bars_in_position"}
    when = {"any": [{"left": ret, "op": "ge", "right": {"const": 0.5}},
                    {"left": ret, "op": "le", "right": {"const": -0.5}}]}
    exit_rule = {"any": [{"left": ret, "op": "ge", "right": {"const": 2}},
                         {"left": held, "op": "ge", "right": {"const": 12}}]}
    s = spec({"position_size_pct": 30}, exit_long=exit_rule,
             scale_in={"when": when, "size_pct": 50, "max_adds": 3, "min_bars_between": 1})
    series = walk(600, 2)
    first = PaperSession.build(s, series.take(slice(0, 0)))
    k = 0
    while not (first.broker.side and isinstance(first.broker, ScalingPaperBroker) and first.broker.adds == 1):
        trade_bars(first, series, k, k + 1)
        k += 1
    state = json.loads(json.dumps(first.snapshot()))
    resumed = PaperSession.build(s, series.take(slice(0, k)), state, int(series.ts[k - 1]))
    assert isinstance(resumed.broker, ScalingPaperBroker)
    assert (resumed.broker.bar - resumed.broker.entry_bar, resumed.broker.adds) == (
        first.broker.bar - first.broker.entry_bar, 1)
    trade_bars(first, series, k, len(series))
    trade_bars(resumed, series, k, len(series))
    tail = [(f.action, f.side, f.quantity, f.price, f.ts) for f in first.fills if f.ts > int(series.ts[k - 1])]
    assert [(f.action, f.side, f.quantity, f.price, f.ts) for f in resumed.fills] == tail
    assert sum(1 for f in tail if f[0] == "add") >= 2 and resumed.broker.cash == first.broker.cash
    adds = [m for m in resumed.markers if m.reason == "scale_in"]
    assert adds and all(m.action == "open" for m in adds)  # drawn on the chart as entries, named by their reason
