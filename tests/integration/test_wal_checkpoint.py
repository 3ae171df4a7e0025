"""The write-ahead log goes back into the database file on the checkpointer's thread, never inside a commit."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

from infrastructure.db.engine import CHECKPOINT_BYTES, checkpointer_of, create_sqlite_engine


def _rows_in_main_file(db: Path, tmp: Path) -> int:
    """Rows visible in the database file alone (a copy without its -wal): what checkpoints have written."""
    alone = tmp / "alone.db"
    shutil.copyfile(db, alone)
    conn = sqlite3.connect(alone)
    try:
        return int(conn.execute("SELECT count(*) FROM t").fetchone()[0])
    except sqlite3.OperationalError:  # not even the table has reached the file
        return 0
    finally:
        conn.close()


def _write(engine: object, rows: int) -> None:
    for _ in range(rows):
        with engine.begin() as conn:  # type: ignore[attr-defined]
            conn.exec_driver_sql("INSERT INTO t VALUES (randomblob(100000))")


def test_commits_leave_the_log_to_the_checkpointer_which_copies_it_back(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    engine = create_sqlite_engine(db, checkpoint_every_s=3600)  # its thread will not wake up in this test
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x BLOB)")
        _write(engine, 60)  # ~6 MB: past the 1,000 pages where SQLite would have checkpointed inside a commit
        assert Path(f"{db}-wal").stat().st_size > CHECKPOINT_BYTES
        assert _rows_in_main_file(db, tmp_path) < 60  # no commit copied the log back
        checkpointer = checkpointer_of(engine)
        assert checkpointer is not None and checkpointer.run_if_grown()
        assert _rows_in_main_file(db, tmp_path) == 60
    finally:
        engine.dispose()


def test_the_checkpointer_thread_keeps_the_log_bounded_and_stops_with_the_engine(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    engine = create_sqlite_engine(db, checkpoint_every_s=0.05)
    checkpointer = checkpointer_of(engine)
    assert checkpointer is not None
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x BLOB)")
        _write(engine, 60)
        deadline = time.monotonic() + 10
        while _rows_in_main_file(db, tmp_path) < 60:
            assert time.monotonic() < deadline, "the checkpointer never copied the log back"
            time.sleep(0.05)
        assert checkpointer.runs >= 1
    finally:
        engine.dispose()
    assert not checkpointer._thread.is_alive()
