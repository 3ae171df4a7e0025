"""Candle store benchmark: a year of 1-minute bars through the repository vs raw sqlite3 executemany.

Run: python bench/storage.py
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.bootstrap.container import Container  # noqa: E402
from domain.market import CandleSeries, SeriesKey, Timeframe  # noqa: E402

N = 525_600
T0 = 1_704_067_200_000


def year() -> CandleSeries:
    rng = np.random.default_rng(42)
    close = 50_000 * np.exp(np.cumsum(rng.normal(0, 0.0008, N)))
    open_ = np.r_[close[0], close[:-1]]
    high = np.maximum(open_, close) * (1 + rng.random(N) * 0.001)
    low = np.minimum(open_, close) * (1 - rng.random(N) * 0.001)
    ts = T0 + np.arange(N, dtype=np.int64) * 60_000
    return CandleSeries.from_columns(Timeframe.M1, ts, open_, high, low, close, rng.random(N) * 5)


def raw_sqlite(path: Path, s: CandleSeries) -> float:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE candles (exchange TEXT, market TEXT, timeframe TEXT, ts INTEGER, open REAL, "
                 "high REAL, low REAL, close REAL, volume REAL, PRIMARY KEY (exchange, market, timeframe, ts))")
    rows = list(zip(["demo"] * N, ["KRW-BTC"] * N, ["1m"] * N, s.ts.tolist(), s.open.tolist(), s.high.tolist(),
                    s.low.tolist(), s.close.tolist(), s.volume.tolist(), strict=True))
    t = time.perf_counter()
    with conn:
        conn.executemany("INSERT OR REPLACE INTO candles VALUES (?,?,?,?,?,?,?,?,?)", rows)
    dt = time.perf_counter() - t
    t = time.perf_counter()
    got = conn.execute("SELECT ts, open, high, low, close, volume FROM candles ORDER BY ts").fetchall()
    arr = np.array(got)
    read = time.perf_counter() - t
    assert len(arr) == N
    conn.close()
    return dt, read


def best(f, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    return min(f() for _ in range(repeat))


def main() -> None:
    s = year()
    key = SeriesKey("demo", "KRW-BTC", Timeframe.M1)
    with tempfile.TemporaryDirectory() as d:
        raw_times = [raw_sqlite(Path(d) / f"raw{i}.db", s) for i in range(3)]
        raw_write = min(t[0] for t in raw_times)
        raw_read = min(t[1] for t in raw_times)
        ups, reads = [], []
        for i in range(3):
            repo = Container.open(Path(d) / f"repo{i}.db").candles
            t = time.perf_counter()
            repo.upsert(key, s, fetched=(int(s.ts[0]), int(s.ts[-1]) + 60_000))
            ups.append(time.perf_counter() - t)
        t = time.perf_counter()
        repo.upsert(key, s)
        re_up = time.perf_counter() - t
        count_after = repo.count(key)
        for _ in range(5):
            t = time.perf_counter()
            got = repo.read(key)
            reads.append(time.perf_counter() - t)
        assert got == s
    up = min(ups)
    rd = min(reads)
    print(f"rows: {N:,} one-minute bars (one year)")
    print(f"raw sqlite3 executemany : {raw_write:7.3f} s  {N / raw_write:>12,.0f} rows/s")
    print(f"repository upsert       : {up:7.3f} s  {N / up:>12,.0f} rows/s   "
          f"(time ratio repo/raw = {up / raw_write:.2f}x; goal ≤ 1.5x and ≥ 300,000 rows/s)")
    print(f"repository re-upsert    : {re_up:7.3f} s  row count after = {count_after:,} "
          f"(unchanged: {count_after == N})")
    print(f"raw sqlite3 read+np     : {raw_read:7.3f} s")
    print(f"repository full read    : {rd:7.3f} s  into numpy columns (goal ≤ 0.3 s; "
          f"{raw_read / rd:.1f}x faster than raw row reads)")


if __name__ == "__main__":
    main()
