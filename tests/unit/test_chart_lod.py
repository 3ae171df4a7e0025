"""The chart's OHLC level-of-detail pyramid: right level for a view, true high/low per span, live updates."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from presentation.chart.lod import FACTOR, OhlcPyramid, aggregate


def random_walk(n: int, seed: int = 1) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    close = 100 + np.cumsum(rng.normal(0, 1, n))
    open_ = np.concatenate([[100.0], close[:-1]])
    high = np.maximum(open_, close) + rng.random(n)
    low = np.minimum(open_, close) - rng.random(n)
    volume = rng.random(n) * 10
    ts = np.arange(n, dtype=np.int64) * 60_000
    return ts, open_, high, low, close, volume


def brute(k: int, cols: tuple[np.ndarray, ...]) -> np.ndarray:
    _, o, h, low, c, v = cols
    s = FACTOR**k
    rows = []
    for j in range(0, len(o), s):
        sl = slice(j, j + s)
        rows.append((o[sl][0], h[sl].max(), low[sl].min(), c[sl][-1], v[sl].sum()))
    return np.array(rows).T


def test_a_year_view_on_a_1500_pixel_chart_draws_at_most_one_candle_per_pixel() -> None:
    pyr = OhlcPyramid(*random_walk(525_600))
    k = pyr.level_for(525_600, 1500)
    assert k == 5  # 4**5 = 1024 bars per candle -> 514 candles; 4**4 would need 2,053 > 1,500
    assert 525_600 / pyr.span(k) <= 1500 < 525_600 / pyr.span(k - 1)


def test_a_zoomed_in_view_uses_the_raw_bars() -> None:
    pyr = OhlcPyramid(*random_walk(10_000))
    assert pyr.level_for(60, 1200) == 0
    assert pyr.level_for(1200, 1200) == 0
    assert pyr.level_for(1201, 1200) == 1


def test_the_level_never_exceeds_the_top_of_the_pyramid() -> None:
    pyr = OhlcPyramid(*random_walk(1000))
    assert pyr.level_for(1e12, 10) == pyr.depth - 1


def test_every_level_keeps_each_spans_true_open_high_low_close_and_volume() -> None:
    cols = random_walk(5000)
    pyr = OhlcPyramid(*cols)
    assert pyr.depth >= 4
    for k in range(pyr.depth):
        np.testing.assert_allclose(pyr.level(k), brute(k, cols), rtol=1e-12)


def test_a_single_spike_survives_to_the_top_level() -> None:
    ts, o, h, low, c, v = random_walk(100_000)
    h[77_777] = 10_000.0
    low[12_345] = -10_000.0
    pyr = OhlcPyramid(ts, o, h, low, c, v)
    for k in range(pyr.depth):
        lev = pyr.level(k)
        assert lev[1].max() == 10_000.0 and lev[2].min() == -10_000.0
        assert lev[1, 77_777 // pyr.span(k)] == 10_000.0


def test_the_window_covers_exactly_the_buckets_touching_the_view() -> None:
    pyr = OhlcPyramid(*random_walk(10_000))
    assert pyr.window(0, 10, 20) == (10, 21)
    assert pyr.window(2, 31.6, 64.2) == (2, 5)  # visible bars 32..64 lie in buckets 2..4 of 16
    assert pyr.window(0, -100, 50_000) == (0, 10_000)
    assert pyr.low_high(0, 5, 5) is None


def test_appending_bars_gives_the_same_levels_as_building_from_scratch() -> None:
    cols = random_walk(3000)
    pyr = OhlcPyramid(*(c[:1000] for c in cols))
    for i in range(1000, 3000):
        pyr.append(int(cols[0][i]), *(float(c[i]) for c in cols[1:]))
    fresh = OhlcPyramid(*cols)
    assert pyr.depth == fresh.depth
    for k in range(fresh.depth):
        np.testing.assert_allclose(pyr.level(k), fresh.level(k))
    np.testing.assert_array_equal(pyr.ts, cols[0])


def test_updating_the_forming_bar_refreshes_its_bucket_on_every_level() -> None:
    ts, o, h, low, c, v = random_walk(2049)
    pyr = OhlcPyramid(ts, o, h, low, c, v)
    h2, low2, c2, v2 = h.copy(), low.copy(), c.copy(), v.copy()
    h2[-1], low2[-1], c2[-1], v2[-1] = 500.0, -500.0, 1.0, 99.0
    pyr.update_last(o[-1], 500.0, -500.0, 1.0, 99.0)
    fresh = OhlcPyramid(ts, o, h2, low2, c2, v2)
    for k in range(fresh.depth):
        np.testing.assert_allclose(pyr.level(k), fresh.level(k))


def test_a_bar_not_after_the_last_one_is_refused() -> None:
    pyr = OhlcPyramid(*random_walk(10))
    with pytest.raises(ValueError, match="not after"):
        pyr.append(0, 1, 1, 1, 1, 1)


def test_an_empty_pyramid_grows_from_its_first_bar() -> None:
    pyr = OhlcPyramid.empty()
    assert pyr.bounds() is None
    pyr.append(60_000, 1, 2, 0.5, 1.5, 3)
    assert len(pyr) == 1 and pyr.bounds() == (0.5, 2.0)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 400), factor=st.integers(2, 5))
def test_aggregation_matches_a_plain_loop_for_any_length(n: int, factor: int) -> None:
    _, o, h, low, c, v = random_walk(n, seed=n)
    agg = aggregate(o, h, low, c, v, factor)
    for j, start in enumerate(range(0, n, factor)):
        sl = slice(start, start + factor)
        assert agg[:, j].tolist() == [o[start], h[sl].max(), low[sl].min(), c[sl][-1], pytest.approx(v[sl].sum())]


def test_the_base_level_shares_the_callers_columns_until_a_live_bar_arrives() -> None:
    cols = random_walk(5000)
    pyr = OhlcPyramid(*cols)
    assert np.shares_memory(pyr.column(0, 3), cols[4]) and np.shares_memory(pyr.ts, cols[0])
    before = cols[4].copy()
    pyr.update_last(1.0, 900.0, 0.5, 2.0, 1.0)
    np.testing.assert_array_equal(cols[4], before)  # the caller's series is never written
    assert not np.shares_memory(pyr.column(0, 3), cols[4]) and pyr.column(0, 3)[-1] == 2.0
