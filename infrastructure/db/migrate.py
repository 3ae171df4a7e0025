"""Run Alembic migrations on start; refuse a database whose schema is newer than this code."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from app.errors import StorageError

if TYPE_CHECKING:  # SQLAlchemy loads only where a migration runs: the revision names need none of it
    from alembic.config import Config
    from sqlalchemy import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def _config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def known_migrations() -> list[str]:
    """Every migration's revision in order, read from the file names (`0006_....py` is revision "0006") without
    importing Alembic (0.35-0.45 s of every start)."""
    return sorted(p.name[:4] for p in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))


def newest_migration() -> str:
    """The newest migration's revision. A test holds it equal to Alembic's own head."""
    return known_migrations()[-1]


def _stored_revisions(engine: Engine) -> list[str] | None:
    """The revisions the database says it is at; None if it has no version table yet."""
    from sqlalchemy.exc import OperationalError

    try:
        with engine.connect() as conn:
            return [str(r) for r in conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars()]
    except OperationalError as err:
        if "no such table" in str(err.orig):
            return None
        raise


def upgrade_to_head(engine: Engine) -> None:
    """Create or upgrade the schema. A newer or unknown schema is refused before anything is written.

    A new (table-less) database gets the migrated schema's snapshot in one transaction (a test holds it equal
    to what the migrations build): running eight migrations through Alembic cost a first start ~0.7 s."""
    from sqlalchemy.exc import DatabaseError, OperationalError

    from infrastructure.db.engine import is_read_only  # (engine.py imports this module's neighbours)

    where = engine.url.database or str(engine.url)
    try:
        stored = _stored_revisions(engine)
        if stored == [newest_migration()]:
            return  # up to date, the usual start: no Alembic needed
        if is_read_only(engine) and stored and stored[0] in known_migrations():
            raise StorageError(f"database {where} is read-only and at schema {stored[0]}, older than this QuantDesk's "
                               f"{newest_migration()}; make it writable once so it can be upgraded (nothing was "
                               f"changed)")
        if stored is None:
            from infrastructure.db.schema import create_schema, snapshot_revision

            if snapshot_revision() == newest_migration() and create_schema(engine):
                return
        run_migrations(engine)
    except StorageError:
        raise
    except OperationalError as err:
        raise StorageError(f"cannot write database {where}: {err.orig}") from None
    except DatabaseError as err:
        raise StorageError(f"database {where} is unusable: {err.orig}") from None
    except Exception as err:  # alembic raises its own CommandError for an unknown revision
        if "Can't locate revision" in str(err):
            raise StorageError(f"database {where} has a schema newer than this QuantDesk knows") from None
        raise


def run_migrations(engine: Engine) -> None:
    """Alembic's upgrade to the newest migration (a newer or unknown schema: StorageError)."""
    from alembic import command
    from alembic.script import ScriptDirectory

    where = engine.url.database or str(engine.url)
    cfg = _config()
    script = ScriptDirectory.from_config(cfg)
    current = current_revision(engine)
    head = script.get_current_head()
    if current is not None and script.get_revision(current) is None:
        raise StorageError(
            f"database {where} has schema version {current}, newer than this QuantDesk knows "
            f"(latest {head}); upgrade QuantDesk to open it"
        )
    if current == head:
        return
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
