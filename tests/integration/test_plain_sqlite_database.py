"""The plain sqlite3 Database on a real file: all-or-nothing writes, threads, closing, and the engine beside it."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest

from app.bootstrap.container import Container
from app.errors import StorageError
from domain.market import CandleSeries, SeriesKey, Timeframe
from infrastructure.db.candles import SqlCandleRepository
from infrastructure.db.connections import Database
from infrastructure.db.engine import create_sqlite_engine

M1 = Timeframe.parse("1m")
T0 = 1_704_067_200_000


def bars(n: int, start: int = T0) -> CandleSeries:
    close = 100 + np.cumsum(np.random.default_rng(n).normal(0, 1, n))
    ts = start + np.arange(n, dtype=np.int64) * 60_000
    return CandleSeries.from_columns(M1, ts, close, close + 1, close - 1, close, np.ones(n))


@pytest.fixture
def db(db_path: Path) -> Database:
    Container.open(db_path).close()  # a QuantDesk file at the newest schema
    return Database.open(db_path)


def test_a_write_that_fails_half_way_leaves_nothing(db: Database) -> None:
    repo = SqlCandleRepository(db)
    with pytest.raises(RuntimeError), db.writing() as conn:
        conn.execute("INSERT INTO fetched_ranges (exchange, symbol, timeframe, start_ts, end_ts) "
                     "VALUES ('e', 's', '1m', 0, 60000)")
        raise RuntimeError("the caller failed")
    assert repo.fetched_series() == []
    with pytest.raises(StorageError, match="database error"), db.writing() as conn:
        conn.execute("INSERT INTO fetched_ranges (exchange, symbol, timeframe, start_ts, end_ts) "
                     "VALUES ('e', 's', '1m', 0, 60000)")
        conn.execute("INSERT INTO no_such_table VALUES (1)")
    assert repo.fetched_series() == []
    db.close()


def test_threads_share_the_connections_and_every_write_lands(db: Database) -> None:
    repo = SqlCandleRepository(db)
    failures: list[BaseException] = []

    def work(k: int) -> None:
        try:
            key = SeriesKey("e", f"S{k}", M1)
            for day in range(3):
                repo.upsert(key, bars(1440, T0 + day * 86_400_000))
                assert len(repo.read(key)) == 1440 * (day + 1)
        except BaseException as err:  # handed to the test thread
            failures.append(err)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert [s.rows for s in repo.series()] == [3 * 1440] * 4
    db.close()


def test_closing_while_a_connection_is_in_use_closes_it_when_handed_back(db: Database, db_path: Path) -> None:
    repo = SqlCandleRepository(db)
    repo.upsert(SeriesKey("e", "s", M1), bars(3000))
    with db.reading() as conn:
        db.close()
        assert conn.execute("SELECT count(*) FROM candle_blocks").fetchone() == (3,)
    with pytest.raises(sqlite3.ProgrammingError):
        conn.execute("SELECT 1")
    assert sorted(p.name for p in db_path.parent.glob(f"{db_path.name}*")) == [db_path.name]  # log checkpointed


def test_the_engine_and_the_plain_connections_see_each_others_writes(db: Database, db_path: Path) -> None:
    engine = create_sqlite_engine(db_path)
    try:
        through_engine, plain = SqlCandleRepository(engine), SqlCandleRepository(db)
        through_engine.upsert(SeriesKey("e", "a", M1), bars(100))
        plain.upsert(SeriesKey("e", "b", M1), bars(200))
        assert plain.read(SeriesKey("e", "a", M1)) == bars(100)
        assert through_engine.read(SeriesKey("e", "b", M1)) == bars(200)
    finally:
        engine.dispose()
        db.close()


def test_evenly_spaced_blocks_keep_their_times_in_20_bytes_and_every_block_reads_back_exactly(
        db: Database, db_path: Path) -> None:
    repo = SqlCandleRepository(db)
    key = SeriesKey("e", "s", M1)
    series = bars(3 * 1440)
    gappy = series.take(np.r_[0:1500, 1501:2880, 2880:2882])  # day 2 lacks a bar; day 3 has two bars only
    repo.upsert(key, gappy)
    with sqlite3.connect(db_path) as conn:
        sizes = [(n, len(ts)) for n, ts in conn.execute("SELECT n, ts FROM candle_blocks ORDER BY block")]
    assert sizes == [(1440, 20), (1439, 8 * 1439), (2, 16)]
    assert repo.read(key) == gappy
    assert repo.coverage(key).stored == [(T0, T0 + 1500 * 60_000), (T0 + 1501 * 60_000, T0 + 2882 * 60_000)]
    with sqlite3.connect(db_path) as conn:  # a block as earlier versions stored it: times raw
        conn.execute("UPDATE candle_blocks SET ts = ? WHERE n = 1440", (series.ts[:1440].astype("<i8").tobytes(),))
    assert repo.read(key) == gappy
    repo.upsert(key, series.take(slice(1500, 1501)))  # the missing bar: its block is read, merged, written even
    with sqlite3.connect(db_path) as conn:  # (the raw block, untouched, stays as it was)
        assert [len(ts) for ts, in conn.execute("SELECT ts FROM candle_blocks ORDER BY block")] == [8 * 1440, 20, 16]
    assert repo.read(key) == series.take(slice(0, 2882))
    db.close()


def test_a_block_whose_times_are_neither_raw_nor_even_is_refused_not_misread(db: Database, db_path: Path) -> None:
    repo = SqlCandleRepository(db)
    key = SeriesKey("e", "s", M1)
    repo.upsert(key, bars(1440))
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE candle_blocks SET ts = ?", (b"QDA1" + b"\x00" * 15,))
    with pytest.raises(StorageError, match="1440 bars has 19 bytes of times"):
        repo.read(key)
    db.close()


def journal_mode(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return str(conn.execute("PRAGMA journal_mode").fetchone()[0])


def test_a_bulk_write_alone_on_the_file_goes_straight_into_it_and_leaves_it_in_wal(db: Database, db_path: Path
                                                                                    ) -> None:
    seen: list[str] = []
    with db.writing(bulk=True) as conn:
        seen.append(str(conn.execute("PRAGMA journal_mode").fetchone()[0]))
        conn.execute("INSERT INTO fetched_ranges (exchange, symbol, timeframe, start_ts, end_ts) "
                     "VALUES ('e', 's', '1m', 0, 60000)")
    assert seen == ["delete"]
    SqlCandleRepository(db).upsert(SeriesKey("csv", "BIG", M1), bars(150_000))  # an import's size: bulk
    db.close()
    assert journal_mode(db_path) == "wal"
    assert not Path(f"{db_path}-journal").exists()
    again = Database.open(db_path)
    assert len(SqlCandleRepository(again).read(SeriesKey("csv", "BIG", M1))) == 150_000
    assert SqlCandleRepository(again).fetched_series() != []
    again.close()


def test_a_bulk_write_beside_another_open_connection_stays_in_wal(db: Database, db_path: Path) -> None:
    other = sqlite3.connect(db_path)  # the desktop, or a second command, holding the file open
    other.execute("SELECT count(*) FROM candle_blocks").fetchone()
    try:
        with db.writing(bulk=True) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            conn.execute("INSERT INTO fetched_ranges (exchange, symbol, timeframe, start_ts, end_ts) "
                         "VALUES ('e', 's', '1m', 0, 60000)")
        assert other.execute("SELECT count(*) FROM fetched_ranges").fetchone()[0] == 1
    finally:
        other.close()


def test_a_bulk_write_that_fails_half_way_leaves_nothing_and_the_file_in_wal(db: Database, db_path: Path) -> None:
    with pytest.raises(RuntimeError), db.writing(bulk=True) as conn:
        conn.execute("INSERT INTO fetched_ranges (exchange, symbol, timeframe, start_ts, end_ts) "
                     "VALUES ('e', 's', '1m', 0, 60000)")
        raise RuntimeError("the caller failed")
    assert SqlCandleRepository(db).fetched_series() == []
    db.close()
    assert journal_mode(db_path) == "wal"


def test_a_desktop_reads_by_copies_and_a_command_through_a_memory_map_with_the_same_bars(db_path: Path) -> None:
    """The desktop keeps its connections for hours: pages read through a map would stay resident (~60 MB for
    three years of 1m), so it opens the file without one."""
    key = SeriesKey("csv", "X", M1)
    mapped = Container.open(db_path)
    try:
        mapped.candles.upsert(key, bars(5_000))
        with mapped.database.reading() as conn:
            assert conn.execute("PRAGMA mmap_size").fetchone()[0] > 0
        expected = mapped.candles.read(key)
    finally:
        mapped.close()
    copied = Container.open(db_path, map_file=False)
    try:
        with copied.database.reading() as conn:
            assert conn.execute("PRAGMA mmap_size").fetchone()[0] == 0
        got = copied.candles.read(key)
    finally:
        copied.close()
    assert np.array_equal(got.ts, expected.ts) and np.array_equal(got.close, expected.close)
