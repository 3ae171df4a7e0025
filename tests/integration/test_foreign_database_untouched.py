"""Opening a file identifies it as QuantDesk's (or empty) before changing anything; any other file stays as it was."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from app.bootstrap.cli import main
from app.bootstrap.container import Container
from infrastructure.db.migrate import newest_migration


def files_beside(path: Path) -> dict[str, bytes]:
    """The database and any journal files next to it, by name."""
    return {p.name: p.read_bytes() for p in sorted(path.parent.glob(path.name + "*"))}


def refused_by_the_cli(path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    before = files_beside(path)
    code = main(["--db", str(path), "db", "info"])
    out, err = capsys.readouterr()
    assert code != 0 and "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert files_beside(path) == before  # byte for byte, and no -wal/-shm left behind
    return lines[0]


def other_application_file(path: Path, journal: str = "DELETE") -> Path:
    """Another program's database, closed (in WAL mode its log is checkpointed into the file and removed)."""
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(f"PRAGMA journal_mode={journal}")
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        conn.executemany("INSERT INTO notes (body) VALUES (?)", [("buy milk",), ("call bank",)])
    return path


def quantdesk_file(path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A QuantDesk database, closed and switched back to rollback-journal mode (as a copy or an old tool leaves it)."""
    Container.open(path).close()
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("PRAGMA journal_mode=DELETE")
    capsys.readouterr()
    return path


def test_another_applications_sqlite_file_is_refused_and_left_byte_for_byte(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = other_application_file(tmp_path / "notes.db")
    message = refused_by_the_cli(path, capsys)
    assert "not a QuantDesk database" in message and "notes" in message
    with closing(sqlite3.connect(path)) as conn, conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert names == {"notes"}  # no migration ran


def test_another_applications_file_in_wal_mode_is_refused_without_a_migration(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = other_application_file(tmp_path / "notes.db", journal="WAL")
    refused_by_the_cli(path, capsys)
    with closing(sqlite3.connect(path)) as conn, conn:
        assert {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")} == {"notes"}


def test_another_applications_alembic_database_is_refused_untouched(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = other_application_file(tmp_path / "shop.db")
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('ae1027a6acf')")
    assert "ae1027a6acf" in refused_by_the_cli(path, capsys)


def test_a_newer_schema_in_rollback_journal_mode_is_refused_without_switching_to_wal(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = quantdesk_file(tmp_path / "q.db", capsys)
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    assert "newer than this QuantDesk knows" in refused_by_the_cli(path, capsys)
    with closing(sqlite3.connect(path)) as conn, conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)


def test_two_rows_in_alembic_version_are_refused_untouched(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = quantdesk_file(tmp_path / "q.db", capsys)
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("DROP TABLE alembic_version")
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        conn.executemany("INSERT INTO alembic_version VALUES (?)", [("0003",), (newest_migration(),)])
    assert "schema version" in refused_by_the_cli(path, capsys)


def test_an_empty_file_and_a_table_less_sqlite_file_become_quantdesk_databases(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    bare = tmp_path / "bare.db"
    sqlite3.connect(bare).execute("PRAGMA user_version = 0").connection.close()
    for path in (empty, bare):
        Container.open(path).close()
        with closing(sqlite3.connect(path)) as conn, conn:
            assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(newest_migration(),)]
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_an_older_quantdesk_schema_in_rollback_journal_mode_is_still_upgraded(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = quantdesk_file(tmp_path / "q.db", capsys)
    with closing(sqlite3.connect(path)) as conn, conn:  # as 0006 left it: before the funding and order tables
        conn.execute("DROP INDEX IF EXISTS ix_live_orders_session")
        conn.execute("DROP TABLE live_orders")
        conn.execute("DROP INDEX IF EXISTS ix_funding_symbol_time")
        conn.execute("DROP TABLE funding_ranges")
        conn.execute("DROP TABLE funding")
        conn.execute("UPDATE alembic_version SET version_num = '0006'")
    Container.open(path).close()
    with closing(sqlite3.connect(path)) as conn, conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(newest_migration(),)]
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'funding'").fetchone() == (1,)
