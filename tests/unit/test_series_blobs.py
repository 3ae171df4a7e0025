"""Equity curves and bar times packed for storage come back bit for bit, and raw blobs still read."""

from __future__ import annotations

import numpy as np
import pytest

from infrastructure.db.series_blobs import pack_floats, pack_times, unpack_floats, unpack_times


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and bool((a.view(np.uint64) == b.view(np.uint64)).all())


def an_equity_curve(n: int, seed: int = 3) -> np.ndarray:
    """Flat while no position is open (most bars), moving bar by bar while one is."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0, 1, n) * (rng.random(n) < 0.25)
    return 1_000_000 + np.cumsum(steps)


def test_a_flat_heavy_equity_curve_shrinks_and_comes_back_bit_for_bit() -> None:
    equity = an_equity_curve(100_000)
    blob = pack_floats(equity)
    assert len(blob) < 0.4 * 8 * len(equity)
    back = unpack_floats(blob, len(equity))
    assert same_bits(back, equity) and back.flags.writeable


def test_nan_payloads_negative_zero_and_infinities_keep_their_exact_bits() -> None:
    odd = np.array([0.0, -0.0, -0.0, np.inf, -np.inf, np.nan, np.nan, 1.5, 1.5, 1.5] * 50)
    odd.view(np.uint64)[5] |= 0x1234  # a NaN with a payload of its own
    for values in (odd, np.repeat(odd, 3)):
        assert same_bits(unpack_floats(pack_floats(values), len(values)), values)


def test_a_curve_that_would_not_shrink_is_stored_raw_and_reads_back() -> None:
    values = np.random.default_rng(1).normal(size=1000)
    blob = pack_floats(values)
    assert blob == values.astype("<f8").tobytes()
    assert same_bits(unpack_floats(blob, len(values)), values)


@pytest.mark.parametrize("n", [0, 1, 2, 9])
def test_short_curves_round_trip(n: int) -> None:
    equity = np.full(n, 7.25)
    ts = np.arange(n, dtype=np.int64) * 60_000 + 1_700_000_000_000
    assert same_bits(unpack_floats(pack_floats(equity), n), equity)
    assert same_bits(unpack_times(pack_times(ts), n), ts)


def test_bar_times_with_gaps_pack_to_a_fraction_and_come_back_exactly() -> None:
    ts = np.arange(200_000, dtype=np.int64) * 60_000 + 1_704_067_200_000
    ts[50_000:] += 3_600_000  # an hour missing
    ts[150_000:] += 7 * 86_400_000
    blob = pack_times(ts)
    assert len(blob) < 0.02 * 8 * len(ts)
    assert same_bits(unpack_times(blob, len(ts)), ts)


def test_times_near_the_int64_limits_round_trip_through_wrapping_steps() -> None:
    ts = np.array([np.iinfo(np.int64).min, -1, 0, np.iinfo(np.int64).max] * 40, dtype=np.int64)
    assert same_bits(unpack_times(pack_times(ts), len(ts)), ts)


def test_raw_blobs_stored_before_packing_still_read() -> None:
    equity, ts = an_equity_curve(500), np.arange(500, dtype=np.int64) * 60_000
    assert same_bits(unpack_floats(equity.astype("<f8").tobytes(), 500), equity)
    assert same_bits(unpack_times(ts.astype("<i8").tobytes(), 500), ts)


def test_a_packed_blob_cut_short_is_refused_not_misread() -> None:
    blob = pack_floats(an_equity_curve(10_000))
    with pytest.raises(ValueError, match="cut short"):
        unpack_floats(blob[:-8], 10_000)
    with pytest.raises(ValueError, match="neither raw nor packed"):
        unpack_floats(blob, 9_999)
