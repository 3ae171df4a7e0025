"""Parquet, Feather/Arrow IPC and JSON-rows candle files: columns by name, problems named by row."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pyarrow as pa

from app.errors import DataError
from domain.market import CandleSeries, Timeframe
from infrastructure.csv_io import find_columns
from infrastructure.files.columns import Columns, Rejected, table_columns, time_ms, to_series


def _columns_or_fail(p: Path, names: list[str]) -> dict[str, int]:
    cols, missing = find_columns(names)
    if missing:
        raise DataError(f"{p}: cannot find column(s) {', '.join(missing)} in columns {names!r} "
                        "(expected names like time/date, open, high, low, close, volume)")
    return cols


def _load_table(p: Path, fmt: str) -> pa.Table:
    """The whole table, reading only the candle columns."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        with pq.ParquetFile(p) as f:  # not pq.read_table: that loads the datasets machinery
            names = f.schema_arrow.names
            cols = _columns_or_fail(p, names)
            return f.read(columns=[names[i] for i in sorted(set(cols.values()))])
    import pyarrow.feather as feather

    try:
        return feather.read_table(p, memory_map=True)
    except pa.ArrowInvalid:
        with pa.memory_map(str(p)) as source:  # an Arrow IPC stream rather than a file
            return pa.ipc.open_stream(source).read_all()


def _json_columns(p: Path) -> Columns | pa.Table:
    import orjson

    raw = p.read_bytes()
    if p.name.lower().endswith(".gz"):
        raw = gzip.decompress(raw)
    rows = orjson.loads(raw)
    if not isinstance(rows, list):
        raise DataError(f"{p}: expected a JSON array of candles")
    if not rows:
        raise DataError(f"{p}: no candles in the file")
    if rows and isinstance(rows[0], dict):
        return pa.Table.from_pylist(rows)
    try:
        arr = np.array(rows, dtype=np.float64).reshape(len(rows), -1)
        if arr.shape[1] < 6:
            raise ValueError
    except (ValueError, TypeError):
        bad = next(i for i, r in enumerate(rows) if not _is_candle_row(r))
        raise DataError(f"{p}: row {bad + 1}: expected [time ms, open, high, low, close, volume], "
                        f"found {str(rows[bad])[:80]}") from None
    return Columns(time_ms(pa.array(arr[:, 0])), tuple(np.ascontiguousarray(arr[:, k]) for k in range(1, 6)))


def _is_candle_row(row: object) -> bool:
    return (isinstance(row, list) and len(row) >= 6
            and all(isinstance(x, int | float) and not isinstance(x, bool) for x in row[:6]))


def read_table_file(p: Path, fmt: str, timeframe: Timeframe | None) -> CandleSeries:
    """Read a Parquet, Feather/IPC or JSON file; errors name the file and the 1-based row."""
    try:
        loaded = _json_columns(p) if fmt == "json" else _load_table(p, fmt)
        if isinstance(loaded, pa.Table):
            names = loaded.column_names
            loaded = table_columns(loaded, _columns_or_fail(p, names))
        if len(loaded.ts) == 0:
            raise DataError(f"{p}: no candles in the file")
        return to_series(loaded, timeframe)
    except Rejected as err:
        if err.other >= 0:
            raise DataError(f"{p}: rows {err.index + 1} and {err.other + 1} {err}") from None
        where = f" row {err.index + 1}:" if err.index >= 0 else ""
        raise DataError(f"{p}:{where} {err}") from None
    except OSError as err:
        raise DataError(f"cannot open {p}: {err.strerror or err}") from None
    except (pa.ArrowException, ValueError) as err:
        raise DataError(f"{p}: not a readable {fmt} file ({str(err).splitlines()[0][:200]})") from None
