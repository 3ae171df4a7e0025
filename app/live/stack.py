"""The live engine together with the log files it writes through."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from app.live.engine import LiveEngine


class LogSinks(Protocol):
    """Running log writers (the audit trail and the app log); `close()` flushes and closes them."""

    def close(self) -> None: ...


@dataclass
class LiveStack:
    """The engine and its log files: `open_logs()` before starting the engine (building the stack touches no
    file), `close_logs()` after `engine.shutdown()` (flushes and closes them)."""

    engine: LiveEngine
    log_dir: Path | None
    start_logging: Callable[[Path], LogSinks]
    logs: LogSinks | None = None

    def open_logs(self) -> None:
        if self.logs is None and self.log_dir is not None:
            self.logs = self.start_logging(self.log_dir)

    def close_logs(self) -> None:
        if self.logs is not None:
            self.logs.close()
            self.logs = None

    def sessions_to_resume(self) -> int:
        """How many sessions were left running last time (0 without a store)."""
        store = self.engine.store
        return len(store.active()) if store is not None else 0
