"""Composition root: the one place that builds the engine, repositories, exchange clients and services."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

APP_NAME = "QuantDesk"


def default_db_path() -> Path:
    """`$QUANTDESK_DB`, else quantdesk.db in the platform's user data dir."""
    env = os.environ.get("QUANTDESK_DB")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False)) / "quantdesk.db"


@dataclass
class Container:
    """Lazily built, shared adapters and services for one database. Build with `Container.open(path)`."""

    db_path: Path
    _extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def open(cls, db: str | Path | None = None) -> Container:
        path = Path(db).expanduser() if db else default_db_path()
        c = cls(path)
        c.engine  # noqa: B018 - opening checks and migrates the file now, with a clear error if unusable
        return c

    @cached_property
    def engine(self) -> Any:
        from infrastructure.db.engine import create_sqlite_engine
        from infrastructure.db.migrate import upgrade_to_head

        engine = create_sqlite_engine(self.db_path)
        upgrade_to_head(engine)
        return engine

    @cached_property
    def candles(self) -> Any:
        """The CandleRepository."""
        from infrastructure.db.candles import SqlCandleRepository

        return SqlCandleRepository(self.engine)

    @cached_property
    def data(self) -> Any:
        """The DataService (CSV import/export, db info, delete)."""
        from app.data import DataService
        from infrastructure.csv_io import CsvCandleFiles

        return DataService(self.candles, CsvCandleFiles())

    def use_base_url(self, exchange: str, url: str) -> None:
        """Reach `exchange` at `url` (e.g. the simulator); call before the first use of `exchanges`."""
        self._extras.setdefault("base_urls", {})[exchange] = url

    @cached_property
    def exchanges(self) -> Any:
        """Exchange gateways by name, one per exchange so that all collections share its rate budget."""
        from infrastructure.exchanges import ExchangeGateways

        return ExchangeGateways(self._extras.get("base_urls"))

    @cached_property
    def market_data(self) -> Any:
        """The MarketDataService (collect candles, list markets)."""
        from app.market_data import MarketDataService
        from infrastructure.clock import SystemClock

        return MarketDataService(self.candles, self.exchanges, SystemClock())

    @cached_property
    def funding(self) -> Any:
        """The FundingService (collect funding history, import funding files, coverage of a range)."""
        from app.funding import FundingService
        from infrastructure.clock import SystemClock
        from infrastructure.db.funding import SqlFundingRepository
        from infrastructure.funding_csv import CsvFundingFiles

        return FundingService(SqlFundingRepository(self.engine), self.exchanges.funding_source, CsvFundingFiles(),
                              SystemClock())

    @cached_property
    def strategies(self) -> Any:
        """The StrategyService; the bundled samples are loaded into an empty database here, once."""
        from app.strategies import StrategyService
        from infrastructure.clock import SystemClock
        from infrastructure.db.strategies import SqlStrategyRepository

        service = StrategyService(SqlStrategyRepository(self.engine), SystemClock())
        service.ensure_samples(bundled_strategies())
        return service

    @cached_property
    def backtests(self) -> Any:
        """The BacktestService (runs in a worker process, stores runs, lists/reopens/deletes them)."""
        from app.backtests import BacktestService
        from infrastructure.clock import SystemClock
        from infrastructure.db.backtests import SqlBacktestRepository

        return BacktestService(self.candles, SqlBacktestRepository(self.engine), SystemClock(), self.strategies)

    @cached_property
    def sweeps(self) -> Any:
        """The SweepService (parameter sweeps and walk-forward on a local process pool or a Dask cluster)."""
        from app.sweeps import SweepService
        from infrastructure.clock import SystemClock
        from infrastructure.db.sweeps import SqlSweepRepository
        from infrastructure.sweep_executors import make_executor

        return SweepService(self.candles, SqlSweepRepository(self.engine), SystemClock(), make_executor)

    @cached_property
    def live(self) -> Any:
        """The live paper-trading stack: engine (streams, paper broker, persisted sessions) and its audit log.
        Streams reach each exchange at the base URL set for it (the Demo simulator's once it runs)."""
        from infrastructure.clock import SystemClock
        from infrastructure.live_factory import build_live_engine, default_log_dir

        return build_live_engine(self.exchanges, self._extras.setdefault("base_urls", {}), SystemClock(),
                                 candles=self.candles, sql_engine=self.engine, log_dir=default_log_dir())

    def preload(self) -> None:
        """Import the network adapters and the Demo simulator (aiohttp: ~0.4-0.7 s) without building anything.
        Thread-safe; the desktop calls it off the UI thread, so starting the Demo exchange does not freeze it."""
        import importlib

        for name in ("infrastructure.simulator.server", "infrastructure.exchanges", "infrastructure.live_factory"):
            importlib.import_module(name)

    async def start_demo(self) -> str:
        """Serve the Demo exchange (the simulator) in-process on 127.0.0.1; returns its URL. Idempotent."""
        sim = self._extras.get("simulator")
        if sim is None:
            from infrastructure.simulator.server import SimulatorServer

            sim = SimulatorServer()
            await sim.start()
            self._extras["simulator"] = sim
            self.use_base_url("demo", sim.url)
            if "exchanges" in self.__dict__:  # gateways built before the simulator ran: point Demo at it
                self.exchanges.base_urls["demo"] = sim.url
        return str(sim.url)

    async def seed_demo(self, days: int = 3, markets: tuple[str, ...] = ("KRW-BTC", "KRW-ETH"),
                        on_progress: Any = None) -> None:
        """First run: collect the last `days` of Demo 1m candles for `markets` so charts show data at once."""
        from domain.market import DAY_MS, Timeframe
        from infrastructure.clock import SystemClock

        await self.start_demo()
        now = SystemClock().now_ms()
        start = now - now % DAY_MS - days * DAY_MS
        for market in markets:
            await self.market_data.collect("demo", market, Timeframe.M1, start, now, on_progress)

    async def aclose(self) -> None:
        """Stop what runs on the event loop: exchange sessions and the Demo simulator."""
        if "exchanges" in self.__dict__:
            await self.exchanges.aclose()
        sim = self._extras.pop("simulator", None)
        if sim is not None:
            await sim.stop()

    def close(self) -> None:
        """Stop the idle backtest worker and release the database connections."""
        if "backtests" in self.__dict__:
            self.backtests.close()
        if "engine" in self.__dict__:
            self.engine.dispose()


def bundled_strategies() -> list[tuple[str, str]]:
    """(file name, JSON text) of each sample strategy shipped in resources/strategies."""
    from importlib.resources import files

    folder = files("resources.strategies")
    return sorted((p.name, p.read_text(encoding="utf-8")) for p in folder.iterdir() if p.name.endswith(".json"))


def run_gui(db: str | Path | None = None) -> int:
    """Start the desktop app on the qasync loop; returns the exit code."""
    from presentation.app import run_desktop

    container = Container.open(db)
    try:
        return run_desktop(container)
    finally:
        container.close()
