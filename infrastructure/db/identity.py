"""Tell a QuantDesk database (or a new, empty one) from any other SQLite file, by reading it only."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from app.errors import StorageError
from infrastructure.db.migrate import known_migrations


def check_quantdesk_database(path: Path, conn: sqlite3.Connection) -> None:
    """StorageError unless the file (open read-only on `conn`) has no tables yet, or exactly one schema version
    that is one of ours. Runs before anything may write: no WAL switch, no migration on someone else's file."""
    tables = [str(r[0]) for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite^_%' ESCAPE '^' ORDER BY name")]
    if not tables:
        return  # a new database: ours to create
    if "alembic_version" not in tables:
        shown = ", ".join(tables[:5]) + (f" and {len(tables) - 5} more" if len(tables) > 5 else "")
        raise StorageError(f"{path} is not a QuantDesk database (an SQLite file with tables {shown} and no QuantDesk "
                           f"schema version); it was left unchanged")
    versions = [str(r[0]) for r in conn.execute("SELECT version_num FROM alembic_version")]
    known = known_migrations()
    if len(versions) != 1:
        raise StorageError(f"database {path} records {len(versions)} schema versions "
                           f"({', '.join(versions) or 'none'}) where QuantDesk keeps one; it was left unchanged")
    version = versions[0]
    if version in known:
        return
    if len(version) == 4 and version.isdigit() and version > known[-1]:
        raise StorageError(f"database {path} has schema version {version}, newer than this QuantDesk knows "
                           f"(latest {known[-1]}); upgrade QuantDesk to open it")
    raise StorageError(f"{path} is not a QuantDesk database (schema version {version!r} is not one of QuantDesk's); "
                       f"it was left unchanged")
