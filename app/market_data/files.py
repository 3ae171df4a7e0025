"""Data use cases: import/export candle files, describe and prune what the store holds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TextIO

from app.errors import DataError
from app.market_data.ports import CandleRepository, StoredSeries
from domain.market import CandleSeries, SeriesKey, Timeframe
from domain.market.intervals import Interval

Progress = Callable[[int, int], None]


class CandleFiles(Protocol):
    """Reads and writes candle files (CSV, Parquet, Feather/Arrow IPC, JSON rows); `fmt` None = by extension."""

    def read(self, path: Path | str, timeframe: Timeframe | None, on_progress: Progress | None = None,
             fmt: str | None = None) -> CandleSeries:
        ...

    def write(self, path: Path | str, series: CandleSeries, fmt: str | None = None) -> int: ...

    def write_to(self, fh: TextIO, series: CandleSeries) -> int: ...


@dataclass(frozen=True, slots=True)
class ImportResult:
    key: SeriesKey
    rows: int
    first_ts: int
    last_ts: int
    rows_before: int
    rows_after: int


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    """One stored series with the gaps between its bars (never fetched, or known to have no trades)."""

    stored: StoredSeries
    gaps: list[Interval]
    known_empty: list[Interval]


class DataService:
    def __init__(self, candles: CandleRepository, files: CandleFiles) -> None:
        self._candles = candles
        self._files = files

    def import_file(
        self, path: Path | str, exchange: str, symbol: str, timeframe: Timeframe | None,
        on_progress: Progress | None = None, fmt: str | None = None,
    ) -> ImportResult:
        """Read the whole file first, then store it in one transaction: a bad row stores nothing."""
        return self.import_series(path, self._files.read(path, timeframe, on_progress, fmt), exchange, symbol)

    def import_series(self, path: Path | str, series: CandleSeries, exchange: str, symbol: str) -> ImportResult:
        """Store candles read from the file `path` (a caller that read it already) in one transaction."""
        if len(series) == 0:
            raise DataError(f"{path}: no candles to import")
        key = SeriesKey(exchange, symbol, series.timeframe)
        before = self._candles.count(key)
        self._candles.upsert(key, series)
        after = self._candles.count(key)
        return ImportResult(key, len(series), int(series.ts[0]), int(series.ts[-1]), before, after)

    def load(self, key: SeriesKey, start_ms: int | None = None, end_ms: int | None = None) -> CandleSeries:
        return self._candles.read(key, start_ms, end_ms)

    def export_file(self, key: SeriesKey, path: Path | str, start_ms: int | None = None,
                    end_ms: int | None = None, fmt: str | None = None) -> int:
        series = self._nonempty(key, start_ms, end_ms)
        return self._files.write(path, series, fmt)

    def export_to(self, key: SeriesKey, fh: TextIO, start_ms: int | None = None, end_ms: int | None = None) -> int:
        return self._files.write_to(fh, self._nonempty(key, start_ms, end_ms))

    def _nonempty(self, key: SeriesKey, start_ms: int | None, end_ms: int | None) -> CandleSeries:
        series = self._candles.read(key, start_ms, end_ms)
        if len(series) == 0:
            raise DataError(f"no candles stored for {key} in the requested range")
        return series

    def info(self) -> list[SeriesInfo]:
        """Every stored series, then every series with no candles but ranges known to have none (rows 0)."""
        out = []
        for s in self._candles.series():
            cov = self._candles.coverage(s.key)
            out.append(SeriesInfo(s, cov.holes(), cov.known_empty))
        stored = {i.stored.key for i in out}
        for key in self._candles.fetched_series():
            cov = self._candles.coverage(key)
            if key not in stored and cov.known_empty:
                empty = StoredSeries(key, cov.known_empty[0][0], cov.known_empty[-1][1] - key.timeframe.ms, 0)
                out.append(SeriesInfo(empty, [], cov.known_empty))
        return out

    def delete_range(self, key: SeriesKey, start_ms: int | None = None, end_ms: int | None = None) -> int:
        return self._candles.delete(key, start_ms, end_ms)
