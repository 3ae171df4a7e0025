"""Builds the live paper-trading engine from concrete adapters: websocket streams, REST gateways, SQLite, log files."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from app.clock import Clock
from app.live.audit import AuditLog
from app.live.engine import LiveEngine
from app.live.history import gateway_bar_fetch, history_loader
from app.live.ports import FeedFactory
from app.live.stack import LiveStack
from app.market_data.exchange import GatewayFactory
from app.market_data.ports import CandleRepository
from domain.futures import BracketTable
from infrastructure.exchanges.binance_ws import BINANCE_WS_URL, BinanceKlineFeed
from infrastructure.exchanges.upbit_ws import UPBIT_WS_URL, UpbitTradeFeed
from infrastructure.exchanges.ws import StreamPolicy, WebSocketFeed
from infrastructure.futures_brackets import load_default_brackets
from infrastructure.logs import start_logging

if TYPE_CHECKING:
    from sqlalchemy import Engine

STREAM_EXCHANGES = ("upbit", "binance", "demo")


def stream_factory(base_urls: Mapping[str, str], policy: StreamPolicy | None = None) -> FeedFactory:
    """(exchange, symbol) -> a websocket feed; a base URL given for an exchange (the simulator) serves both
    its REST and its streams, as the simulator does."""

    def make(exchange: str, symbol: str) -> WebSocketFeed:
        url = base_urls.get(exchange)
        if exchange in ("upbit", "demo"):
            if exchange == "demo" and not url:
                raise ValueError("the Demo exchange needs the simulator's URL")
            return UpbitTradeFeed(symbol, url or UPBIT_WS_URL, policy, exchange=exchange)
        if exchange == "binance":
            return BinanceKlineFeed(symbol, url or BINANCE_WS_URL, policy, mark_price=True)  # marks: funding
        raise ValueError(f"no live stream for exchange {exchange!r}; choose one of {', '.join(STREAM_EXCHANGES)}")

    return make


def build_live_engine(gateways: GatewayFactory, base_urls: Mapping[str, str], clock: Clock,
                      candles: CandleRepository | None = None, sql_engine: Engine | None = None,
                      log_dir: Path | None = None, policy: StreamPolicy | None = None,
                      flush_grace_ms: int | None = 5000,
                      brackets: Mapping[str, BracketTable] | None = None) -> LiveStack:
    """A LiveEngine on real streams. `sql_engine` enables persistence (resume after restart); `log_dir`
    the audit log and app log files (None = no files); `brackets` the futures symbols' maintenance-margin
    brackets (default: the bundled table)."""
    store = None
    if sql_engine is not None:
        from infrastructure.db.paper import SqlPaperStore

        store = SqlPaperStore(sql_engine)
    engine = LiveEngine(stream_factory(base_urls, policy), gateway_bar_fetch(gateways),
                        history_loader(candles, gateways, clock), clock, store=store, audit=AuditLog(),
                        flush_grace_ms=flush_grace_ms,
                        brackets=brackets if brackets is not None else load_default_brackets())
    return LiveStack(engine, log_dir, start_logging)
