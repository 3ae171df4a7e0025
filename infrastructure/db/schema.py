"""A new database's schema in one transaction from a snapshot of the migrated schema, without loading Alembic."""

from __future__ import annotations

import json
import re
import sqlite3
import tempfile
from pathlib import Path

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

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


def create_schema(engine: Engine, snapshot: Path = SNAPSHOT) -> bool:
    """Create every table of a database that has none, stamped at the snapshot's revision, in one transaction.
    False (nothing done) when the database already has a table: Alembic's migrations take it from there."""
    doc = json.loads(snapshot.read_text(encoding="utf-8"))
    with engine.connect().execution_options(sqlite_begin="BEGIN IMMEDIATE") as conn, conn.begin():
        if conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar():
            return False
        skipped: list[str] = []
        for sql in doc["statements"]:
            if any(re.search(rf"\b{name}\b", sql) for name in skipped):
                continue  # a trigger keeping an index this SQLite cannot build
            if sql.upper().startswith("CREATE VIRTUAL"):
                _create_virtual(conn, sql, skipped)
                continue
            conn.exec_driver_sql(sql)
        conn.exec_driver_sql("INSERT INTO alembic_version (version_num) VALUES (?)", (doc["revision"],))
    return True


def _create_virtual(conn: Connection, sql: str, skipped: list[str]) -> None:
    """A virtual table (the FTS5 trigram name index), or none on a SQLite built without it, as 0006 does."""
    name = sql.split()[3]
    try:
        with conn.begin_nested():
            conn.exec_driver_sql(sql)
    except OperationalError:
        skipped.append(name)
        return
    if name in AFTER:
        conn.exec_driver_sql(AFTER[name])


if __name__ == "__main__":  # after adding a migration: python -m infrastructure.db.schema
    SNAPSHOT.write_text(json.dumps(migrated_snapshot(), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {SNAPSHOT} at revision {snapshot_revision()}")
