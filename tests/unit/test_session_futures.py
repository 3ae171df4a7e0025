"""A session spec's leverage and margin: the futures broker on Binance USDT-M, a clear refusal elsewhere."""

from __future__ import annotations

import re

import pytest

from app.errors import UserError
from app.live.session import PaperSession, SessionSpec
from domain.live.paper import PaperBroker
from domain.live.paper_futures import FuturesPaperBroker
from domain.market import CandleSeries, Timeframe
from domain.strategy import parse_strategy
from infrastructure.futures_brackets import load_default_brackets

BTC = load_default_brackets()["BTCUSDT"]
STRATEGY = parse_strategy({
    "schema": 1, "name": "Always long", "direction": "long_only",
    "entry_long": {"all": [{"left": {"var": "close"}, "op": "gt", "right": {"const": 0}}]},
    "entry_short": None, "exit_long": None, "exit_short": None,
    "risk": {"position_size_pct": 50, "stop_loss_pct": None, "take_profit_pct": None, "trailing_stop_pct": None}})


def spec(exchange: str, symbol: str, **kw: object) -> SessionSpec:
    return SessionSpec("s", STRATEGY, exchange, symbol, Timeframe.M1, **kw)  # type: ignore[arg-type]


def test_a_binance_session_with_brackets_keeps_a_futures_account_at_its_leverage_and_margin() -> None:
    broker = spec("binance", "BTCUSDT", leverage=20, margin="cross").new_broker(BTC)
    assert isinstance(broker, FuturesPaperBroker)
    assert (broker.account.leverage, broker.account.margin) == (20, "cross")


@pytest.mark.parametrize(("exchange", "symbol", "kw", "brackets", "message"), [
    ("upbit", "KRW-BTC", {"leverage": 3}, None, "paper session s: leverage: upbit trades spot only, so leverage "
                                                "must be 1 (got 3)"),
    ("demo", "KRW-BTC", {"margin": "cross"}, None, "margin: demo trades spot, there is no margin mode to choose"),
    ("binance", "BTCUSDT", {"leverage": 126}, BTC, "leverage: binance BTCUSDT allows 1..125, got 126"),
    ("binance", "NEWUSDT", {"leverage": 5}, None, "no maintenance-margin brackets known for NEWUSDT"),
    ("binance", "BTCUSDT", {"margin": "hedge"}, BTC, "margin: must be isolated or cross, got 'hedge'"),
])
def test_leverage_or_margin_a_market_cannot_take_is_refused_by_name(exchange: str, symbol: str, kw: dict,
                                                                    brackets: object, message: str) -> None:
    with pytest.raises(UserError, match=re.escape(message)):
        spec(exchange, symbol, **kw).new_broker(brackets)  # type: ignore[arg-type]


def test_spot_sessions_keep_the_plain_broker() -> None:
    broker = spec("upbit", "KRW-BTC").new_broker(None)
    assert type(broker) is PaperBroker


def test_leverage_and_margin_survive_the_stored_spec_and_older_specs_read_as_1x_isolated() -> None:
    s = spec("binance", "BTCUSDT", leverage=7, margin="cross", cash=500.0)
    again = SessionSpec.from_dict(s.to_dict())
    assert (again.leverage, again.margin, again.cash) == (7, "cross", 500.0)
    old = {k: v for k, v in s.to_dict().items() if k not in ("leverage", "margin")}
    assert (SessionSpec.from_dict(old).leverage, SessionSpec.from_dict(old).margin) == (1, "isolated")


def test_a_session_kept_before_futures_accounts_resumes_with_the_margin_it_opened_with() -> None:
    plain = PaperBroker(spec("binance", "BTCUSDT", leverage=10).settings())
    plain.on_signal(True, False, False, False, 0)
    plain.on_trade(1, 100.0)
    session = PaperSession.build(spec("binance", "BTCUSDT", leverage=10), CandleSeries.empty(Timeframe.M1),
                                 plain.snapshot(), brackets=BTC)
    broker = session.broker
    assert isinstance(broker, FuturesPaperBroker) and broker.size == plain.size
    assert broker.margin == pytest.approx(plain.size * 100.0 / 10)
    assert session.on_funding(2, 0.001, 100.0) == pytest.approx(-plain.size * 0.1)
    assert session.funding == [(2, pytest.approx(-plain.size * 0.1))]


def test_a_futures_session_refuses_atr_stops_it_would_otherwise_ignore_while_spot_runs_them() -> None:
    from dataclasses import replace

    atr = parse_strategy(STRATEGY_V2)
    with pytest.raises(UserError, match="ATR distances, take-profit levels or close-anchored trailing"):
        replace(spec("binance", "BTCUSDT", leverage=10), strategy=atr).new_broker(BTC)
    from domain.live.paper_risk import RiskPaperBroker

    assert isinstance(replace(spec("upbit", "KRW-BTC"), strategy=atr).new_broker(None), RiskPaperBroker)


STRATEGY_V2 = {
    "schema": 2, "name": "ATR stop", "direction": "long_only",
    "entry_long": {"all": [{"left": {"var": "close"}, "op": "gt", "right": {"const": 0}}]},
    "entry_short": None, "exit_long": None, "exit_short": None,
    "risk": {"position_size_pct": 50, "stop_loss": {"atr": {"period": 14, "mult": 2}}, "take_profit": None,
             "trailing_stop": None}}
