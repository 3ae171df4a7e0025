"""The CandleFiles adapter: Arrow's fast pass for every format, the line-by-line CSV pass to locate bad lines."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from app.errors import DataError
from domain.market import CandleSeries, Timeframe
from infrastructure.files.formats import file_format

Progress = Callable[[int, int], None]  # (rows read, rows in the file)


def read_candles_file(path: Path | str, timeframe: Timeframe | None = None, on_progress: Progress | None = None,
                      fmt: str | None = None) -> CandleSeries:
    """Read candles from a CSV, Parquet, Feather/IPC or JSON-rows file; the format from `fmt` or the extension."""
    p = Path(path)
    kind = file_format(p, fmt)
    if kind == "csv":
        series = _read_csv(p, timeframe, on_progress)
    else:
        from infrastructure.files.readers import read_table_file

        series = read_table_file(p, kind, timeframe)
    if on_progress is not None:
        on_progress(len(series), len(series))
    return series


def _read_csv(p: Path, timeframe: Timeframe | None, on_progress: Progress | None) -> CandleSeries:
    import csv

    import pyarrow as pa

    from infrastructure.files.csv_arrow import read_csv_fast

    try:
        return read_csv_fast(p, timeframe)
    except DataError:
        raise  # already the exact message
    except (ValueError, OSError, csv.Error, pa.ArrowException):
        # Rejected, undecodable or unreadable: the exact pass decides, naming the file, line and column
        from infrastructure.csv_io import read_candles_csv_by_line

        return read_candles_csv_by_line(p, timeframe, on_progress)


def write_candles_file(path: Path | str, series: CandleSeries, fmt: str | None = None) -> int:
    """Write all of `series` atomically in the format `fmt` or the extension names. Returns rows written."""
    from infrastructure.files.writers import write_atomically

    p = Path(path)
    return write_atomically(p, file_format(p, fmt), series)


class ArrowCandleFiles:
    """Implements app.market_data.files.CandleFiles for CSV, Parquet, Feather/Arrow IPC and JSON-rows files."""

    def read(self, path: Path | str, timeframe: Timeframe | None, on_progress: Progress | None = None,
             fmt: str | None = None) -> CandleSeries:
        return read_candles_file(path, timeframe, on_progress, fmt)

    def write(self, path: Path | str, series: CandleSeries, fmt: str | None = None) -> int:
        return write_candles_file(path, series, fmt)

    def write_to(self, fh: TextIO, series: CandleSeries) -> int:
        """CSV text to an open stream, in one write."""
        from infrastructure.files.writers import csv_bytes

        data = csv_bytes(series)
        buffer = getattr(fh, "buffer", None)
        if buffer is None:
            fh.write(data.decode("ascii"))
        else:
            fh.flush()  # what was written before stays in front of these bytes
            buffer.write(data)
            buffer.flush()
        return len(series)
