"""Write a CandleSeries as CSV (today's exact text), Parquet, Feather or JSON rows, atomically."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from app.errors import DataError
from app.timeparse import format_ms
from domain.market import FIELDS, CandleSeries


def _fmt(x: float) -> str:
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


def number_text(x: np.ndarray) -> pa.Array:
    """Shortest exact decimal text of each value, spelled as Python spells it (integers without '.0')."""
    text = pc.cast(pa.array(x, pa.float64()), pa.string())
    a = np.abs(x)
    # Arrow and Python agree on the digits; they differ only in style near 0, at large magnitudes and in exponents
    odd = (x == 0) | (a < 1e-4) | (a >= 1e15) | np.asarray(pc.match_substring(text, "e").to_numpy(zero_copy_only=False))
    if not odd.any():
        return text
    out = np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)
    for i in np.nonzero(odd)[0]:
        out[i] = _fmt(float(x[i]))
    return pa.array(out, pa.string())


def time_text(ts: np.ndarray) -> pa.Array:
    """ISO 8601 UTC with a Z: seconds precision unless milliseconds are present (as `format_ms`)."""
    plain = pc.cast(pa.array(ts // 1000, pa.int64()).cast(pa.timestamp("s")), pa.string())  # "2024-01-01 00:00:00"
    text = pc.utf8_replace_slice(pc.utf8_replace_slice(plain, start=10, stop=11, replacement="T"),
                                 start=19, stop=19, replacement="Z")
    odd = (ts % 1000 != 0) | (ts < 0) | (ts >= 253_402_300_800_000)  # milliseconds, or outside 1970..9999
    if not odd.any():
        return text
    out = np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)
    for i in np.nonzero(odd)[0]:
        out[i] = format_ms(int(ts[i]))
    return pa.array(out, pa.string())


def csv_bytes(series: CandleSeries) -> bytes:
    """`time,open,high,low,close,volume` with ISO times and shortest exact numbers."""
    columns = [time_text(series.ts), *(number_text(getattr(series, f)) for f in FIELDS)]
    table = pa.table(columns, names=["time", *FIELDS])
    sink = io.BytesIO()
    sink.write((",".join(["time", *FIELDS]) + "\n").encode())
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False, quoting_style="none"))
    return sink.getvalue()


def arrow_table(series: CandleSeries) -> pa.Table:
    """`time` as timestamp[ms, UTC] and the five float64 columns."""
    columns = [pa.array(series.ts, pa.int64()).cast(pa.timestamp("ms", tz="UTC"))]
    columns += [pa.array(getattr(series, f), pa.float64()) for f in FIELDS]
    return pa.table(columns, names=["time", *FIELDS])


def json_bytes(series: CandleSeries) -> bytes:
    """A JSON array of `[ms, open, high, low, close, volume]` rows, as freqtrade stores candles."""
    import orjson

    rows = [[t, *v] for t, *v in zip(series.ts.tolist(), *(getattr(series, f).tolist() for f in FIELDS), strict=True)]
    return orjson.dumps(rows)


def write_atomically(path: Path, fmt: str, series: CandleSeries) -> int:
    """Write to a temporary file beside `path`, then rename it into place. Returns rows written."""
    tmp = path.with_name(path.name + ".part")
    try:
        if fmt == "csv":
            tmp.write_bytes(csv_bytes(series))
        elif fmt == "json":
            tmp.write_bytes(json_bytes(series))
        elif fmt == "parquet":
            import pyarrow.parquet as pq

            pq.write_table(arrow_table(series), tmp)
        else:
            import pyarrow.feather as feather

            feather.write_feather(arrow_table(series), tmp)
        tmp.replace(path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise DataError(f"cannot write {path}: {err.strerror}") from None
    return len(series)
