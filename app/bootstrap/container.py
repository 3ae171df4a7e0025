"""The typed container: builds the database engine, repositories, exchange clients and services, once each."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where built, so a command pays only for what it uses
    from sqlalchemy import Engine

    from app.backtests.service import BacktestService
    from app.live.stack import LiveStack
    from app.live.trading.desk import LiveDesk
    from app.market_data.collect import MarketDataService, ProgressCallback
    from app.market_data.files import DataService
    from app.market_data.funding import FundingService
    from app.market_data.seed import DemoSeed
    from app.strategies.service import StrategyService
    from app.sweeps.service import SweepService
    from domain.futures import BracketTable
    from infrastructure.clock import SystemClock
    from infrastructure.db.candles import SqlCandleRepository
    from infrastructure.db.connections import Database
    from infrastructure.exchanges import ExchangeGateways
    from infrastructure.keys import KeyStore
    from infrastructure.simulator.server import SimulatorServer

APP_NAME = "QuantDesk"
DEMO_ACTIVITY = 20.0  # the Demo market trades ~2 a second on KRW-BTC: a new session shows ticks within seconds


def default_db_path() -> Path:
    """`$QUANTDESK_DB`, else quantdesk.db in the platform's user data dir."""
    env = os.environ.get("QUANTDESK_DB")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False)) / "quantdesk.db"


def default_log_dir() -> Path:
    """Where the app log and the audit log are written: the platform's user log dir."""
    from platformdirs import user_log_dir

    return Path(user_log_dir(APP_NAME, appauthor=False))


@dataclass
class Container:
    """Lazily built, shared adapters and services for one database. Build with `Container.open(path)`."""

    db_path: Path
    base_urls: dict[str, str] = field(default_factory=dict)  # where each exchange is reached (e.g. a simulator)
    simulator: SimulatorServer | None = None  # the in-process Demo exchange, once started
    map_file: bool = True  # reads through a memory map (a command); a long-lived desktop reads with copies

    @classmethod
    def open(cls, db: str | Path | None = None, map_file: bool = True) -> Container:
        path = Path(db).expanduser() if db else default_db_path()
        c = cls(path, map_file=map_file)
        c.database  # noqa: B018 - opening checks and migrates the file now, with a clear error if unusable
        return c

    @cached_property
    def database(self) -> Database:
        """Plain sqlite3 connections to the checked file (candles, backtest runs: no SQLAlchemy to load). A new file
        gets the schema here too; one at an older schema is migrated first, through the engine (Alembic)."""
        from infrastructure.db.connections import Database
        from infrastructure.db.migrate import newest_migration
        from infrastructure.db.schema import create_schema, snapshot_revision

        db = Database.open(self.db_path, map_file=self.map_file)
        try:
            stored = db.stored_revisions()
            if stored != [newest_migration()]:
                fresh = stored is None and not db.read_only and snapshot_revision() == newest_migration()
                if not (fresh and create_schema(db)):
                    self.engine  # noqa: B018 - upgrades the schema (or refuses it, saying why)
        except BaseException:
            db.close()
            raise
        return db

    @cached_property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for the stores written on it (strategies, sweeps, funding, live sessions)."""
        from infrastructure.db.engine import create_sqlite_engine
        from infrastructure.db.migrate import upgrade_to_head

        head = self.__dict__["database"].head if "database" in self.__dict__ else None
        engine = create_sqlite_engine(self.db_path, head=head)
        upgrade_to_head(engine)
        return engine

    @cached_property
    def clock(self) -> SystemClock:
        from infrastructure.clock import SystemClock

        return SystemClock()

    @cached_property
    def candles(self) -> SqlCandleRepository:
        from infrastructure.db.candles import SqlCandleRepository

        return SqlCandleRepository(self.database)

    @cached_property
    def data(self) -> DataService:
        """CSV import/export, db info, delete."""
        from app.market_data.files import DataService
        from infrastructure.files import ArrowCandleFiles

        return DataService(self.candles, ArrowCandleFiles())

    def use_base_url(self, exchange: str, url: str) -> None:
        """Reach `exchange` at `url` (e.g. the simulator), for REST and streams alike."""
        self.base_urls[exchange] = url
        if "exchanges" in self.__dict__:  # gateways built already: later requests go to the new URL
            self.exchanges.base_urls[exchange] = url

    @cached_property
    def exchanges(self) -> ExchangeGateways:
        """Exchange gateways by name, one per exchange so that all collections share its rate budget."""
        from infrastructure.exchanges import ExchangeGateways

        return ExchangeGateways(self.base_urls)

    @cached_property
    def market_data(self) -> MarketDataService:
        """Collect candles, list markets."""
        from app.market_data.collect import MarketDataService

        return MarketDataService(self.candles, self.exchanges, self.clock)

    @cached_property
    def funding(self) -> FundingService:
        """Funding history of perpetual futures: collect, import files, coverage of a range."""
        from app.market_data.funding import FundingService
        from infrastructure.db.funding import SqlFundingRepository
        from infrastructure.funding_csv import CsvFundingFiles

        return FundingService(SqlFundingRepository(self.engine), self.exchanges.funding_source, CsvFundingFiles(),
                              self.clock)

    @cached_property
    def bracket_tables(self) -> dict[str, BracketTable]:
        """Maintenance-margin brackets per futures symbol (the bundled table)."""
        from infrastructure.futures_brackets import load_default_brackets

        return load_default_brackets()

    @cached_property
    def strategies(self) -> StrategyService:
        """The strategy store; the bundled samples are loaded into an empty database here, once."""
        from app.strategies.service import StrategyService
        from infrastructure.db.strategies import SqlStrategyRepository

        service = StrategyService(SqlStrategyRepository(self.engine), self.clock)
        if not self.read_only:  # a read-only database is listed as it is
            service.ensure_samples(bundled_strategies())
        return service

    @property
    def read_only(self) -> bool:
        """Whether the database was opened read-only (its file or folder is not writable)."""
        return self.database.read_only

    @cached_property
    def backtests(self) -> BacktestService:
        """Backtests in a warm worker process; stored runs."""
        from app.backtests.service import BacktestService
        from app.bootstrap.kernels import serve_backtests
        from infrastructure.compute.worker_pool import WorkerPool
        from infrastructure.db.backtests import SqlBacktestRepository

        return BacktestService(self.candles, SqlBacktestRepository(self.database), self.clock,
                               WorkerPool(serve_backtests, "quantdesk-backtest"))

    @cached_property
    def sweeps(self) -> SweepService:
        """Parameter sweeps and walk-forward on a local process pool or a Dask cluster."""
        from app.bootstrap.executors import make_executor
        from app.sweeps.service import SweepService
        from infrastructure.db.sweeps import SqlSweepRepository

        return SweepService(self.candles, SqlSweepRepository(self.engine), self.clock, make_executor)

    @cached_property
    def live(self) -> LiveStack:
        """The live paper-trading stack (engine, persisted sessions, audit log). Streams reach each exchange at
        the base URL set for it (the Demo simulator's once it runs)."""
        from app.bootstrap.live import build_live_engine

        return build_live_engine(self.exchanges, self.base_urls, self.clock, candles=self.candles,
                                 sql_engine=self.engine, log_dir=default_log_dir())

    @cached_property
    def trading(self) -> LiveDesk:
        """Live (real-order) sessions of the desktop: armed per session, keys from the keyring, every request and
        state change in the audit log the live stack writes."""
        from app.bootstrap.trading import DesktopTrading
        from app.live.audit import AuditLog
        from app.live.trading.desk import LiveDesk

        return LiveDesk(DesktopTrading(self), self.clock, AuditLog().record)

    @property
    def keys(self) -> KeyStore:
        """Exchange API keys in the OS keyring (PYTHON_KEYRING_BACKEND picks another backend); read on each use."""
        from infrastructure.keys import KeyStore

        return KeyStore()

    @cached_property
    def demo_seed(self) -> DemoSeed:
        """First-run seeding of the Demo exchange's candles."""
        from app.market_data.seed import DemoSeed

        return DemoSeed(self.market_data, self.clock)

    def preload(self) -> None:
        """Import the network adapters and the Demo simulator (aiohttp: ~0.4-0.7 s) without building anything.
        Thread-safe; the desktop calls it off the UI thread, so starting the Demo exchange does not freeze it."""
        import importlib

        for name in ("infrastructure.simulator.server", "infrastructure.exchanges", "app.bootstrap.live"):
            importlib.import_module(name)

    async def start_demo(self) -> str:
        """Serve the Demo exchange (the simulator) in-process on 127.0.0.1; returns its URL. Idempotent."""
        if self.simulator is None:
            from infrastructure.simulator.server import SimulatorServer
            from infrastructure.simulator.state import SimulatorConfig

            sim = SimulatorServer(SimulatorConfig(activity=DEMO_ACTIVITY))
            await sim.start()
            self.simulator = sim
            self.use_base_url("demo", sim.url)
        return str(self.simulator.url)

    async def seed_demo(self, on_progress: ProgressCallback | None = None) -> None:
        """First run: the Demo exchange's recent candles, so charts show data at once."""
        await self.start_demo()
        await self.demo_seed.run(on_progress=on_progress)

    async def top_up_demo(self, on_progress: ProgressCallback | None = None) -> int:
        """A later start: the stored Demo series collected up to now; how many series were topped up."""
        stored = [s for s in self.candles.series() if s.key.exchange == "demo"]
        if not stored or self.read_only:  # a read-only database is shown as it is
            return 0
        await self.start_demo()
        return len(await self.demo_seed.top_up(stored, on_progress=on_progress))

    async def aclose(self) -> None:
        """Stop what runs on the event loop: exchange sessions and the Demo simulator."""
        if "exchanges" in self.__dict__:
            await self.exchanges.aclose()
        sim, self.simulator = self.simulator, None
        if sim is not None:
            await sim.stop()

    def close(self) -> None:
        """Stop the idle backtest worker and release the database connections."""
        if "backtests" in self.__dict__:
            self.backtests.close()
        if "engine" in self.__dict__:
            self.engine.dispose()
        if "database" in self.__dict__:
            self.database.close()


def bundled_strategies() -> list[tuple[str, str]]:
    """(file name, JSON text) of each sample strategy shipped in resources/strategies."""
    from importlib.resources import files

    folder = files("resources.strategies")
    return sorted((p.name, p.read_text(encoding="utf-8")) for p in folder.iterdir() if p.name.endswith(".json"))
