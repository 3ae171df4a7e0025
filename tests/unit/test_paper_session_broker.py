"""A paper session picks the broker its strategy needs and refuses risk the paper broker cannot run."""

from __future__ import annotations

from typing import Any

import pytest

from app.errors import UserError
from app.live.session import SessionSpec
from domain.live.paper import PaperBroker
from domain.live.paper_scale import ScalingPaperBroker
from domain.market import Timeframe
from domain.strategy import parse_strategy

RSI = {"var": "rsi", "params": {"period": 6}}
ENTRY = {"all": [{"left": RSI, "op": "crosses_above", "right": {"const": 40}}]}


def spec(risk: dict[str, Any], **extra: Any) -> SessionSpec:
    strategy = parse_strategy({"schema": 2, "name": "s", "direction": "long_only", "entry_long": ENTRY,
                               "risk": risk, **extra})
    return SessionSpec("p1", strategy, "demo", "KRW-BTC", Timeframe.M1)


def test_a_strategy_without_scaling_or_position_rules_trades_on_the_plain_paper_broker() -> None:
    broker = spec({"position_size_pct": 50, "stop_loss": {"pct": 2}}).new_broker()
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


@pytest.mark.parametrize("risk", [{"position_size_pct": 50, "stop_loss": {"atr": {"period": 14, "mult": 2}}},
                                  {"position_size_pct": 50, "take_profit": [{"pct": 2, "close_pct": 50},
                                                                            {"pct": 5, "close_pct": 50}]},
                                  {"position_size_pct": 50, "trailing_stop": {"pct": 3, "anchor": "close"}}])
def test_risk_the_paper_broker_cannot_run_is_refused_naming_the_session(risk: dict[str, Any]) -> None:
    with pytest.raises(UserError, match="paper session p1: .*would be ignored"):
        spec(risk).new_broker()
