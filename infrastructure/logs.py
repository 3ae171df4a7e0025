"""Non-blocking logging: queue handlers on the caller's thread, JSON/text files written by a listener thread.

The audit trail (one JSON object per line) and the app log are size-rotated files behind one
QueueListener; `LogSinks.close()` flushes and closes them (call it on shutdown).
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import math
import queue
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.live.audit import AUDIT_LOGGER


class _PassThroughQueueHandler(logging.handlers.QueueHandler):
    """Enqueue the record as is: formatting (JSON encoding) is left to the listener thread."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


def _safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


class JsonLineFormatter(logging.Formatter):
    """One JSON object per record: the record's `audit` payload, or level/logger/message for plain logs."""

    def format(self, record: logging.LogRecord) -> str:
        payload = getattr(record, "audit", None)
        if payload is None:
            payload = {"level": record.levelname, "logger": record.name, "message": record.getMessage()}
            if record.exc_info:
                payload["exc"] = self.formatException(record.exc_info)
        return json.dumps({k: _safe(v) for k, v in payload.items()}, default=str, allow_nan=False)


@dataclass
class LogSinks:
    """The running listener and its file handlers."""

    listener: logging.handlers.QueueListener
    handlers: list[logging.Handler]
    queue_handlers: list[tuple[logging.Logger, logging.Handler]] = field(default_factory=list)
    audit_path: Path | None = None

    def close(self) -> None:
        """Stop the listener (it drains the queue first), flush and close every file, detach the handlers."""
        for logger, handler in self.queue_handlers:
            logger.removeHandler(handler)
        self.listener.stop()
        for h in self.handlers:
            h.flush()
            h.close()


def start_logging(log_dir: Path, level: int = logging.INFO, max_bytes: int = 10_000_000, backups: int = 5,
                  app_log: bool = True) -> LogSinks:
    """Send the audit logger to `audit.jsonl` and (optionally) the root logger to `quantdesk.log`, both
    rotated at `max_bytes`, through one queue and one listener thread."""
    log_dir.mkdir(parents=True, exist_ok=True)
    q: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    audit_file = logging.handlers.RotatingFileHandler(log_dir / "audit.jsonl", maxBytes=max_bytes,
                                                      backupCount=backups, encoding="utf-8")
    audit_file.setFormatter(JsonLineFormatter())
    audit_file.addFilter(lambda r: r.name == AUDIT_LOGGER)
    handlers: list[logging.Handler] = [audit_file]
    if app_log:
        app_file = logging.handlers.RotatingFileHandler(log_dir / "quantdesk.log", maxBytes=max_bytes,
                                                        backupCount=backups, encoding="utf-8")
        app_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        app_file.addFilter(lambda r: r.name != AUDIT_LOGGER)
        handlers.append(app_file)
    listener = logging.handlers.QueueListener(q, *handlers, respect_handler_level=True)
    listener.start()
    sinks = LogSinks(listener, handlers, audit_path=log_dir / "audit.jsonl")
    audit = logging.getLogger(AUDIT_LOGGER)
    audit.setLevel(logging.INFO)
    audit.propagate = False
    handler = _PassThroughQueueHandler(q)
    audit.addHandler(handler)
    sinks.queue_handlers.append((audit, handler))
    if app_log:
        root = logging.getLogger()
        root.setLevel(level)
        root_handler = _PassThroughQueueHandler(q)
        root.addHandler(root_handler)
        sinks.queue_handlers.append((root, root_handler))
    return sinks
