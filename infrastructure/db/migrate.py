"""Run Alembic migrations on start; refuse a database whose schema is newer than this code."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import DatabaseError, OperationalError

from app.errors import StorageError

MIGRATIONS = Path(__file__).parent / "migrations"


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade_to_head(engine: Engine) -> None:
    """Create or upgrade the schema. A newer or unknown schema is refused before anything is written."""
    cfg = _config()
    script = ScriptDirectory.from_config(cfg)
    where = engine.url.database or str(engine.url)
    try:
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
