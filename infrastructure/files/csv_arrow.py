"""The fast CSV pass: Arrow parses the whole file at once; anything it cannot take goes to the line-by-line pass."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from app.errors import DataError
from domain.market import CandleSeries, Timeframe
from infrastructure.csv_io import find_columns
from infrastructure.files.columns import BadRows, Rejected, table_columns, to_series


def _first_rows(path: Path) -> tuple[list[str], list[str]]:
    """The header and the first data row (empty when there is none)."""
    with path.open("rb") as fh:
        head = fh.read(65536)
    if b"\n" in head:
        head = head[:head.rindex(b"\n")]  # whole lines only, so no character is cut in two
    lines = head.decode("utf-8-sig").splitlines()  # a decoding error sends the file to the line-by-line pass
    rows = list(csv.reader(lines[:2]))
    return (rows[0] if rows else []), (rows[1] if len(rows) > 1 else [])


def _line_count(path: Path) -> int:
    count, last = 0, b"\n"
    with path.open("rb") as fh:
        while block := fh.read(1 << 24):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (0 if last == b"\n" else 1)


def _time_type(sample: str) -> pa.DataType:
    """How Arrow should parse the time column, judged from its first value; a wrong guess fails, never misreads."""
    try:
        float(sample)
        return pa.float64()
    except ValueError:
        pass
    zone = sample.endswith("Z") or "+" in sample[10:] or "-" in sample[10:]
    return pa.timestamp("ms", tz="UTC") if zone else pa.timestamp("ms")


def read_csv_fast(path: Path, timeframe: Timeframe | None) -> CandleSeries:
    """Read a candle CSV through Arrow; raise Rejected (or OSError) for anything unusual, never a wrong value.

    Rows that parse but break a candle rule are named here (line = row + 2) when every line holds one row;
    DataError then carries the line-by-line pass's exact message.
    """
    header, first = _first_rows(path)
    cols, missing = find_columns(header)
    if missing or len(first) != len(header):
        raise Rejected("columns not found")
    names = [f"c{i}" for i in range(len(header))]
    types = {names[i]: pa.float64() for i in cols.values()}
    types[names[cols["time"]]] = _time_type(first[cols["time"]])
    try:
        table = pacsv.read_csv(
            str(path),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=4 << 20),
            parse_options=pacsv.ParseOptions(newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                include_columns=list(types), column_types=types, null_values=[], strings_can_be_null=False,
                quoted_strings_can_be_null=False, check_utf8=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as err:
        raise Rejected(str(err)) from None
    position = {n: k for k, n in enumerate(table.column_names)}
    columns, rows = table_columns(table, {f: position[names[i]] for f, i in cols.items()}), table.num_rows
    del table  # the numpy columns are copies: let Arrow's memory go before the series is built and stored
    pa.default_memory_pool().release_unused()
    try:
        return to_series(columns, timeframe)
    except BadRows as err:
        if err.index < 0 or _line_count(path) != rows + 1:
            raise  # blank lines or odd line ends: only the line-by-line pass knows the line numbers
        if err.other >= 0:
            raise DataError(f"{path}: lines {err.index + 2} and {err.other + 2} {err}") from None
        raise DataError(f"{path}:{err.index + 2}: {err}") from None
