"""Arrow columns to a CandleSeries: find the columns by name, times to int64 ms UTC, checks that name the row.

Fixed-width columns are read straight from their Arrow buffers: pyarrow.compute costs ~0.2 s to import,
so it is only loaded for text and other rare column types.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa

from app.timeparse import format_ms
from domain.market import FIELDS, CandleSeries, InvalidCandles, Timeframe
from infrastructure.csv_io import infer_timeframe

Column: TypeAlias = "pa.ChunkedArray | pa.Array"
_UNIT_MS = {"s": (1, 1000), "ms": (1, 1), "us": (1000, 1), "ns": (1_000_000, 1)}  # (divide by, multiply by)


class Rejected(ValueError):
    """The fast path cannot take this input; `index` is the offending row when known (else -1)."""

    def __init__(self, message: str, index: int = -1, other: int = -1) -> None:
        super().__init__(message)
        self.index = index
        self.other = other


def _fixed_width(arr: Column, dtype: Any) -> np.ndarray:
    """The values of a null-free fixed-width column, without pyarrow.compute."""
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    parts = [np.frombuffer(c.buffers()[1], dtype=dtype)[c.offset:c.offset + len(c)] for c in chunks if len(c)]
    return np.concatenate(parts) if parts else np.empty(0, dtype)


def _check_nulls(arr: Column, name: str) -> None:
    if arr.null_count:
        import pyarrow.compute as pc

        raise Rejected(f"{name} is empty", int(pc.index(pc.is_null(arr), True).as_py()))


def _epoch_ms(x: np.ndarray) -> np.ndarray:
    """Epoch numbers: milliseconds when |x| ≥ 1e11, else seconds (as the line-by-line reader decides)."""
    if not np.isfinite(x).all():
        raise Rejected("time is not a finite number", int(np.argmax(~np.isfinite(x))))
    ms = np.where(np.abs(x) >= 1e11, np.round(x), np.round(x * 1000.0))
    if (np.abs(ms) > 2.0**62).any():
        raise Rejected("time is out of range", int(np.argmax(np.abs(ms) > 2.0**62)))
    return ms.astype(np.int64)


def _timestamp_ms(arr: Column) -> np.ndarray:
    raw = _fixed_width(arr, np.int64)
    divide, multiply = _UNIT_MS[arr.type.unit]
    if divide > 1:
        if (raw % divide).any():
            raise Rejected("time has sub-millisecond precision", int(np.argmax(raw % divide != 0)))
        return raw // divide
    return raw * multiply


def _text_ms(arr: Column) -> np.ndarray:
    import pyarrow.compute as pc

    try:
        return _epoch_ms(pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False))
    except pa.ArrowInvalid:
        pass
    for target in (pa.timestamp("ms", tz="UTC"), pa.timestamp("ms")):
        try:
            return _timestamp_ms(pc.cast(arr, target))
        except pa.ArrowInvalid:
            continue
    raise Rejected("time is not an epoch number or an ISO 8601 time with at most milliseconds")


def time_ms(arr: Column) -> np.ndarray:
    """Any Arrow time column as int64 ms UTC: timestamps and dates (naive = UTC), epoch s/ms numbers, ISO text."""
    _check_nulls(arr, "time")
    t = arr.type
    if pa.types.is_timestamp(t):
        return _timestamp_ms(arr)
    if pa.types.is_date32(t):
        return _fixed_width(arr, np.int32).astype(np.int64) * 86_400_000
    if pa.types.is_date64(t):
        return _fixed_width(arr, np.int64).copy()
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        return _epoch_ms(_fixed_width(arr, t.to_pandas_dtype()).astype(np.float64, copy=False))
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return _text_ms(arr)
    raise Rejected(f"time column has type {t}, not a time, a number or text")


def value_column(arr: Column, name: str) -> np.ndarray:
    """A price or volume column as float64; text is parsed, nulls and non-finite numbers are rejected."""
    _check_nulls(arr, name)
    t = arr.type
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        x = _fixed_width(arr, t.to_pandas_dtype()).astype(np.float64, copy=False)
    else:
        import pyarrow.compute as pc

        try:
            x = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise Rejected(f"{name} is not a number") from None
    if not np.isfinite(x).all():
        raise Rejected(f"{name} is not a finite number", int(np.argmax(~np.isfinite(x))))
    return x


class BadRows(Rejected):
    """The values parsed but break a rule of candles (same time twice, high below low, ...): no second pass needed."""


@dataclass(frozen=True, slots=True)
class Columns:
    """Parsed columns in file order (row i of the file is index i)."""

    ts: np.ndarray
    values: tuple[np.ndarray, ...]  # open, high, low, close, volume


def table_columns(table: pa.Table, cols: dict[str, int]) -> Columns:
    """The time and OHLCV columns of `table` at the indexes `cols` names (volume 0 when absent)."""
    ts = time_ms(table.column(cols["time"]))
    values = tuple(
        value_column(table.column(cols[f]), f) if f in cols else np.zeros(len(ts)) for f in FIELDS
    )
    return Columns(ts, values)


def to_series(c: Columns, timeframe: Timeframe | None) -> CandleSeries:
    """Sorted by time and validated; BadRows names the first offending row(s) in file order."""
    ts = c.ts
    order = None
    sorted_ts = ts
    if not (np.diff(ts) > 0).all():
        order = np.argsort(ts, kind="stable")
        sorted_ts = ts[order]
        dup = np.nonzero(np.diff(sorted_ts) == 0)[0]
        if len(dup):
            a, b = sorted((int(order[dup[0]]), int(order[dup[0] + 1])))
            raise BadRows(f"have the same time {format_ms(int(sorted_ts[dup[0]]))}", a, b)
    tf = timeframe or infer_timeframe(sorted_ts)
    cols = c.values if order is None else tuple(v[order] for v in c.values)
    series = CandleSeries.from_columns(tf, sorted_ts, *cols)
    try:
        series.validate()
    except InvalidCandles as err:
        index = -1 if err.index < 0 else (err.index if order is None else int(order[err.index]))
        raise BadRows(str(err).split(": ", 1)[-1], index) from None
    return series
