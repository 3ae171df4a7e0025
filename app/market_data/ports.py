"""The candle store port (`CandleRepository`) and the summary of a stored series."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from domain.market import CandleSeries, Coverage, SeriesKey


@dataclass(frozen=True, slots=True)
class StoredSeries:
    """Summary of one stored series, for `db info` and the market list."""

    key: SeriesKey
    first_ts: int
    last_ts: int
    rows: int


class CandleRepository(Protocol):
    """Candle store. Every write is one transaction; reads return columns."""

    def upsert(self, key: SeriesKey, series: CandleSeries, fetched: tuple[int, int] | None = None) -> int:
        """Insert or replace the bars of `series` (and record `fetched` as asked of the exchange),
        atomically. Returns the number of bars written."""
        ...

    def read(self, key: SeriesKey, start_ms: int | None = None, end_ms: int | None = None) -> CandleSeries:
        """Bars with start ≤ ts < end."""
        ...

    def coverage(self, key: SeriesKey) -> Coverage: ...

    def delete(self, key: SeriesKey, start_ms: int | None = None, end_ms: int | None = None) -> int:
        """Remove bars (and fetched-window records) in [start, end). Returns bars deleted."""
        ...

    def count(self, key: SeriesKey) -> int: ...

    def forget_fetched(self, key: SeriesKey, start_ms: int, end_ms: int) -> None:
        """Forget which windows of [start, end) were fetched, so known-empty ranges there are asked for again;
        stored candles stay."""
        ...

    def series(self) -> list[StoredSeries]:
        """Every stored series with its first/last bar and row count."""
        ...

    def fetched_series(self) -> list[SeriesKey]:
        """Every series with windows recorded as fetched, candles or not (e.g. only ranges before a listing)."""
        ...

