"""Candle CSV files: column auto-detection and the line-by-line pass that names the exact bad line and column."""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from app.errors import DataError
from app.timeparse import format_ms
from domain.market import FIELDS, CandleSeries, InvalidCandles, Timeframe
from infrastructure.files.adapter import ArrowCandleFiles

Progress = Callable[[int, int], None]  # (rows read, rows in the file)

ALIASES = {
    "time": ("time", "timestamp", "date", "datetime", "open_time", "opentime", "ts", "date_time",
             "candle_date_time_utc", "gmt time", "time (utc)"),
    "open": ("open", "o", "opening_price", "open_price"),
    "high": ("high", "h", "high_price"),
    "low": ("low", "l", "low_price"),
    "close": ("close", "c", "trade_price", "close_price", "last"),
    "volume": ("volume", "vol", "v", "candle_acc_trade_volume", "base_volume"),
}


def find_columns(names: list[str]) -> tuple[dict[str, int], list[str]]:
    """Column index of each field found by name (any case), and the required fields that are missing."""
    lowered = [n.strip().lower() for n in names]
    found: dict[str, int] = {}
    for field, aliases in ALIASES.items():
        for i, name in enumerate(lowered):
            if name in aliases:
                found[field] = i
                break
    if "time" not in found and lowered and lowered[0] in ("", "unnamed: 0", "index", "__index_level_0__"):
        found["time"] = 0  # pandas writes its (date) index as an unnamed first column
    missing = [f for f in ("time", "open", "high", "low", "close") if f not in found]
    return found, missing


def _detect_columns(header: list[str], path: Path) -> dict[str, int]:
    found, missing = find_columns(header)
    if missing:
        raise DataError(
            f"{path}:1: cannot find column(s) {', '.join(missing)} in header {header!r} "
            "(expected names like time/date, open, high, low, close, volume)"
        )
    return found


def _parse_time(text: str) -> int:
    t = text.strip()
    try:
        x = float(t)
    except ValueError:
        dt = datetime.fromisoformat(t.replace("Z", "+00:00"))
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return int(round(dt.timestamp() * 1000))
    if not math.isfinite(x):
        raise ValueError("not a finite number")
    return int(round(x)) if abs(x) >= 1e11 else int(round(x * 1000))  # epoch ms vs epoch seconds


def _parse_number(text: str) -> float:
    x = float(text)
    if not math.isfinite(x):
        raise ValueError("not a finite number")
    return x


def read_candles_csv(
    path: Path | str, timeframe: Timeframe | None = None, on_progress: Progress | None = None
) -> CandleSeries:
    """Read a candle CSV through Arrow; a file it rejects is read line by line to name the bad line and column.

    A .parquet, .feather/.arrow/.ipc or .json name is read as that format, any other name as CSV.
    """
    from infrastructure.files import file_format, read_candles_file

    try:
        fmt = file_format(path)
    except DataError:
        fmt = "csv"
    return read_candles_file(path, timeframe, on_progress, fmt)


def read_candles_csv_by_line(
    path: Path | str, timeframe: Timeframe | None = None, on_progress: Progress | None = None
) -> CandleSeries:
    """Read a candle CSV line by line. Errors name file, line and column; duplicate times name both lines."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise DataError(f"cannot open {p}: {err.strerror}") from None
    except UnicodeDecodeError as err:
        raise DataError(f"{p}: not a UTF-8 text file ({err.reason} at byte {err.start})") from None
    raw_lines = text.splitlines()
    reader = csv.reader(raw_lines)
    header = next(reader, None)
    if header is None:
        raise DataError(f"{p}: the file is empty")
    cols = _detect_columns(header, p)
    ts, values, lines = _read_rows(reader, cols, header, p, len(raw_lines) - 1, on_progress)
    if not ts:
        raise DataError(f"{p}: no data rows after the header")
    return _to_series(p, ts, values, lines, timeframe)


def _read_rows(
    reader: Any, cols: dict[str, int], header: list[str], p: Path, total: int, on_progress: Progress | None
) -> tuple[list[int], list[list[float]], list[int]]:
    ts: list[int] = []
    values: list[list[float]] = [[] for _ in FIELDS]
    lines: list[int] = []
    order = [(i, cols.get(f)) for i, f in enumerate(FIELDS)]
    for row in _rows(reader, p):
        line = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) < len(header):
            raise DataError(f"{p}:{line}: expected {len(header)} columns, found {len(row)}")
        col = cols["time"]
        try:
            t = _parse_time(row[col])
            if not -(2**62) < t < 2**62:
                raise OverflowError("no time a candle can have")
            ts.append(t)
            for i, c in order:
                col = c if c is not None else -1
                values[i].append(_parse_number(row[c]) if c is not None else 0.0)
        except (ValueError, OverflowError) as err:
            name = header[col].strip() or "time"
            raise DataError(f"{p}:{line}: column {col + 1} ({name}): cannot read {row[col]!r}: {err}") from None
        lines.append(line)
        if on_progress is not None and len(lines) % 50_000 == 0:
            on_progress(len(lines), total)
    if on_progress is not None:
        on_progress(total, total)
    return ts, values, lines


def _rows(reader: Any, p: Path) -> Any:
    """The reader's rows; a line the csv module cannot split (a field over its 128 KB limit) named by number."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            raise DataError(f"{p}:{reader.line_num}: {err}; not a candle file") from None


def infer_timeframe(ts: np.ndarray) -> Timeframe:
    """The bar spacing seen most often (weekend and holiday gaps do not count against it)."""
    d = np.diff(ts)
    d = d[d > 0]
    if len(d) == 0:
        raise DataError("cannot infer the timeframe from fewer than two bars; pass --timeframe")
    values, counts = np.unique(d, return_counts=True)
    step = int(values[np.argmax(counts)])
    tf = Timeframe.from_ms(step)
    if tf is None:
        raise DataError(f"bars are {step / 60000:g} minutes apart, which is no known timeframe; pass --timeframe")
    return tf


def _to_series(
    p: Path, ts_list: list[int], values: list[list[float]], lines: list[int], timeframe: Timeframe | None
) -> CandleSeries:
    ts = np.array(ts_list, dtype=np.int64)
    order = np.argsort(ts, kind="stable")
    sorted_ts = ts[order]
    dup = np.nonzero(np.diff(sorted_ts) == 0)[0]
    if len(dup):
        a, b = sorted((int(lines[order[dup[0]]]), int(lines[order[dup[0] + 1]])))
        raise DataError(f"{p}: lines {a} and {b} have the same time {format_ms(int(sorted_ts[dup[0]]))}")
    tf = timeframe or infer_timeframe(sorted_ts)
    series = CandleSeries.from_columns(tf, sorted_ts, *(np.asarray(v)[order] for v in values))
    try:
        series.validate()
    except InvalidCandles as err:
        line = lines[int(order[err.index])] if err.index >= 0 else 0
        detail = str(err).split(": ", 1)[-1]
        raise DataError(f"{p}:{line}: {detail}") from None
    return series


def write_candles(fh: TextIO, series: CandleSeries) -> int:
    """Write `time,open,high,low,close,volume` (ISO 8601 UTC, shortest exact numbers). Returns rows."""
    return ArrowCandleFiles().write_to(fh, series)


def write_candles_csv(path: Path | str, series: CandleSeries) -> int:
    """Write a CSV file atomically (a temporary file renamed into place)."""
    from infrastructure.files import write_candles_file

    return write_candles_file(path, series, "csv")



CsvCandleFiles = ArrowCandleFiles  # the name the composition root knows; reads and writes every format
