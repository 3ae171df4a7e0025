"""Candle files through Arrow: CSV, Parquet, Feather/Arrow IPC and JSON rows, read and written column-wise."""

from infrastructure.files.adapter import ArrowCandleFiles, read_candles_file, write_candles_file
from infrastructure.files.formats import FORMATS, file_format

__all__ = ["FORMATS", "ArrowCandleFiles", "file_format", "read_candles_file", "write_candles_file"]
