"""Builds the live paper-trading engine from concrete adapters: websocket streams, REST gateways, SQLite, log files."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.audit import AuditLog
from app.live import LiveEngine
from app.live_history import gateway_bar_fetch, history_loader
from app.ports import CandleRepository, Clock
from infrastructure.exchanges.binance_ws import BINANCE_WS_URL, BinanceKlineFeed
from infrastructure.exchanges.upbit_ws import UPBIT_WS_URL, UpbitTradeFeed
from infrastructure.exchanges.ws import StreamPolicy, WebSocketFeed
from infrastructure.logs import LogSinks, start_logging

STREAM_EXCHANGES = ("upbit", "binance", "demo")


def default_log_dir() -> Path:
    from platformdirs import user_log_dir

    return Path(user_log_dir("QuantDesk", appauthor=False))


def stream_factory(base_urls: Mapping[str, str], policy: StreamPolicy | None = None) -> Any:
    """(exchange, symbol) -> a websocket feed; a base URL given for an exchange (the simulator) serves both
    its REST and its streams, as the simulator does."""

    def make(exchange: str, symbol: str) -> WebSocketFeed:
        url = base_urls.get(exchange)
        if exchange in ("upbit", "demo"):
            if exchange == "demo" and not url:
                raise ValueError("the Demo exchange needs the simulator's URL")
            return UpbitTradeFeed(symbol, url or UPBIT_WS_URL, policy, exchange=exchange)
        if exchange == "binance":
            return BinanceKlineFeed(symbol, url or BINANCE_WS_URL, policy)
        raise ValueError(f"no live stream for exchange {exchange!r}; choose one of {', '.join(STREAM_EXCHANGES)}")

    return make


@dataclass
class LiveStack:
    """The engine and the log files it writes through: `open_logs()` before starting the engine (building
    the stack touches no file), `close_logs()` after `engine.shutdown()` (flushes and closes them)."""

    engine: LiveEngine
    log_dir: Path | None
    logs: LogSinks | None = None

    def open_logs(self) -> None:
        if self.logs is None and self.log_dir is not None:
            self.logs = start_logging(self.log_dir)

    def close_logs(self) -> None:
        if self.logs is not None:
            self.logs.close()
            self.logs = None

    def sessions_to_resume(self) -> int:
        """How many sessions were left running last time (0 without a store)."""
        store = self.engine.store
        return len(store.active()) if store is not None else 0


def build_live_engine(gateways: Any, base_urls: Mapping[str, str], clock: Clock,
                      candles: CandleRepository | None = None, sql_engine: Any = None,
                      log_dir: Path | None = None, policy: StreamPolicy | None = None,
                      **engine_options: Any) -> LiveStack:
    """A LiveEngine on real streams. `sql_engine` enables persistence (resume after restart); `log_dir`
    the audit log and app log files (None = no files)."""
    store = None
    if sql_engine is not None:
        from infrastructure.db.paper import SqlPaperStore

        store = SqlPaperStore(sql_engine)
    engine = LiveEngine(stream_factory(base_urls, policy), gateway_bar_fetch(gateways),
                        history_loader(candles, gateways, clock), clock, store=store, audit=AuditLog(),
                        **engine_options)
    return LiveStack(engine, log_dir)
