"""The fast CSV pass: Arrow parses the whole file at once; anything it cannot take goes to the line-by-line pass."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from domain.market import CandleSeries, Timeframe
from infrastructure.files.columns import Rejected, find_columns, table_columns, to_series


def _header(data: bytes) -> list[str]:
    end = data.find(b"\n")
    line = (data if end < 0 else data[:end]).decode("utf-8-sig").rstrip("\r")
    return next(csv.reader([line]), [])


def read_csv_fast(path: Path, timeframe: Timeframe | None) -> CandleSeries:
    """Read a candle CSV through Arrow; raise Rejected (or OSError) for anything unusual, never a wrong value."""
    data = path.read_bytes()
    if not data.isascii():
        data.decode("utf-8")  # the line-by-line pass names the byte when this fails
    header = _header(data)
    cols, missing = find_columns(header)
    if missing or not header:
        raise Rejected("columns not found")
    names = [f"c{i}" for i in range(len(header))]
    wanted = sorted(set(cols.values()))
    time_col = names[cols["time"]]
    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(data)),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=4 << 20),
            parse_options=pacsv.ParseOptions(newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                include_columns=[names[i] for i in wanted],
                column_types={n: (pa.string() if n == time_col else pa.float64()) for n in (names[i] for i in wanted)},
                null_values=[], strings_can_be_null=False, quoted_strings_can_be_null=False, check_utf8=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as err:
        raise Rejected(str(err)) from None
    if table.num_rows == 0:
        raise Rejected("no rows")
    position = {n: k for k, n in enumerate(table.column_names)}
    return to_series(table_columns(table, {f: position[names[i]] for f, i in cols.items()}), timeframe)
