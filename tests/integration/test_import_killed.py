"""An import killed with SIGKILL while it writes leaves the database as it was: all of the file or none of it."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from app.bootstrap.cli import main

ROOT = Path(__file__).parents[2]
ROWS = 600_000


def big_csv(path: Path) -> None:
    """ROWS minutes of valid candles (generated in one go: no per-line Python)."""
    ts = 1_704_067_200_000 + np.arange(ROWS, dtype=np.int64) * 60_000
    close = 100 + np.cumsum(np.random.default_rng(3).normal(0, 0.1, ROWS)).round(4)
    table = np.column_stack([ts, close, close + 1, close - 1, close, np.ones(ROWS)])
    np.savetxt(path, table, fmt=["%d", "%.4f", "%.4f", "%.4f", "%.4f", "%d"], delimiter=",",
               header="time,open,high,low,close,volume", comments="")


def size(path: Path) -> int:
    """The file's size, 0 when it does not exist (a WAL file vanishes when the import leaves WAL mode)."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def stored_rows(db: Path, symbol: str) -> int:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        n = conn.execute("SELECT sum(n) FROM candle_blocks WHERE symbol = ?", (symbol,)).fetchone()[0]
    return int(n or 0)


def test_an_import_killed_while_it_writes_stores_nothing_and_the_earlier_data_stays(tmp_path: Path) -> None:
    db = tmp_path / "q.db"
    small = tmp_path / "small.csv"
    small.write_text("time,open,high,low,close,volume\n1704067200000,1,2,0.5,1.5,10\n1704067260000,1,2,0.5,1.5,10\n")
    assert main(["--db", str(db), "import-csv", str(small), "--exchange", "csv", "--market", "KEEP", "--quiet"]) == 0
    big = tmp_path / "big.csv"
    big_csv(big)
    # it writes into the log (WAL), or, as a bulk write with no other connection open, into the file itself
    # under a rollback journal
    wal, journal = Path(f"{db}-wal"), Path(f"{db}-journal")
    before = size(wal) + size(db)
    proc = subprocess.Popen([sys.executable, "-m", "app", "--db", str(db), "import-csv", str(big), "--exchange",
                             "csv", "--market", "BIG", "--quiet"], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        grown = size(wal) + size(db)
        if grown > before + (1 << 20) and (wal.exists() or journal.exists()):  # its transaction is writing pages
            break
        time.sleep(0.005)
    killed_while_running = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert killed_while_running, "the import ended before it could be killed: make the file bigger"
    assert stored_rows(db, "BIG") in (0, ROWS)  # never a part of the file
    assert stored_rows(db, "KEEP") == 2
