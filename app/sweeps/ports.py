"""The sweep store port (`SweepRepository`) and the records it keeps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from domain.sweep import PointResult

RUNNING, DONE, CANCELLED, FAILED = "running", "done", "cancelled", "failed"


@dataclass(frozen=True, slots=True)
class NewSweep:
    """A sweep about to start: what is swept (config), on which data, with which account settings."""

    created_ms: int
    strategy_id: int | None
    strategy_name: str
    definition: dict[str, Any]
    source: str
    timeframe: str
    start_ms: int
    end_ms: int
    config: dict[str, Any]
    settings: dict[str, Any]
    total: int


@dataclass(frozen=True, slots=True)
class StoredPoint:
    """A point's result as stored, with its objective value and whether it met the constraints."""

    result: PointResult
    objective: float
    passed: bool


@dataclass(frozen=True, slots=True)
class SweepSummary:
    """One row of the sweep list."""

    id: int
    created_ms: int
    finished_ms: int | None
    strategy_id: int | None
    strategy_name: str
    source: str
    timeframe: str
    start_ms: int
    end_ms: int
    status: str
    total: int
    done: int


@dataclass(frozen=True, slots=True, eq=False)
class StoredSweep:
    """A stored sweep reopened: its summary, configuration, outcome summary and every point."""

    summary: SweepSummary
    definition: dict[str, Any]
    config: dict[str, Any]
    settings: dict[str, Any]
    outcome: dict[str, Any]
    points: list[StoredPoint] = field(default_factory=list)
    equity_ts: npt.NDArray[np.int64] | None = None
    equity: npt.NDArray[np.float64] | None = None

    @property
    def id(self) -> int:
        return self.summary.id


class SweepRepository(Protocol):
    """Persisted sweeps. Each call is one transaction, so results survive a crash or a cancel."""

    def create(self, sweep: NewSweep) -> int: ...

    def add_points(self, sweep_id: int, points: list[StoredPoint]) -> None: ...

    def finish(self, sweep_id: int, status: str, finished_ms: int, outcome: dict[str, Any],
               equity_ts: npt.NDArray[np.int64] | None = None,
               equity: npt.NDArray[np.float64] | None = None) -> None: ...

    def list(self, limit: int = 100, offset: int = 0) -> list[SweepSummary]: ...

    def get(self, sweep_id: int) -> StoredSweep | None: ...

    def delete(self, sweep_id: int) -> bool: ...
