"""The SQLite candle store: idempotent upserts, range reads, coverage, deletes, concurrent readers."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from app.bootstrap.container import Container
from app.errors import DataError, StorageError
from domain.market import CandleSeries, SeriesKey, Timeframe

M = 60_000
DAY = 1440 * M
KEY = SeriesKey("demo", "KRW-BTC", Timeframe.M1)
T0 = 1_704_067_200_000  # 2024-01-01


def make(n: int, start: int = T0, seed: int = 0, tf: Timeframe = Timeframe.M1) -> CandleSeries:
    rng = np.random.default_rng(seed)
    close = 100 + np.cumsum(rng.normal(0, 0.5, n))
    open_ = np.r_[close[0], close[:-1]]
    ts = start + np.arange(n, dtype=np.int64) * tf.ms
    return CandleSeries.from_columns(tf, ts, open_, np.maximum(open_, close) + 0.1,
                                     np.minimum(open_, close) - 0.1, close, rng.random(n))


def test_a_new_database_is_created_in_wal_mode_with_the_schema(db_path: Path) -> None:
    Container.open(db_path).close()
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"candle_blocks", "fetched_ranges", "alembic_version"} <= tables


def test_upserting_the_same_bars_twice_leaves_the_row_count_unchanged(db_path: Path) -> None:
    repo = Container.open(db_path).candles
    s = make(3 * 1440 + 17)
    repo.upsert(KEY, s)
    repo.upsert(KEY, s)
    assert repo.count(KEY) == len(s)
    assert repo.read(KEY) == s


def test_an_upsert_replaces_overlapping_bars_and_keeps_the_rest(db_path: Path) -> None:
    repo = Container.open(db_path).candles
    old = make(2000)
    new = make(500, start=T0 + 1800 * M, seed=5)
    repo.upsert(KEY, old)
    repo.upsert(KEY, new)
    got = repo.read(KEY)
    assert len(got) == 2300
    assert got == old.concat(new)


def test_range_reads_are_start_inclusive_end_exclusive(db_path: Path) -> None:
    repo = Container.open(db_path).candles
    s = make(5000)
    repo.upsert(KEY, s)
    got = repo.read(KEY, T0 + 1439 * M, T0 + 2881 * M)
    assert got.ts[0] == T0 + 1439 * M and got.ts[-1] == T0 + 2880 * M and len(got) == 1442


def test_series_of_other_keys_do_not_mix(db_path: Path) -> None:
    repo = Container.open(db_path).candles
    other = SeriesKey("demo", "KRW-ETH", Timeframe.M1)
    repo.upsert(KEY, make(100))
    repo.upsert(other, make(50, seed=3))
    assert repo.count(KEY) == 100 and repo.count(other) == 50
    assert [s.rows for s in repo.series()] == [100, 50]


def test_fetched_windows_without_bars_are_known_empty(db_path: Path) -> None:
    repo = Container.open(db_path).candles
    s = make(100).take(np.r_[0:40, 60:100])
    repo.upsert(KEY, s, fetched=(T0, T0 + 100 * M))
    cov = repo.coverage(KEY)
    assert cov.fetched == [(T0, T0 + 100 * M)]
    assert cov.known_empty == [(T0 + 40 * M, T0 + 60 * M)]
    assert cov.holes() == []


def test_adjacent_fetched_windows_merge(db_path: Path) -> None:
    repo = Container.open(db_path).candles
    repo.upsert(KEY, make(10), fetched=(T0, T0 + 10 * M))
    repo.upsert(KEY, make(10, start=T0 + 10 * M), fetched=(T0 + 10 * M, T0 + 20 * M))
    assert repo.coverage(KEY).fetched == [(T0, T0 + 20 * M)]


def test_deleting_a_range_removes_bars_and_its_fetched_record(db_path: Path) -> None:
    repo = Container.open(db_path).candles
    repo.upsert(KEY, make(3000), fetched=(T0, T0 + 3000 * M))
    removed = repo.delete(KEY, T0 + 1000 * M, T0 + 2000 * M)
    assert removed == 1000 and repo.count(KEY) == 2000
    cov = repo.coverage(KEY)
    assert cov.holes() == [(T0 + 1000 * M, T0 + 2000 * M)]


def test_bad_bars_are_refused_and_nothing_is_written(db_path: Path) -> None:
    repo = Container.open(db_path).candles
    s = make(100)
    s.high[50] = s.low[50] - 1
    with pytest.raises(DataError, match="row 50: high is below"):
        repo.upsert(KEY, s)
    assert repo.count(KEY) == 0


def _writer(path: str, chunks: int, ready: mp.Event) -> None:  # type: ignore[valid-type]
    repo = Container.open(path).candles
    for i in range(chunks):
        repo.upsert(KEY, make(1440, start=T0 + i * DAY, seed=i), fetched=(T0 + i * DAY, T0 + (i + 1) * DAY))
        if i == 0:
            ready.set()


def test_a_reader_reads_consistent_data_while_another_process_writes(db_path: Path) -> None:
    Container.open(db_path).close()
    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    proc = ctx.Process(target=_writer, args=(str(db_path), 60, ready))
    proc.start()
    try:
        assert ready.wait(60)
        repo = Container.open(db_path).candles
        seen = []
        while proc.is_alive() or not seen:
            s = repo.read(KEY)
            s.validate()
            assert len(s) % 1440 == 0  # whole chunks only: each write is one transaction
            seen.append(len(s))
    finally:
        proc.join(60)
    assert proc.exitcode == 0
    assert seen == sorted(seen)
    assert repo.count(KEY) == 60 * 1440


def test_a_file_that_is_not_a_database_is_refused_untouched(tmp_path: Path) -> None:
    bad = tmp_path / "notes.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    before = bad.read_bytes()
    with pytest.raises(StorageError, match="not a QuantDesk database"):
        Container.open(bad)
    assert bad.read_bytes() == before


def test_a_schema_newer_than_the_code_is_refused_untouched(db_path: Path) -> None:
    Container.open(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute("UPDATE alembic_version SET version_num='9999'")
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file before we compare bytes
    conn.close()
    before = db_path.read_bytes()
    with pytest.raises(StorageError, match="newer than this QuantDesk knows"):
        Container.open(db_path)
    assert db_path.read_bytes() == before


def test_the_newest_migration_is_alembics_head_and_an_up_to_date_file_opens_without_importing_alembic(
        db_path: Path) -> None:
    import subprocess
    import sys

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from infrastructure.db.migrate import MIGRATIONS, newest_migration

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert newest_migration() == ScriptDirectory.from_config(cfg).get_current_head()
    code = ("import sys\nfrom app.bootstrap.container import Container\n"
            f"Container.open({str(db_path)!r}).close()\nprint('alembic' in sys.modules)\n")
    root = Path(__file__).resolve().parents[2]
    first, second = (subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                    cwd=root, timeout=60).stdout.strip() for _ in range(2))
    assert (first, second) == ("False", "False")  # a new file gets the schema's snapshot; an up-to-date one is kept
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(newest_migration(),)]
