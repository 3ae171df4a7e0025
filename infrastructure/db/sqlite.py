"""What every connection to a QuantDesk file shares, with or without SQLAlchemy: checks, pragmas, the checkpointer."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from pathlib import Path
from urllib.parse import quote

from app.errors import StorageError
from infrastructure.compute.fork_safety import mark_fork_safe
from infrastructure.db.identity import check_quantdesk_database

BUSY_TIMEOUT_MS = 10_000
CHECKPOINT_BYTES = 4 << 20  # SQLite's own auto-checkpoint point: 1,000 pages of 4 KiB
CHECKPOINT_EVERY_S = 0.5
MMAP_BYTES = 1 << 30  # pages are read straight from the mapped file: no copy through SQLite's page cache
log = logging.getLogger(__name__)

# Held while a checkpoint runs and across every fork, so a forked child never inherits SQLite mid-checkpoint;
# that makes the checkpointer thread fork-safe (a CLI sweep forks its workers with it running).
FORK_LOCK = threading.Lock()
os.register_at_fork(before=FORK_LOCK.acquire, after_in_parent=FORK_LOCK.release, after_in_child=FORK_LOCK.release)


class WalCheckpointer:
    """Copies the write-ahead log back into the database on its own thread. SQLite's auto-checkpoint runs
    inside whichever commit crosses 1,000 pages, adding 3-7 ms to that one write (a strategy save, a candle
    upsert); here a passive checkpoint runs every half second once the log has grown past the same size,
    never blocking a reader or a writer. The last connection to close checkpoints what is left."""

    def __init__(self, path: Path, every_s: float = CHECKPOINT_EVERY_S, threshold: int = CHECKPOINT_BYTES) -> None:
        self.path, self.wal = path, Path(f"{path}-wal")
        self.every_s, self.threshold = every_s, threshold
        self.runs = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="wal-checkpoint")
        mark_fork_safe(self._thread)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            self.run_if_grown()

    def run_if_grown(self) -> bool:
        """One passive checkpoint if the log is past the threshold; whether it ran."""
        try:
            if os.stat(self.wal).st_size < self.threshold:
                return False
            with FORK_LOCK:
                conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000)
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                finally:
                    conn.close()
        except (OSError, sqlite3.Error) as err:  # no log yet, or busy: try again next time
            if not isinstance(err, FileNotFoundError):
                log.debug("checkpoint of %s skipped: %s", self.path, err)
            return False
        self.runs += 1
        return True

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)


def set_write_pragmas(conn: sqlite3.Connection) -> None:
    """The pragmas of a connection that may write: WAL, and checkpoints left to the WalCheckpointer."""
    set_read_pragmas(conn)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")  # the WalCheckpointer does it, off the write path


def set_read_pragmas(conn: sqlite3.Connection) -> None:
    """The pragmas that change nothing in the file: all a read-only connection may set. Transactions begin
    explicitly (BEGIN, or BEGIN IMMEDIATE for a writer), never implicitly by the driver."""
    conn.isolation_level = None
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA temp_store=MEMORY")


def check_file(path: Path) -> bytes:
    """Refuse early, with one clear line, a path we cannot use; never modify an existing file here. The file's
    first 20 bytes (empty for a new file)."""
    if path.is_dir():
        raise StorageError(f"database path {path} is a directory")
    if not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StorageError(f"cannot create the folder for database {path}: {err.strerror}") from None
        return b""
    try:
        with path.open("rb") as fh:
            head = fh.read(20)
    except OSError as err:
        raise StorageError(f"cannot read database {path}: {err.strerror}") from None
    if head and head[:16] != b"SQLite format 3\x00":
        raise StorageError(f"{path} is not a QuantDesk database (not an SQLite file, or corrupt)")
    try:
        conn = sqlite3.connect(read_only_uri(path, head), uri=True)
        try:
            conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")  # the check reads every page: 4x faster mapped
            ok = conn.execute("PRAGMA quick_check").fetchone()
            if ok and ok[0] == "ok":
                check_quantdesk_database(path, conn)  # before the first connection switches it to WAL
        finally:
            conn.close()
    except sqlite3.DatabaseError as err:
        raise StorageError(f"database {path} is corrupt or unreadable: {err}") from None
    if not ok or ok[0] != "ok":
        found = " ".join(str(ok[0]).split())[:300] if ok else "?"  # SQLite's report spans lines: one here
        raise StorageError(f"database {path} failed its integrity check: {found}")
    return head


def read_only_uri(path: Path, head: bytes) -> str:
    """A read-only URI that leaves no trace: a WAL-mode file nobody has open (no -wal beside it; SQLite removes
    it when the last connection closes) is read as immutable, else a plain read-only open would leave empty
    -wal and -shm files beside someone else's database."""
    wal_mode = len(head) >= 20 and head[18] == 2
    idle = wal_mode and not Path(f"{path}-wal").exists()
    return f"file:{quote(str(path))}?mode=ro" + ("&immutable=1" if idle else "")


def writable(path: Path) -> bool:
    """Whether SQLite may write the database: the file (if any) and its folder, where WAL keeps its -wal and -shm
    files (a folder that is not writable is fine only when both exist already and are writable)."""
    if path.exists() and not os.access(path, os.W_OK):
        return False
    if os.access(path.parent, os.W_OK | os.X_OK):
        return True
    side = [Path(f"{path}-wal"), Path(f"{path}-shm")]
    return path.exists() and all(os.access(s, os.W_OK) for s in side)


def refuse_new_read_only(path: Path, head: bytes) -> None:
    """A database that does not exist yet cannot be made in a folder that is not writable."""
    if not head:
        raise StorageError(f"cannot create database {path}: its folder is read-only")


def storage_error(path: Path | str, err: sqlite3.Error) -> StorageError:
    """One line for a driver error: a write to a read-only file says so, anything else names the driver's words."""
    if isinstance(err, sqlite3.OperationalError) and "readonly" in str(err).replace("read-only", "readonly"):
        return StorageError(f"database {path} is read-only (the file or its folder is not writable); "
                            f"nothing was changed")
    return StorageError(f"database error: {err}")
