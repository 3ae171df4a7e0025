"""Shared inputs and comparison helpers for the indicator tests: random walks and backtesting.py's real data."""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt

from domain.market import CandleSeries, Timeframe

F64 = npt.NDArray[np.float64]
RANDOM_SEEDS = (1, 2, 3)


def random_series(seed: int, n: int = 700, price: float = 100.0) -> CandleSeries:
    """A geometric random walk with consistent OHLC and positive volume, one bar per minute."""
    rng = np.random.default_rng(seed)
    close = price * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    open_ = np.concatenate([[price], close[:-1]]) * np.exp(rng.normal(0.0, 0.002, n))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0.0, 0.005, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0.0, 0.005, n)))
    volume = rng.lognormal(3.0, 1.0, n)
    ts = 1_700_000_040_000 + np.arange(n, dtype=np.int64) * 60_000
    return CandleSeries.from_columns(Timeframe.parse("1m"), ts, open_, high, low, close, volume)


@cache
def real_series(name: str) -> CandleSeries:
    """GOOG (daily, 2004–2013) or EURUSD (hourly, 2017–2018) as shipped by backtesting.py."""
    from backtesting import test as bt_data

    df = getattr(bt_data, name)
    ts = df.index.values.astype("datetime64[ms]").astype(np.int64)
    tf = Timeframe.parse("1d" if name == "GOOG" else "1h")
    return CandleSeries.from_columns(tf, ts, df.Open.values, df.High.values, df.Low.values, df.Close.values,
                                     df.Volume.values.astype(np.float64))


def dataset(name: str) -> CandleSeries:
    """`random1`..`random3`, `GOOG` or `EURUSD`."""
    if name.startswith("random"):
        return random_series(int(name.removeprefix("random")))
    return real_series(name)


DATASETS = tuple(f"random{s}" for s in RANDOM_SEEDS) + ("GOOG", "EURUSD")


def assert_close(ours: F64, ref: F64, start: int, rtol: float = 1e-9, what: str = "") -> None:
    """NaN exactly before `start`; from `start` on finite and |ours − ref| ≤ rtol · max(|ref|, median |ref|).

    The median term keeps the check relative to the output's own scale where a value passes near zero
    (MACD histogram, ROC), where a purely pointwise relative error is meaningless.
    """
    assert np.isnan(ours[:start]).all(), f"{what}: values before warm-up end ({start})"
    a, b = ours[start:], ref[start:]
    assert np.isfinite(a).all(), f"{what}: NaN after warm-up at {start + int(np.argmax(~np.isfinite(a)))}"
    assert np.isfinite(b).all(), f"{what}: reference has NaN after {start}"
    if a.size == 0:
        return
    scale = np.maximum(np.abs(b), np.median(np.abs(b)))
    err = np.abs(a - b) / np.where(scale > 0, scale, 1.0)
    worst = int(np.argmax(err))
    assert err[worst] <= rtol, f"{what}: bar {start + worst}: {a[worst]!r} vs {b[worst]!r} (rel {err[worst]:.2e})"


def same_bits(a: F64, b: F64) -> bool:
    """True when both arrays hold NaN at the same places and bit-identical numbers elsewhere."""
    if a.shape != b.shape or not np.array_equal(np.isnan(a), np.isnan(b)):
        return False
    m = ~np.isnan(a)
    return bool(np.array_equal(a[m].view(np.int64), b[m].view(np.int64)))
