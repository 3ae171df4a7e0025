"""The write-ahead log goes back into the database file on the checkpointer's thread, never inside a commit."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

from infrastructure.db import sqlite as sqlite_module
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
        # Its thread counts a run just after the checkpoint returns, so the rows can reach the file a moment
        # before the count moves: wait for both. The file is copied while holding the lock every checkpoint
        # takes, or the copy could catch a checkpoint half-way through writing pages (a torn, "malformed" copy).
        while True:
            with sqlite_module.FORK_LOCK:
                rows = _rows_in_main_file(db, tmp_path)
            if rows == 60 and checkpointer.runs >= 1:
                break
            assert time.monotonic() < deadline, "the checkpointer never copied the log back"
            time.sleep(0.05)
    finally:
        engine.dispose()
    assert not checkpointer._thread.is_alive()


def test_a_cli_process_with_the_checkpointer_running_still_forks_its_sweep_workers(tmp_path: Path) -> None:
    """The CLI forks sweep workers (warm kernels, millisecond start) only when no other thread could leave a
    child holding a lock: the checkpointer pauses around forks and says so; an ordinary thread does not."""
    import subprocess
    import sys

    code = (
        "import threading, time\n"
        "from infrastructure.db.engine import create_sqlite_engine\n"
        "from infrastructure.compute.local_pool import _safe_start_method\n"
        "from infrastructure.compute.fork_safety import fork_is_safe\n"
        f"engine = create_sqlite_engine({str(tmp_path / 'f.db')!r}, checkpoint_every_s=0.01)\n"
        "time.sleep(0.05)\n"
        "print(threading.active_count(), _safe_start_method())\n"
        "other = threading.Thread(target=time.sleep, args=(1,), daemon=True); other.start()\n"
        "print(fork_is_safe(), _safe_start_method())\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root,
                         timeout=60).stdout.split()
    assert out == ["2", "fork", "False", "spawn"]
