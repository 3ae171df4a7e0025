"""Candle files through Arrow: every format round-trips exactly; the fast CSV pass reads what the exact pass reads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from app.errors import DataError
from domain.market import CandleSeries, Timeframe
from infrastructure.csv_io import read_candles_csv, read_candles_csv_by_line
from infrastructure.files import ArrowCandleFiles, file_format
from infrastructure.files.csv_arrow import read_csv_fast

T0 = 1_704_067_200_000


def awkward_series(n: int = 500) -> CandleSeries:
    """Values whose text is easy to get wrong: tiny, huge, integral, long fractions, ms-precision times."""
    rng = np.random.default_rng(7)
    close = 10.0 ** rng.uniform(-9, 12, n) * (1 + rng.random(n))
    close[:6] = [0.1 + 0.2, 1e-7, 123456789012345.0, 5e15, 100.0, 3.3333333333333335]
    open_ = close * (1 + rng.normal(0, 1e-3, n))
    high = np.maximum(open_, close) * (1 + rng.random(n) * 1e-3)
    low = np.minimum(open_, close) * (1 - rng.random(n) * 1e-3)
    volume = np.where(rng.random(n) < 0.2, 0.0, rng.random(n) * 1e6)
    return CandleSeries.from_columns(Timeframe.M1, T0 + np.arange(n, dtype=np.int64) * 60_000,
                                     open_, high, low, close, volume)


@pytest.mark.parametrize("name", ["c.csv", "c.parquet", "c.feather", "c.arrow", "c.ipc", "c.json"])
def test_every_format_gives_back_exactly_the_values_written(tmp_path: Path, name: str) -> None:
    files = ArrowCandleFiles()
    series = awkward_series()
    assert files.write(tmp_path / name, series) == len(series)
    back = files.read(tmp_path / name, None)
    assert back.timeframe is Timeframe.M1
    assert back == series
    assert not list(tmp_path.glob("*.part"))


def test_an_explicit_format_wins_over_the_extension(tmp_path: Path) -> None:
    files = ArrowCandleFiles()
    series = awkward_series(50)
    files.write(tmp_path / "candles.dat", series, "parquet")
    assert pq.read_table(tmp_path / "candles.dat").num_rows == 50
    assert files.read(tmp_path / "candles.dat", None, fmt="parquet") == series
    with pytest.raises(DataError, match="candles.dat"):  # without the format a .dat name is read as CSV
        files.read(tmp_path / "candles.dat", None)
    with pytest.raises(DataError, match="unknown file format 'xls'"):
        file_format(tmp_path / "a.csv", "xls")


VARIANTS = {
    "iso_z": "Date,Open,High,Low,Close,Volume\n2024-01-01T00:00:00Z,1,2,0.5,1.5,3\n"
             "2024-01-01T00:01:00Z,1.5,2,1,1.2,4\n",
    "naive_space": "time,open,high,low,close,volume\n2024-01-01 00:00:00,1,2,0.5,1.5,3\n"
                   "2024-01-01 00:05:00,1.5,2,1,1.2,4\n",
    "offsets": "time,open,high,low,close\n2024-01-01T09:00:00+09:00,1,2,0.5,1.5\n"
               "2024-01-01T09:01:00+09:00,1.5,2,1,1.2\n",
    "dates_pandas_index": ",Open,High,Low,Close,Volume\n2004-08-19,100,104.06,95.96,100.34,22351900\n"
                          "2004-08-20,101.01,109.08,100.5,108.31,11428600\n",
    "epoch_seconds": "timestamp,open,high,low,close\n1704067200,1,2,0.5,1.5\n1704070800,1.5,2,1,1.2\n",
    "epoch_ms_upper": "TIME,OPEN,HIGH,LOW,CLOSE,VOLUME\n1704067200000,1,2,0.5,1.5,1\n1704067260000,1.5,2,1,1.2,1\n",
    "bom_crlf_extra_columns": "\ufefftime,open,high,low,close,volume,trades\r\n2024-01-01T00:00:00Z,1,2,0.5,1.5,3,9\r\n"
                              "2024-01-01T00:01:00Z,1.5,2,1,1.2,4,8\r\n",
    "unsorted_quoted_ms": 'time,open,high,low,close\n"2024-01-01T00:01:00.000Z","1.5",2,1,1.2\n'
                          "2024-01-01T00:00:00.000Z,1,2,0.5,1.5\n2024-01-01T00:02:00Z,1.2,1.3,1.1,1.25\n",
    "binance_like": "open_time,o,h,l,c,v\n1704067200000,42000.1,42010,41990.5,42005,12.5\n"
                    "1704067260000,42005,42006,42000,42001,0.001\n",
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_the_fast_csv_pass_reads_what_the_line_by_line_pass_reads(tmp_path: Path, name: str) -> None:
    p = tmp_path / f"{name}.csv"
    p.write_bytes(VARIANTS[name].encode("utf-8"))
    exact = read_candles_csv_by_line(p)
    assert read_csv_fast(p, None) == exact  # the fast pass itself takes the file, no fallback
    assert read_candles_csv(p) == exact


BAD = {
    "bad_number": ("time,open,high,low,close\n2024-01-01T00:00:00Z,1,2,0.5,1.5\n2024-01-01T00:01:00Z,1,2,x,1\n",
                   ":3: column 4 (low): cannot read 'x'"),
    "short_row": ("time,open,high,low,close\n2024-01-01T00:00:00Z,1,2,0.5,1.5\n2024-01-01T00:01:00Z,1,2\n",
                  ":3: expected 5 columns, found 3"),
    "bad_time": ("time,open,high,low,close\n2024-01-01T00:00:00Z,1,2,0.5,1.5\nyesterday,1,2,0.5,1.5\n",
                 ":3: column 1 (time): cannot read 'yesterday'"),
    "not_finite": ("time,open,high,low,close\n2024-01-01T00:00:00Z,1,2,0.5,1.5\n2024-01-01T00:01:00Z,1,inf,0.5,1\n",
                   ":3: column 3 (high): cannot read 'inf': not a finite number"),
    "low_above": ("time,open,high,low,close\n2024-01-01T00:00:00Z,1,2,0.5,1.5\n2024-01-01T00:01:00Z,1,2,1.1,1.5\n",
                  ":3: low is above open or close"),
    "duplicate": ("time,open,high,low,close\n2024-01-01T00:01:00Z,1,2,0.5,1.5\n2024-01-01T00:00:00Z,1,2,0.5,1.5\n"
                  "2024-01-01T00:01:00Z,1,2,0.5,1.5\n", ": lines 2 and 4 have the same time 2024-01-01T00:01:00Z"),
    "duplicate_in_mixed_time_formats": ("time,open,high,low,close\n2024-01-01T00:01:00Z,1,2,0.5,1.5\n"
                                        "2024-01-01T00:00:00Z,1,2,0.5,1.5\n1704067260,1,2,0.5,1.5\n",
                                        ": lines 2 and 4 have the same time 2024-01-01T00:01:00Z"),
    "blank_line_before_bad_high": ("time,open,high,low,close\n2024-01-01T00:00:00Z,1,2,0.5,1.5\n\n"
                                   "2024-01-01T00:01:00Z,1,0.9,0.5,1\n", ":4: high is below open or close"),
    "misaligned_crlf": ("time,open,high,low,close\r\n2024-01-01T00:00:00Z,1,2,0.5,1.5\r\n"
                        "2024-01-01T00:01:00Z,1,2,0.5,1.5\r\n2024-01-01T00:02:00Z,1,2,0.5,1.5\r\n"
                        "2024-01-01T00:02:30Z,1,2,0.5,1.5", ":5: time 1704067350000 is not aligned to 1m bars"),
    "too_few_bars": ("time,open,high,low,close\n2024-01-01T00:00:00Z,1,2,0.5,1.5\n",
                     "cannot infer the timeframe from fewer than two bars"),
    "no_close": ("time,open,high,low\n2024-01-01T00:00:00Z,1,2,0.5\n", ":1: cannot find column(s) close"),
    "not_utf8": (b"time,open,high,low,close\n2024-01-01T00:00:00Z,1,2,0.5,1.5\xff\n".decode("latin-1"),
                 ": not a UTF-8 text file"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_rejected_csv_gets_the_exact_line_by_line_message(tmp_path: Path, name: str) -> None:
    text, expected = BAD[name]
    p = tmp_path / f"{name}.csv"
    p.write_bytes(text.encode("latin-1") if name == "not_utf8" else text.encode())
    with pytest.raises(DataError) as fast:
        read_candles_csv(p)
    with pytest.raises(DataError) as exact:
        read_candles_csv_by_line(p)
    assert str(fast.value) == str(exact.value)
    assert expected in str(fast.value)
    assert name == "too_few_bars" or str(fast.value).startswith(str(p))
    if name in NAMED_BY_THE_FAST_PASS:  # rows that parse but break a candle rule need no second pass
        with pytest.raises(DataError) as direct:
            read_csv_fast(p, None)
        assert str(direct.value) == str(exact.value)


NAMED_BY_THE_FAST_PASS = {"low_above", "duplicate", "misaligned_crlf", "too_few_bars"}


def _table(**overrides: object) -> pa.Table:
    cols: dict[str, object] = {
        "date": pa.array([T0, T0 + 60_000, T0 + 120_000], pa.timestamp("ms", tz="UTC")),
        "open": [1.0, 1.5, 1.2], "high": [2.0, 2.0, 1.3], "low": [0.5, 1.0, 1.1], "close": [1.5, 1.2, 1.25],
        "volume": [3.0, 4.0, 5.0],
    }
    cols.update(overrides)
    return pa.table(cols)


@pytest.mark.parametrize(("table", "expected"), [
    (_table(low=[0.5, None, 1.1]), ": row 2: low is empty"),
    (_table(high=[2.0, 2.0, 1.0]), ": row 3: high is below open or close"),
    (_table(close=[1.5, float("nan"), 1.25]), ": row 2: close is not a finite number"),
    (_table(date=pa.array([T0, T0 + 60_000, T0], pa.timestamp("ms", tz="UTC"))),
     ": rows 1 and 3 have the same time 2024-01-01T00:00:00Z"),
    (_table().drop_columns(["close"]), ": cannot find column(s) close in columns"),
    (_table(date=pa.array([T0 * 1000, T0 * 1000 + 1, T0 * 1000 + 2], pa.timestamp("us"))),
     ": row 2: time has sub-millisecond precision"),
])
def test_parquet_and_feather_problems_name_the_file_and_row(tmp_path: Path, table: pa.Table, expected: str) -> None:
    for p, write in ((tmp_path / "x.parquet", pq.write_table), (tmp_path / "x.feather", feather.write_feather)):
        write(table, p)
        with pytest.raises(DataError) as err:
            ArrowCandleFiles().read(p, None)
        assert str(err.value).startswith(str(p)) and expected in str(err.value)


def test_time_columns_of_any_arrow_type_read_as_utc_milliseconds(tmp_path: Path) -> None:
    expected = ArrowCandleFiles().read(_write(tmp_path / "ref.parquet", _table()), None)
    variants = [
        pa.array([T0, T0 + 60_000, T0 + 120_000], pa.timestamp("ms")),  # naive = UTC
        pa.array([T0 * 10**6, (T0 + 60_000) * 10**6, (T0 + 120_000) * 10**6], pa.timestamp("ns", tz="Asia/Seoul")),
        pa.array([T0 // 1000, T0 // 1000 + 60, T0 // 1000 + 120], pa.int64()),  # epoch seconds
        pa.array([float(T0), T0 + 60_000.0, T0 + 120_000.0]),  # epoch ms as floats
        pa.array(["2024-01-01T00:00:00Z", "2024-01-01T00:01:00Z", "2024-01-01T00:02:00Z"]),
    ]
    for k, date in enumerate(variants):
        assert ArrowCandleFiles().read(_write(tmp_path / f"v{k}.feather", _table(date=date)), None) == expected


def _write(p: Path, table: pa.Table) -> Path:
    (pq.write_table if p.suffix == ".parquet" else feather.write_feather)(table, p)
    return p


def test_freqtrade_style_json_rows_are_read_and_bad_rows_named(tmp_path: Path) -> None:
    p = tmp_path / "BTC_USDT-1m.json"
    p.write_text(f"[[{T0},1,2,0.5,1.5,3],[{T0 + 60_000},1.5,2,1,1.2,4]]")
    series = ArrowCandleFiles().read(p, None)
    assert series.ts.tolist() == [T0, T0 + 60_000] and series.close.tolist() == [1.5, 1.2]
    p.write_text(f'[[{T0},1,2,0.5,1.5,3],[{T0 + 60_000},"x",2,1,1.2,4]]')
    with pytest.raises(DataError, match=r"BTC_USDT-1m.json: row 2: expected \[time ms, open"):
        ArrowCandleFiles().read(p, None)
    for text, message in (("[]", "no candles in the file"), ("{}", "expected a JSON array"),
                          ("[[1,2", "not a readable json file")):
        p.write_text(text)
        with pytest.raises(DataError, match=message):
            ArrowCandleFiles().read(p, None)


def test_the_csv_reader_used_by_backtest_reads_other_formats_by_their_extension(tmp_path: Path) -> None:
    series = awkward_series(40)
    for name in ("a.parquet", "a.feather", "a.txt", "a.data"):
        ArrowCandleFiles().write(tmp_path / name, series, "csv" if name.endswith((".txt", ".data")) else None)
        assert read_candles_csv(tmp_path / name) == series


def test_a_missing_file_names_it(tmp_path: Path) -> None:
    for name in ("gone.csv", "gone.parquet", "gone.feather"):
        with pytest.raises(DataError, match=f"cannot open {tmp_path / name}"):
            ArrowCandleFiles().read(tmp_path / name, None)


def test_reading_a_csv_leaves_pyarrow_compute_unloaded(tmp_path: Path) -> None:
    """pyarrow.compute costs ~0.2 s to import; a plain candle CSV never needs it."""
    p = tmp_path / "plain.csv"
    p.write_text(VARIANTS["iso_z"])
    code = (f"import sys; from infrastructure.csv_io import read_candles_csv; read_candles_csv({str(p)!r}); "
            "print('pyarrow.compute' in sys.modules)")
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(root)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
