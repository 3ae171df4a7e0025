"""A new database's schema in one transaction from a snapshot of the migrated schema, without loading Alembic."""

from __future__ import annotations

import json
import re
import sqlite3
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from infrastructure.db.connections import Connections, connections_of

if TYPE_CHECKING:
    from sqlalchemy import Engine

SNAPSHOT = Path(__file__).with_name("schema.json")
# The FTS5 name index rebuilds itself once when created (0006 does it); an empty index keeps that record.
AFTER = {"strategy_names": "INSERT INTO strategy_names(strategy_names) VALUES ('rebuild')"}


def schema_statements(conn: sqlite3.Connection) -> list[str]:
    """The statements that rebuild `conn`'s schema in its order: what SQLite keeps in sqlite_master, less the
    objects SQLite makes by itself (autoindexes, a virtual table's shadow tables)."""
    rows = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY rowid").fetchall()
    virtual = [name for kind, name, sql in rows if kind == "table" and sql.upper().startswith("CREATE VIRTUAL")]
    return [sql for kind, name, sql in rows
            if sql is not None and not (kind == "table" and any(name.startswith(f"{v}_") for v in virtual))]


def migrated_snapshot() -> dict[str, object]:
    """The snapshot as the migrations make it today: every Alembic migration run on a new file."""
    from infrastructure.db.engine import create_sqlite_engine
    from infrastructure.db.migrate import newest_migration, run_migrations

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "migrated.db"
        engine = create_sqlite_engine(path)
        try:
            run_migrations(engine)
        finally:
            engine.dispose()
        conn = sqlite3.connect(path)
        try:
            return {"revision": newest_migration(), "statements": schema_statements(conn)}
        finally:
            conn.close()


def snapshot_revision() -> str:
    return str(json.loads(SNAPSHOT.read_text(encoding="utf-8"))["revision"])


def create_schema(source: Engine | Connections, snapshot: Path = SNAPSHOT) -> bool:
    """Create every table of a database that has none, stamped at the snapshot's revision, in one transaction.
    False (nothing done) when the database already has a table: Alembic's migrations take it from there.
    `source` is a Database (plain sqlite3: a new file needs no SQLAlchemy) or an engine."""
    doc = json.loads(snapshot.read_text(encoding="utf-8"))
    with connections_of(source).writing() as conn:
        if conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            return False
        skipped: list[str] = []
        for sql in doc["statements"]:
            if any(re.search(rf"\b{name}\b", sql) for name in skipped):
                continue  # a trigger keeping an index this SQLite cannot build
            if sql.upper().startswith("CREATE VIRTUAL"):
                _create_virtual(conn, sql, skipped)
                continue
            conn.execute(sql)
        conn.execute("INSERT INTO alembic_version (version_num) VALUES (?)", (doc["revision"],))
    return True


def _create_virtual(conn: sqlite3.Connection, sql: str, skipped: list[str]) -> None:
    """A virtual table (the FTS5 trigram name index), or none on a SQLite built without it, as 0006 does."""
    name = sql.split()[3]
    conn.execute("SAVEPOINT virtual_table")
    try:
        conn.execute(sql)
    except sqlite3.OperationalError:
        conn.execute("ROLLBACK TO virtual_table")
        conn.execute("RELEASE virtual_table")
        skipped.append(name)
        return
    conn.execute("RELEASE virtual_table")
    if name in AFTER:
        conn.execute(AFTER[name])


if __name__ == "__main__":  # after adding a migration: python -m infrastructure.db.schema
    SNAPSHOT.write_text(json.dumps(migrated_snapshot(), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {SNAPSHOT} at revision {snapshot_revision()}")
