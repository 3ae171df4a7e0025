"""Plain sqlite3 connections to a checked QuantDesk file: the store's hot paths without loading SQLAlchemy."""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from infrastructure.db.sqlite import (
    BUSY_TIMEOUT_MS,
    CHECKPOINT_EVERY_S,
    MMAP_BYTES,
    WalCheckpointer,
    check_file,
    read_only_uri,
    refuse_new_read_only,
    set_read_pragmas,
    set_write_pragmas,
    storage_error,
    writable,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

_OPEN: weakref.WeakSet[Database] = weakref.WeakSet()


class Connections(Protocol):
    """Where a repository gets a sqlite3 connection inside one transaction (driver errors as StorageError)."""

    def reading(self) -> AbstractContextManager[sqlite3.Connection]: ...

    def writing(self, bulk: bool = False) -> AbstractContextManager[sqlite3.Connection]: ...


@contextmanager
def transaction(conn: sqlite3.Connection, begin: str, path: Path | str) -> Iterator[sqlite3.Connection]:
    """`begin` ... COMMIT on `conn`, ROLLBACK on any error; sqlite3 errors become one-line StorageErrors."""
    try:
        conn.execute(begin)
    except sqlite3.Error as err:
        raise storage_error(path, err) from None
    try:
        yield conn
    except BaseException as err:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if isinstance(err, sqlite3.Error):
            raise storage_error(path, err) from None
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.Error as err:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise storage_error(path, err) from None


class Database:
    """Connections to one QuantDesk file, checked once when opened (`Database.open`), with the pragmas and
    read-only rules of the SQLAlchemy engine; a writable file gets the engine's WAL checkpointer. Idle
    connections are kept for reuse by any thread; `close()` closes them (the last close checkpoints the log)."""

    def __init__(self, path: Path, head: bytes, read_only: bool, checkpoint_every_s: float = CHECKPOINT_EVERY_S,
                 map_file: bool = True) -> None:
        self.path, self.head, self.read_only = path, head, read_only
        self.mmap_bytes = MMAP_BYTES if map_file else 0
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        self._checkpointer = None if read_only else WalCheckpointer(path, checkpoint_every_s)
        _OPEN.add(self)

    @classmethod
    def open(cls, path: Path | str, map_file: bool = True) -> Database:
        """Check the file (StorageError naming what is wrong); read-only when it or its folder is not writable.

        `map_file`: read pages through a memory map (fastest; the pages read stay in the process's resident
        memory while its connections live), else by copies (a desktop that keeps its connections open)."""
        p = Path(path)
        head = check_file(p)
        read_only = not writable(p)
        if read_only:
            refuse_new_read_only(p, head)
        return cls(p, head, read_only, map_file=map_file)

    def _connect(self) -> sqlite3.Connection:
        timeout = BUSY_TIMEOUT_MS / 1000
        try:
            if self.read_only:
                conn = sqlite3.connect(read_only_uri(self.path, self.head), uri=True, timeout=timeout,
                                       check_same_thread=False)
                set_read_pragmas(conn)
            else:
                conn = sqlite3.connect(self.path, timeout=timeout, check_same_thread=False)
                set_write_pragmas(conn)
            conn.execute(f"PRAGMA mmap_size={self.mmap_bytes}")
        except sqlite3.Error as err:
            raise storage_error(self.path, err) from None
        return conn

    @contextmanager
    def _checkout(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        conn = conn or self._connect()
        try:
            yield conn
        finally:
            with self._lock:
                keep = not self._closed
                if keep:
                    self._idle.append(conn)
            if not keep:  # closed meanwhile (the app quitting while a collection wrote): nothing keeps it
                conn.close()

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A connection inside a read transaction (one consistent snapshot)."""
        with self._checkout() as conn, transaction(conn, "BEGIN", self.path):
            yield conn

    @contextmanager
    def writing(self, bulk: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection inside a write transaction taken up front (BEGIN IMMEDIATE): all of it or nothing.

        `bulk` (megabytes of new rows, an import): when no other connection has the file open, the transaction
        runs in rollback-journal mode with full syncs, which writes each new page once, where WAL writes it to
        the log and again when the log is checkpointed (~0.1 s of a year of 1m); WAL again right after. With
        another connection open (the desktop, a second command) SQLite keeps WAL and so does this write.
        """
        with self._checkout() as conn:
            direct = bulk and self._journal(conn, "DELETE")
            try:
                with transaction(conn, "BEGIN IMMEDIATE", self.path):
                    yield conn
            finally:
                if direct:
                    self._journal(conn, "WAL")

    def _journal(self, conn: sqlite3.Connection, mode: str) -> bool:
        """Switch `conn`'s file to journal `mode` (and its sync level); whether SQLite did (it refuses while
        another connection has the file open)."""
        with self._lock:
            others = list(self._idle)  # this process's idle connections would make SQLite refuse: close them
            self._idle.clear()
        for other in others:
            other.close()
        try:
            if str(conn.execute(f"PRAGMA journal_mode={mode}").fetchone()[0]).upper() != mode:
                return False
            conn.execute(f"PRAGMA synchronous={'FULL' if mode == 'DELETE' else 'NORMAL'}")
        except sqlite3.Error:
            return False
        return True

    def stored_revisions(self) -> list[str] | None:
        """The schema revisions the file records (one, normally); None for a file without the version table."""
        with self._checkout() as conn:
            try:
                return [str(r[0]) for r in conn.execute("SELECT version_num FROM alembic_version")]
            except sqlite3.OperationalError as err:
                if "no such table" in str(err):
                    return None
                raise storage_error(self.path, err) from None
            except sqlite3.Error as err:
                raise storage_error(self.path, err) from None

    def close(self) -> None:
        """Close the idle connections (the last one to close checkpoints the log) and stop the checkpointer."""
        with self._lock:
            idle, self._idle, self._closed = self._idle, [], True
        for conn in idle:
            conn.close()
        if self._checkpointer is not None:
            self._checkpointer.stop()


def connections_of(source: Engine | Connections) -> Connections:
    """A repository's connections: a Database's own, or an SQLAlchemy engine's pool (SQLAlchemy is loaded only
    by a caller that made an engine)."""
    if isinstance(source, Database) or not hasattr(source, "raw_connection"):
        return source
    from infrastructure.db.engine import EngineConnections

    return EngineConnections(source)  # type: ignore[arg-type]  # an Engine: it has a pool


def _forget_in_child() -> None:
    """A forked child never uses its parent's connections (SQLite forbids carrying them across a fork)."""
    for db in list(_OPEN):
        db._idle = []
        db._lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_in_child)
