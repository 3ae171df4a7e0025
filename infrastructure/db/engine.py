"""The one SQLAlchemy engine factory: SQLite in WAL mode with pragmas set on every connection."""

from __future__ import annotations

import sqlite3
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import ConnectionPoolEntry

from app.errors import StorageError
from infrastructure.db.connections import transaction
from infrastructure.db.sqlite import (
    CHECKPOINT_BYTES,
    CHECKPOINT_EVERY_S,
    WalCheckpointer,
    check_file,
    read_only_uri,
    refuse_new_read_only,
    set_read_pragmas,
    set_write_pragmas,
    storage_error,
    writable,
)

__all__ = ["CHECKPOINT_BYTES", "EngineConnections", "WalCheckpointer", "checkpointer_of", "create_sqlite_engine",
           "is_read_only", "sqlite_url", "writable"]


def sqlite_url(path: Path | str) -> str:
    return f"sqlite:///{Path(path)}"


_CHECKPOINTERS: weakref.WeakKeyDictionary[Engine, WalCheckpointer] = weakref.WeakKeyDictionary()
_READ_ONLY: weakref.WeakSet[Engine] = weakref.WeakSet()


def is_read_only(engine: Engine) -> bool:
    """Whether the engine opened its file read-only (the file or its folder is not writable)."""
    return engine in _READ_ONLY


def checkpointer_of(engine: Engine) -> WalCheckpointer | None:
    """The engine's background checkpointer, if it has one."""
    return _CHECKPOINTERS.get(engine)


def _set_pragmas(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    set_write_pragmas(dbapi_conn)  # type: ignore[arg-type]  # the pysqlite driver's connection


def _set_read_pragmas(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry | None = None) -> None:
    set_read_pragmas(dbapi_conn)  # type: ignore[arg-type]


def _begin(conn: Connection) -> None:
    """Start every transaction explicitly. Writers ask for `sqlite_begin="BEGIN IMMEDIATE"` so that a
    read-modify-write takes the write lock up front instead of failing to upgrade a read lock later."""
    conn.exec_driver_sql(conn.get_execution_options().get("sqlite_begin", "BEGIN"))


def _refuse_read_only_writes(path: Path) -> Callable[[ExceptionContext], None]:
    def handle(ctx: ExceptionContext) -> None:
        err = ctx.original_exception
        if isinstance(err, sqlite3.OperationalError) and "readonly" in str(err).replace("read-only", "readonly"):
            raise storage_error(path, err) from None
    return handle


class EngineConnections:
    """The plain sqlite3 connections of an engine's pool, for repositories written against `Connections`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.path = engine.url.database or str(engine.url)

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[sqlite3.Connection]:
        try:
            raw = self.engine.raw_connection()
        except DBAPIError as err:
            raise StorageError(f"database error: {err.orig}") from None
        try:
            conn: sqlite3.Connection = raw.driver_connection  # type: ignore[assignment]
            with transaction(conn, begin, self.path):
                yield conn
        finally:
            raw.close()

    def reading(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._transaction("BEGIN")

    def writing(self, bulk: bool = False) -> AbstractContextManager[sqlite3.Connection]:
        return self._transaction("BEGIN IMMEDIATE")  # the engine's pool keeps connections open: always WAL


def create_sqlite_engine(path: Path | str, checkpoint_every_s: float = CHECKPOINT_EVERY_S,
                         head: bytes | None = None) -> Engine:
    """Engine for a SQLite file; creates the folder, sets WAL and the pragmas on every new connection, and
    checkpoints the log on a thread of its own (stopped when the engine is disposed). A file (or folder) that is
    not writable is opened read-only: reading works, any write fails with one "read-only" StorageError. `head`:
    the file's first bytes from a check already made (infrastructure.db.sqlite.check_file), not repeated here."""
    p = Path(path)
    head = check_file(p) if head is None else head
    if writable(p):
        engine = create_engine(sqlite_url(p), pool_size=5, max_overflow=5, pool_pre_ping=False)
        event.listen(engine, "connect", _set_pragmas)
        checkpointer = _CHECKPOINTERS[engine] = WalCheckpointer(p, checkpoint_every_s)
        event.listen(engine, "engine_disposed", lambda _engine: checkpointer.stop())
    else:
        refuse_new_read_only(p, head)
        uri = read_only_uri(p, head)
        # the URL still names the file (messages, pool choice); the creator opens it read-only
        engine = create_engine(sqlite_url(p), pool_size=5, max_overflow=5, pool_pre_ping=False,
                               creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False))
        event.listen(engine, "connect", _set_read_pragmas)
        _READ_ONLY.add(engine)
    event.listen(engine, "begin", _begin)
    event.listen(engine, "handle_error", _refuse_read_only_writes(p))
    return engine
