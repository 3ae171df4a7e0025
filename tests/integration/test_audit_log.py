"""Audit log files: one JSON object per line, written by a listener thread, rotated by size, flushed on close."""

from __future__ import annotations

import json
import logging
import logging.handlers
import threading
from pathlib import Path

from app.live.audit import AUDIT_LOGGER, AuditLog
from app.live.events import OrderFilled
from infrastructure.logs import start_logging


def test_audit_records_are_json_lines_rotated_by_size_and_complete_after_close(tmp_path: Path) -> None:
    sinks = start_logging(tmp_path, max_bytes=20_000, backups=50, app_log=False)
    audit = AuditLog()
    for i in range(1000):
        audit.event(OrderFilled("s1", f"s1-{i}", 1, 0.5, 100.0 + i, 0.05, "signal", 1_700_000_000_000 + i))
    audit.record("Weird", value=float("nan"), when=Path("/x"))
    sinks.close()
    files = sorted(tmp_path.glob("audit.jsonl*"))
    assert len(files) > 5  # rotated
    rows = [json.loads(line) for f in files for line in f.read_text().splitlines()]
    ids = sorted(r["order_id"] for r in rows if r["kind"] == "OrderFilled")
    assert len(ids) == 1000 and len(set(ids)) == 1000
    weird = next(r for r in rows if r["kind"] == "Weird")
    assert weird["value"] == "nan" and weird["when"] == "/x"
    # our queue handlers are detached (pytest may attach its own capture handlers to the logger)
    assert not [h for h in logging.getLogger(AUDIT_LOGGER).handlers if isinstance(h, logging.handlers.QueueHandler)]


def test_json_encoding_and_file_writes_happen_off_the_calling_thread(tmp_path: Path) -> None:
    writers: set[int] = set()

    class Spy(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            writers.add(threading.get_ident())

    sinks = start_logging(tmp_path, app_log=True)
    sinks.listener.handlers = (*sinks.listener.handlers, Spy())
    AuditLog().record("Ping")
    logging.getLogger("quantdesk.test").warning("app log line %d", 7)
    sinks.close()
    assert writers and threading.get_ident() not in writers
    assert "app log line 7" in (tmp_path / "quantdesk.log").read_text()
    assert json.loads((tmp_path / "audit.jsonl").read_text().splitlines()[0])["kind"] == "Ping"
