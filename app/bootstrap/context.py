"""What a CLI command receives: the container for `--db` (opened on first use) and the adapters a command drives."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from app.bootstrap.container import Container, default_log_dir
from app.clock import Clock

if TYPE_CHECKING:
    from app.bootstrap.trading import LiveSpec, TradingAccount
    from app.live.ports import MarketFeed, PaperStore
    from app.live.stack import LiveStack, LogSinks
    from app.live.trading.live_broker import AuditSink
    from app.live.trading.live_session import LiveTrader
    from app.live.trading.ports import OrderJournal
    from domain.market import CandleSeries, Timeframe
    from infrastructure.freqtrade import FreqtradeFile, Skipped
    from infrastructure.keys import KeyStore
    from infrastructure.simulator.server import SimulatorServer


class _SimulatedClock:
    """The simulator's (possibly accelerated) time as a Clock."""

    def __init__(self, now: Callable[[], int]) -> None:
        self._now = now

    def now_ms(self) -> int:
        return int(self._now())


@dataclass
class CliContext:
    """One per command run; `close()` releases what the command opened."""

    db: str | None
    _container: Container | None = field(default=None, init=False)

    @property
    def container(self) -> Container:
        """The container for `--db`, opened (checked and migrated) on first use."""
        if self._container is None:
            self._container = Container.open(self.db)
        return self._container

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None

    @property
    def keys(self) -> KeyStore:
        """Exchange API keys in the operating system's keyring (PYTHON_KEYRING_BACKEND picks another backend)."""
        from infrastructure.keys import KeyStore

        return KeyStore()  # no database needed: `keys` commands never open it

    @staticmethod
    def read_candles_file(path: Path | str, timeframe: Timeframe | None,
                          on_progress: Callable[[int, int], None] | None = None) -> CandleSeries:
        """Candles from a CSV (or Parquet, Feather, JSON by extension) file (DataError naming the line on bad
        input); thread-safe, so a command can read while it loads what it needs next."""
        from infrastructure.csv_io import read_candles_csv

        return read_candles_csv(path, timeframe, on_progress)

    @staticmethod
    def build_kernels(say: Callable[[str], None]) -> Path:
        """Compile the engine's kernels ahead of time into the user cache (UserError when it cannot)."""
        from app.bootstrap.kernels import build_kernels

        return build_kernels(say)

    @staticmethod
    def built_kernels() -> Path | None:
        """The folder of this code's compiled kernels, or None when they are not built (or turned off)."""
        from app.bootstrap.kernels import built

        return built()

    @staticmethod
    def freqtrade_files(root: Path, exchange: str | None) -> tuple[list[FreqtradeFile], list[Skipped]]:
        """The candle files of a freqtrade data folder, mapped to QuantDesk markets, and those skipped (why)."""
        from infrastructure.freqtrade import find_freqtrade_files

        return find_freqtrade_files(root, exchange)

    @staticmethod
    async def start_simulator(speed: float) -> tuple[SimulatorServer, Clock]:
        """An in-process simulator on 127.0.0.1 running `speed` times faster than the wall clock, and its clock."""
        from infrastructure.clock import SystemClock
        from infrastructure.simulator.server import SimulatorServer
        from infrastructure.simulator.state import SimulatorConfig, accelerated_clock

        wall = SystemClock()
        now = accelerated_clock(wall.now_ms(), speed) if speed != 1.0 else wall.now_ms
        sim = SimulatorServer(SimulatorConfig(clock=now, stream_interval_s=0.05 if speed > 1 else 0.1))
        await sim.start()
        return sim, _SimulatedClock(now)

    @staticmethod
    async def serve_simulator(seed: int, markets: tuple[str, ...], fault_rate: float, faults: tuple[str, ...] | None,
                              host: str, port: int, announce: Callable[[str], None], speed: float = 1.0,
                              accounts: tuple[tuple[str, str, dict[str, float]], ...] = ()) -> None:
        """Run the exchange simulator until cancelled (ValueError for a bad configuration); `accounts` are private
        accounts to provision as (API key, secret, balances)."""
        from infrastructure.simulator import (
            DEFAULT_FAULTS,
            SimulatorConfig,
            accelerated_clock,
            serve_forever,
            wall_clock_ms,
        )
        from infrastructure.simulator.private.accounts import AccountSpec

        clock = wall_clock_ms if speed == 1 else accelerated_clock(wall_clock_ms(), speed)
        config = SimulatorConfig(seed=seed, markets=markets, fault_rate=fault_rate, faults=faults or DEFAULT_FAULTS,
                                 clock=clock, accounts=tuple(AccountSpec(*a) for a in accounts))
        await serve_forever(config, host, port, announce)

    def live_stack(self, base_urls: Mapping[str, str], clock: Clock | None, with_history: bool,
                   log_dir: Path | None) -> LiveStack:
        """A live paper-trading engine over this container's store and gateways."""
        from app.bootstrap.live import build_live_engine

        c = self.container
        return build_live_engine(c.exchanges, base_urls, clock or c.clock, candles=c.candles if with_history else None,
                                 sql_engine=c.engine, log_dir=log_dir or default_log_dir())

    # ----- live trading (real orders)
    def trading_account(self, exchange: str, market: str, base_url: str | None) -> TradingAccount:
        """The account's order gateway, with the keys from the keyring (KeyStoreError when there are none)."""
        from app.bootstrap.trading import open_account

        return open_account(exchange, market, self.keys.require(exchange), base_url)

    @property
    def order_journal(self) -> OrderJournal:
        from infrastructure.db.orders import SqlOrderJournal

        return SqlOrderJournal(self.container.engine)

    @property
    def session_store(self) -> PaperStore:
        from infrastructure.db.paper import SqlPaperStore

        return SqlPaperStore(self.container.engine)

    @staticmethod
    def start_logs(log_dir: Path | None) -> LogSinks:
        """The audit log and app log files (default: the user log dir), written off the event loop."""
        from infrastructure.logs import start_logging

        return start_logging(log_dir or default_log_dir())

    async def live_trader(self, spec: LiveSpec, account: TradingAccount, audit: AuditSink) -> tuple[LiveTrader,
                                                                                                     MarketFeed]:
        """A live session warmed up on REST history and the market stream it trades on."""
        from app.bootstrap.trading import build_trader
        from infrastructure.db.orders import SqlOrderJournal

        c = self.container
        return await build_trader(spec, account, SqlOrderJournal(c.engine), c.exchanges, c.clock, audit,
                                  dict(c.base_urls))
