"""The one SQLAlchemy engine factory: SQLite in WAL mode with pragmas set on every connection."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry

from app.errors import StorageError
from infrastructure.compute.fork_safety import mark_fork_safe
from infrastructure.db.identity import check_quantdesk_database

BUSY_TIMEOUT_MS = 10_000
CHECKPOINT_BYTES = 4 << 20  # SQLite's own auto-checkpoint point: 1,000 pages of 4 KiB
CHECKPOINT_EVERY_S = 0.5
log = logging.getLogger(__name__)


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
            with _FORK_LOCK:
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


def sqlite_url(path: Path | str) -> str:
    return f"sqlite:///{Path(path)}"


# Held while a checkpoint runs and across every fork, so a forked child never inherits SQLite mid-checkpoint;
# that makes the checkpointer thread fork-safe (a CLI sweep forks its workers with it running).
_FORK_LOCK = threading.Lock()
os.register_at_fork(before=_FORK_LOCK.acquire, after_in_parent=_FORK_LOCK.release,
                    after_in_child=_FORK_LOCK.release)

_CHECKPOINTERS: weakref.WeakKeyDictionary[Engine, WalCheckpointer] = weakref.WeakKeyDictionary()
_READ_ONLY: weakref.WeakSet[Engine] = weakref.WeakSet()


def is_read_only(engine: Engine) -> bool:
    """Whether the engine opened its file read-only (the file or its folder is not writable)."""
    return engine in _READ_ONLY


def checkpointer_of(engine: Engine) -> WalCheckpointer | None:
    """The engine's background checkpointer, if it has one."""
    return _CHECKPOINTERS.get(engine)


def _set_pragmas(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    _set_read_pragmas(dbapi_conn)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA wal_autocheckpoint=0")  # the engine's WalCheckpointer does it, off the write path
    cur.close()


def _set_read_pragmas(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry | None = None) -> None:
    """The pragmas that change nothing in the file: all a read-only connection may set."""
    # Let SQLAlchemy, not the driver, decide when a transaction begins (see _begin).
    dbapi_conn.isolation_level = None  # type: ignore[attr-defined]
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def _begin(conn: Connection) -> None:
    """Start every transaction explicitly. Writers ask for `sqlite_begin="BEGIN IMMEDIATE"` so that a
    read-modify-write takes the write lock up front instead of failing to upgrade a read lock later."""
    conn.exec_driver_sql(conn.get_execution_options().get("sqlite_begin", "BEGIN"))


def _check_file(path: Path) -> bytes:
    """Refuse early, with one clear line, a path we cannot use; never modify an existing file here. The file's
    first 20 bytes (empty for a new file)."""
    if path.is_dir():
        raise StorageError(f"database path {path} is a directory")
    parent = path.parent
    if not path.exists():
        try:
            parent.mkdir(parents=True, exist_ok=True)
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
        conn = sqlite3.connect(_read_only_uri(path, head), uri=True)
        try:
            ok = conn.execute("PRAGMA quick_check").fetchone()
            if ok and ok[0] == "ok":
                check_quantdesk_database(path, conn)  # before the first connection switches it to WAL
        finally:
            conn.close()
    except sqlite3.DatabaseError as err:
        raise StorageError(f"database {path} is corrupt or unreadable: {err}") from None
    if not ok or ok[0] != "ok":
        raise StorageError(f"database {path} failed its integrity check: {ok[0] if ok else '?'}")
    return head


def _read_only_uri(path: Path, head: bytes) -> str:
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


def _refuse_read_only_writes(path: Path) -> Callable[[ExceptionContext], None]:
    def handle(ctx: ExceptionContext) -> None:
        err = ctx.original_exception
        if isinstance(err, sqlite3.OperationalError) and "readonly" in str(err).replace("read-only", "readonly"):
            raise StorageError(f"database {path} is read-only (the file or its folder is not writable); "
                               f"nothing was changed") from None
    return handle


def create_sqlite_engine(path: Path | str, checkpoint_every_s: float = CHECKPOINT_EVERY_S) -> Engine:
    """Engine for a SQLite file; creates the folder, sets WAL and the pragmas on every new connection, and
    checkpoints the log on a thread of its own (stopped when the engine is disposed). A file (or folder) that is
    not writable is opened read-only: reading works, any write fails with one "read-only" StorageError."""
    p = Path(path)
    head = _check_file(p)
    if writable(p):
        engine = create_engine(sqlite_url(p), pool_size=5, max_overflow=5, pool_pre_ping=False)
        event.listen(engine, "connect", _set_pragmas)
        checkpointer = _CHECKPOINTERS[engine] = WalCheckpointer(p, checkpoint_every_s)
        event.listen(engine, "engine_disposed", lambda _engine: checkpointer.stop())
    else:
        if not head:
            raise StorageError(f"cannot create database {p}: its folder is read-only")
        uri = _read_only_uri(p, head)
        # the URL still names the file (messages, pool choice); the creator opens it read-only
        engine = create_engine(sqlite_url(p), pool_size=5, max_overflow=5, pool_pre_ping=False,
                               creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False))
        event.listen(engine, "connect", _set_read_pragmas)
        _READ_ONLY.add(engine)
    event.listen(engine, "begin", _begin)
    event.listen(engine, "handle_error", _refuse_read_only_writes(p))
    return engine
