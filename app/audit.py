"""Audit trail: every order, fill, position change, error and reconnect as one structured record.

Records go to the `quantdesk.audit` logger; the composition root attaches a queue handler so that
JSON encoding and file writes happen on a listener thread, never on the event loop.
"""

from __future__ import annotations

import logging
import time
from dataclasses import fields, is_dataclass
from typing import Any

AUDIT_LOGGER = "quantdesk.audit"


def event_fields(event: Any) -> dict[str, Any]:
    """A slotted event dataclass as a flat dict (nested candles become dicts too)."""
    out: dict[str, Any] = {}
    for f in fields(event):
        value = getattr(event, f.name)
        if is_dataclass(value) and not isinstance(value, type):
            value = event_fields(value)
        elif isinstance(value, tuple):
            value = len(value)  # bar tuples of a backfill: the count is what the audit needs
        out[f.name] = value
    return out


class AuditLog:
    """`audit.record("fill", session_id=..., ...)` or `audit.event(obj)`; never blocks on I/O."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._log = logger or logging.getLogger(AUDIT_LOGGER)
        self.count = 0

    def record(self, kind: str, **data: Any) -> None:
        self.count += 1
        payload = {"kind": kind, "wall_ms": int(time.time() * 1000), **data}
        self._log.info(kind, extra={"audit": payload})

    def event(self, event: Any) -> None:
        """Record an app.events dataclass under its class name."""
        self.record(type(event).__name__, **event_fields(event))
