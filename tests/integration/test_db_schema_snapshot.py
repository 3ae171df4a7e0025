"""A new database is created from a snapshot of the migrated schema: the same database the migrations build."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from app.bootstrap.container import Container
from infrastructure.db.engine import create_sqlite_engine
from infrastructure.db.migrate import newest_migration, run_migrations, upgrade_to_head
from infrastructure.db.schema import SNAPSHOT, create_schema, migrated_snapshot
from infrastructure.db.strategies import SqlStrategyRepository

ROOT = Path(__file__).resolve().parents[2]


def everything(path: Path) -> tuple[list[tuple[object, ...]], dict[str, list[tuple[object, ...]]]]:
    """sqlite_master in creation order (less root pages, which depend on page allocation) and every table's rows."""
    with sqlite3.connect(path) as conn:
        master = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid").fetchall()
        tables = [name for kind, name, _t, sql in master if kind == "table" and not str(sql).upper().startswith(
            "CREATE VIRTUAL")]
        rows = {name: sorted(conn.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr) for name in tables}
    return master, rows


def migrated(path: Path) -> Path:
    engine = create_sqlite_engine(path)
    run_migrations(engine)
    engine.dispose()
    return path


def test_the_snapshot_is_what_the_migrations_build_today() -> None:
    stored = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert stored == migrated_snapshot(), "a migration changed the schema: run python -m infrastructure.db.schema"
    assert stored["revision"] == newest_migration()


def test_a_new_database_has_exactly_the_schema_and_rows_of_one_the_migrations_built(tmp_path: Path) -> None:
    Container.open(tmp_path / "new.db").close()
    reference = everything(migrated(tmp_path / "migrated.db"))
    assert everything(tmp_path / "new.db") == reference
    assert any(name == "strategy_names_config" for _k, name, _t, _s in reference[0])  # the FTS5 index is there
    engine = create_sqlite_engine(tmp_path / "new.db")
    upgrade_to_head(engine)  # already at the newest revision: nothing to do
    engine.dispose()
    assert everything(tmp_path / "new.db") == reference


def test_the_name_index_of_a_new_database_finds_strategies_as_a_migrated_ones_does(tmp_path: Path) -> None:
    c = Container.open(tmp_path / "new.db")
    names = sorted(s.name for s in c.strategies.page(None, 100).items)
    assert names  # the bundled samples, stored through the index's triggers
    c.close()
    with sqlite3.connect(tmp_path / "new.db") as conn:
        found = [r[0] for r in conn.execute("SELECT name FROM strategy_names WHERE strategy_names MATCH ?",
                                            (f'"{names[0][1:5]}"',))]
    assert names[0] in found


def test_a_new_database_is_created_without_loading_alembic(tmp_path: Path) -> None:
    code = ("import sys\nfrom app.bootstrap.container import Container\n"
            f"Container.open({str(tmp_path / 'new.db')!r}).close()\nprint('alembic' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                         timeout=60).stdout.strip()
    assert out == "False"
    with sqlite3.connect(tmp_path / "new.db") as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(newest_migration(),)]


def test_an_older_database_is_still_brought_up_by_the_migrations(tmp_path: Path) -> None:
    from alembic import command

    from infrastructure.db.migrate import _config

    path = tmp_path / "old.db"
    engine = create_sqlite_engine(path)
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0004")
    upgrade_to_head(engine)
    engine.dispose()
    assert everything(path)[0] == everything(migrated(tmp_path / "migrated.db"))[0]


def test_a_sqlite_without_the_name_index_gets_every_other_table_and_strategies_still_save(tmp_path: Path) -> None:
    doc = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    doc["statements"] = [sql.replace("USING fts5(", "USING no_such_module(") for sql in doc["statements"]]
    (tmp_path / "snapshot.json").write_text(json.dumps(doc))  # as a SQLite built without FTS5's trigram would
    engine = create_sqlite_engine(tmp_path / "new.db")
    assert create_schema(engine, tmp_path / "snapshot.json")
    assert not create_schema(engine, tmp_path / "snapshot.json")  # a database with tables is left alone
    engine.dispose()
    master, _rows = everything(tmp_path / "new.db")
    reference, _ = everything(migrated(tmp_path / "migrated.db"))
    index = {"strategy_names", "strategy_names_data", "strategy_names_idx", "strategy_names_docsize",
             "strategy_names_config", "strategy_names_ai", "strategy_names_ad", "strategy_names_au"}
    assert master == [m for m in reference if m[1] not in index]
    engine = create_sqlite_engine(tmp_path / "new.db")
    repo = SqlStrategyRepository(engine)
    with engine.connect() as conn:
        assert not repo._indexed(conn)  # the repository filters names by scanning instead
    engine.dispose()
    c = Container.open(tmp_path / "new.db")
    assert c.strategies.count() > 0  # the bundled samples saved without the index's triggers
    c.close()
