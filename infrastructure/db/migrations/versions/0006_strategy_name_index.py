"""strategy name index: an FTS5 trigram index over strategy names, so a substring filter seeks instead of
scanning every name. External content (the names live in `strategies`), kept in step by triggers. SQLite
builds without FTS5's trigram tokenizer (before 3.34) get no index; the repository then scans with LIKE."""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TRIGGERS = {
    "strategy_names_ai": "AFTER INSERT ON strategies BEGIN "
                         "INSERT INTO strategy_names(rowid, name) VALUES (new.id, new.name); END",
    "strategy_names_ad": "AFTER DELETE ON strategies BEGIN "
                         "INSERT INTO strategy_names(strategy_names, rowid, name) VALUES ('delete', old.id, old.name); END",
    "strategy_names_au": "AFTER UPDATE OF name ON strategies BEGIN "
                         "INSERT INTO strategy_names(strategy_names, rowid, name) VALUES ('delete', old.id, old.name); "
                         "INSERT INTO strategy_names(rowid, name) VALUES (new.id, new.name); END",
}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    try:
        with bind.begin_nested():
            op.execute("CREATE VIRTUAL TABLE strategy_names USING fts5(name, content='strategies', "
                       "content_rowid='id', tokenize='trigram')")
    except sa.exc.OperationalError:  # no FTS5 or no trigram tokenizer in this SQLite: filter by scanning
        return
    for name, body in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")
    op.execute("INSERT INTO strategy_names(strategy_names) VALUES ('rebuild')")


def downgrade() -> None:
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS strategy_names")
