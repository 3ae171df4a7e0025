"""The backtest run store port (`BacktestRepository`) and the records it keeps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from domain.backtest import TradeTable

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One row of the run list: what was tested on which data, and the headline numbers."""

    id: int
    created_ms: int
    strategy_id: int | None
    strategy_name: str
    exchange: str
    symbol: str
    timeframe: str
    start_ms: int
    end_ms: int
    bars: int
    return_pct: float | None
    trades: int
    commission: float | None = None  # fractions per fill, as stored in the run's settings
    slippage: float | None = None
    overridden: int = 0  # how many values of the strategy differ from the saved strategy's


@dataclass(frozen=True, slots=True, eq=False)
class NewRun:
    """A finished backtest to store. `stats` is JSON-shaped (see domain.backtest.run.json_value)."""

    created_ms: int
    strategy_id: int | None
    strategy_name: str
    definition: dict[str, Any]
    exchange: str
    symbol: str
    timeframe: str
    start_ms: int
    end_ms: int
    settings: dict[str, Any]
    stats: dict[str, Any]
    trades: TradeTable
    equity_ts: npt.NDArray[np.int64]
    equity: F64
    headline: bool = False  # also note it as the strategy's last backtest, in the same transaction
    # Values of `definition` that differ from the saved strategy's: path -> {"saved": x, "run": y}.
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, eq=False)
class StoredRun:
    """A stored run, reopened: its summary plus everything needed to show it again."""

    summary: RunSummary
    definition: dict[str, Any]
    settings: dict[str, Any]
    stats: dict[str, Any]
    trades: TradeTable
    equity_ts: npt.NDArray[np.int64]
    equity: F64
    overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> int:
        return self.summary.id


class BacktestRepository(Protocol):
    """Persisted backtest runs. Each add is one transaction."""

    def add(self, run: NewRun) -> int:
        """Store a run; returns its id."""
        ...

    def list(self, limit: int = 100, offset: int = 0, strategy_id: int | None = None) -> list[RunSummary]:
        """Newest first."""
        ...

    def get(self, run_id: int) -> StoredRun | None: ...

    def delete(self, run_id: int) -> bool: ...

    def count(self) -> int: ...

    def saved_definition(self, strategy_id: int) -> dict[str, Any] | None:
        """The stored strategy's definition as saved now (None if there is no such strategy)."""
        ...


class WorkerConnection(Protocol):
    """The parent's end of a worker's duplex pipe."""

    def send(self, obj: Any) -> None: ...

    def recv(self) -> Any: ...

    def poll(self, timeout: float | None = ...) -> bool: ...


class WorkerProcess(Protocol):
    """The worker's operating-system process."""

    @property
    def exitcode(self) -> int | None: ...

    def is_alive(self) -> bool: ...

    def terminate(self) -> None: ...


class Worker(Protocol):
    """One warm worker process and its pipe."""

    conn: WorkerConnection
    process: WorkerProcess

    @property
    def alive(self) -> bool: ...

    def kill(self) -> None:
        """Stop it now (cancel or failure)."""
        ...

    def stop(self) -> None:
        """Ask it to finish, then make sure it has."""
        ...


class WorkerPool(Protocol):
    """Warm worker processes running the backtest worker loop (`app.backtests.worker.serve`)."""

    def acquire(self) -> Worker: ...

    def release(self, worker: Worker) -> None: ...

    def close(self) -> None: ...
