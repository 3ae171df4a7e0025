"""Timeframes, candle series and interval sets."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.market import CandleSeries, InvalidCandles, Timeframe, UnknownTimeframe
from domain.market.coverage import Coverage, runs
from domain.market.intervals import intersect, merge, subtract, total

M = 60_000


def series(n: int = 10, tf: Timeframe = Timeframe.M1, start: int = 0, seed: int = 0) -> CandleSeries:
    rng = np.random.default_rng(seed)
    close = 100 + np.cumsum(rng.normal(0, 1, n))
    open_ = np.r_[close[0], close[:-1]]
    high = np.maximum(open_, close) + rng.random(n)
    low = np.minimum(open_, close) - rng.random(n)
    ts = start + np.arange(n, dtype=np.int64) * tf.ms
    return CandleSeries.from_columns(tf, ts, open_, high, low, close, rng.random(n) * 10)


def test_timeframes_know_their_length_and_exchange_spellings() -> None:
    assert Timeframe.parse("1h").ms == 3_600_000
    assert Timeframe.parse("4h").upbit_path == "minutes/240"
    assert Timeframe.parse("1d").binance == "1d"
    assert Timeframe.parse("10m").binance == ""
    assert Timeframe.parse("60m") is Timeframe.H1


def test_an_unknown_timeframe_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownTimeframe, match="valid timeframes: 1m, 3m, 5m, 10m, 15m, 30m, 1h, 4h, 1d, 1w"):
        Timeframe.parse("2m")


def test_weeks_start_on_monday() -> None:
    monday = 1_704_067_200_000  # 2024-01-01 was a Monday
    assert Timeframe.W1.floor(monday + 3 * 86_400_000) == monday


def test_a_sound_series_validates() -> None:
    series(100).validate()


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [("high", -1.0, "high is below"), ("low", 1e9, "low is above"), ("volume", -1.0, "volume is negative"),
     ("close", float("nan"), "close is not a finite")],
)
def test_validation_names_the_first_bad_row(column: str, value: float, message: str) -> None:
    s = series(20)
    getattr(s, column)[7] = value
    with pytest.raises(InvalidCandles, match=f"row 7: {message}"):
        s.validate()


def test_validation_rejects_unordered_and_misaligned_times() -> None:
    s = series(5)
    s.ts[3] = s.ts[2]
    with pytest.raises(InvalidCandles, match="row 3: time is not after"):
        s.validate()
    s = series(5)
    s.ts[4] += 1
    with pytest.raises(InvalidCandles, match="row 4: time .* not aligned"):
        s.validate()


def test_slicing_by_time_is_start_inclusive_end_exclusive() -> None:
    s = series(10)
    assert list(s.slice_time(2 * M, 5 * M).ts) == [2 * M, 3 * M, 4 * M]


def test_gaps_list_the_missing_bars() -> None:
    s = series(10).take(np.array([0, 1, 2, 6, 7, 9]))
    assert s.gaps() == [(3 * M, 6 * M), (8 * M, 9 * M)]


def test_resampling_keeps_each_span_true_extremes() -> None:
    s = series(60, seed=3)
    r = s.resample(Timeframe.M15)
    assert len(r) == 4
    for i in range(4):
        part = s.take(slice(15 * i, 15 * (i + 1)))
        assert r.open[i] == part.open[0] and r.close[i] == part.close[-1]
        assert r.high[i] == part.high.max() and r.low[i] == part.low.min()
        assert r.volume[i] == pytest.approx(part.volume.sum())
    r.validate()


def test_resampling_handles_missing_bars() -> None:
    s = series(30).take(np.r_[0:4, 9:30])
    r = s.resample(Timeframe.M5)
    assert list(r.ts) == [0, 5 * M, 10 * M, 15 * M, 20 * M, 25 * M]
    assert r.open[1] == s.open[4]  # the first bar present in the second span


def test_merging_series_prefers_the_newer_bars() -> None:
    a, b = series(10), series(10, seed=9).take(slice(5, 15))
    m = a.concat(b)
    assert len(m) == 10 and m.close[7] == b.close[2] and m.close[2] == a.close[2]


def test_runs_split_at_missing_bars() -> None:
    ts = np.array([0, 1, 2, 5, 6], dtype=np.int64) * M
    assert runs(ts, M) == [(0, 3 * M), (5 * M, 7 * M)]


def test_coverage_separates_known_empty_from_holes() -> None:
    cov = Coverage(Timeframe.M1, fetched=[(0, 10 * M)], stored=[(0, 4 * M), (6 * M, 10 * M), (20 * M, 21 * M)])
    assert cov.known_empty == [(4 * M, 6 * M)]
    assert cov.holes() == [(10 * M, 20 * M)]


intervals = st.lists(st.tuples(st.integers(0, 100), st.integers(0, 100)).map(lambda t: (min(t), max(t))), max_size=8)


@given(intervals, intervals)
def test_interval_algebra_agrees_with_point_sets(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> None:
    def points(iv: list[tuple[int, int]]) -> set[int]:
        return {x for s, e in iv for x in range(s, e)}

    assert points(merge(a)) == points(a)
    assert points(subtract(a, b)) == points(a) - points(b)
    assert points(intersect(a, b)) == points(a) & points(b)
    assert total(a) == len(points(a))
    m = merge(a)
    assert all(m[i][1] < m[i + 1][0] for i in range(len(m) - 1))
