"""OHLCV level-of-detail pyramid: level k aggregates 4**k consecutive bars, so any zoom draws few candles."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

FACTOR = 4
TOP_BARS = 64  # stop building levels once a level has at most this many bars
OPEN, HIGH, LOW, CLOSE, VOLUME = range(5)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


def aggregate(o: F64, h: F64, low: F64, c: F64, v: F64, factor: int = FACTOR) -> F64:
    """One coarser level: first open, max high, min low, last close, summed volume of each `factor` bars."""
    n = len(o)
    starts = np.arange(0, n, factor)
    ends = np.minimum(starts + factor, n)
    out = np.empty((5, len(starts)), dtype=np.float64)
    out[OPEN] = o[starts]
    out[HIGH] = np.maximum.reduceat(h, starts)
    out[LOW] = np.minimum.reduceat(low, starts)
    out[CLOSE] = c[ends - 1]
    out[VOLUME] = np.add.reduceat(v, starts)
    return out


class OhlcPyramid:
    """Bars by index (bar i is x = i); level k bar j covers base bars [j*4**k, (j+1)*4**k).

    Level 0 shares the caller's arrays (no copy) until the first live append or update; appending or
    updating the last bar then touches one bucket per level; nothing is rebuilt.
    """

    def __init__(self, ts: npt.ArrayLike, o: npt.ArrayLike, h: npt.ArrayLike, low: npt.ArrayLike,
                 c: npt.ArrayLike, v: npt.ArrayLike, factor: int = FACTOR) -> None:
        self.factor = factor
        self._ts: I64 = np.asarray(ts, dtype=np.int64)
        base = [np.asarray(a, dtype=np.float64) for a in (o, h, low, c, v)]
        self._levels: list[list[F64]] = [base]
        self._sizes: list[int] = [len(self._ts)]
        self._owned = False  # level 0 and ts still belong to the caller
        while self._sizes[-1] > TOP_BARS:
            self._add_level()

    @classmethod
    def empty(cls) -> OhlcPyramid:
        z = np.empty(0)
        return cls(np.empty(0, dtype=np.int64), z, z, z, z, z)

    def __len__(self) -> int:
        return self._sizes[0]

    @property
    def depth(self) -> int:
        return len(self._levels)

    @property
    def ts(self) -> I64:
        return self._ts[: self._sizes[0]]

    def span(self, k: int) -> int:
        """Base bars per bar of level k."""
        return int(self.factor**k)

    def column(self, k: int, field: int) -> F64:
        """One field (OPEN..VOLUME) of level k, as a view."""
        return self._levels[k][field][: self._sizes[k]]

    def columns(self, k: int, i0: int, i1: int) -> F64:
        """Bars [i0, i1) of level k as a (5, n) array: rows open, high, low, close, volume."""
        return np.vstack([col[i0:min(i1, self._sizes[k])] for col in self._levels[k]])

    def level(self, k: int) -> F64:
        """All of level k as a (5, n) array (a copy)."""
        return self.columns(k, 0, self._sizes[k])

    def level_for(self, bars_in_view: float, pixels: float, per_pixel: float = 1.0) -> int:
        """The finest level that draws at most `per_pixel` candles per pixel column of the view."""
        if bars_in_view <= 0 or pixels <= 0:
            return 0
        need = bars_in_view / (per_pixel * pixels)
        k = 0 if need <= 1 else math.ceil(math.log(need, self.factor) - 1e-9)
        return max(0, min(k, self.depth - 1))

    def window(self, k: int, x0: float, x1: float) -> tuple[int, int]:
        """Indices [i0, i1) of the level-k bars that touch base positions x0..x1."""
        s = self.span(k)
        i0 = max(0, math.floor((x0 + 0.5) / s))
        i1 = min(self._sizes[k], math.floor((x1 + 0.5) / s) + 1)
        return i0, max(i0, i1)

    def low_high(self, k: int, i0: int, i1: int) -> tuple[float, float] | None:
        """Lowest low and highest high of level-k bars [i0, i1), or None if the window is empty."""
        if i1 <= i0:
            return None
        lev = self._levels[k]
        return float(lev[LOW][i0:i1].min()), float(lev[HIGH][i0:i1].max())

    def bounds(self) -> tuple[float, float] | None:
        """Lowest low and highest high of all bars (cheap: read from the top level)."""
        return self.low_high(self.depth - 1, 0, self._sizes[-1])

    def append(self, ts: int, o: float, h: float, low: float, c: float, v: float) -> None:
        """Add a new last bar and fold it into every level."""
        n = self._sizes[0]
        if n and ts <= self._ts[n - 1]:
            raise ValueError(f"bar time {ts} is not after the last bar's {int(self._ts[n - 1])}")
        self._own(n + 1)
        self._ts[n] = ts
        self._sizes[0] = n + 1
        self._put_base(n, (o, h, low, c, v))
        if self._sizes[-1] > TOP_BARS:
            self._add_level()

    def update_last(self, o: float, h: float, low: float, c: float, v: float) -> None:
        """Replace the last bar (a live bar still forming) and refresh its bucket on every level."""
        if not self._sizes[0]:
            raise ValueError("no bar to update")
        self._own(self._sizes[0])
        self._put_base(self._sizes[0] - 1, (o, h, low, c, v))

    def _own(self, need: int) -> None:
        """Copy level 0 out of the caller's arrays (first write) and make room for `need` bars."""
        n = self._sizes[0]
        if self._owned and need <= len(self._ts):
            return
        self._ts = _grown(self._ts[:n], need)
        self._levels[0] = [_grown(col[:n], need) for col in self._levels[0]]
        self._owned = True

    def _put_base(self, i: int, values: tuple[float, ...]) -> None:
        for col, value in zip(self._levels[0], values, strict=True):
            col[i] = value
        self._propagate()

    def _propagate(self) -> None:
        """Recompute the last bucket of each level from its (at most `factor`) children below."""
        f = self.factor
        for k in range(1, self.depth):
            child_n = self._sizes[k - 1]
            j = (child_n - 1) // f
            if j >= len(self._levels[k][0]):
                self._levels[k] = [_grown(col[: self._sizes[k]], j + 1) for col in self._levels[k]]
            self._sizes[k] = j + 1
            kids = [col[j * f: child_n] for col in self._levels[k - 1]]
            row = (kids[OPEN][0], kids[HIGH].max(), kids[LOW].min(), kids[CLOSE][-1], kids[VOLUME].sum())
            for col, value in zip(self._levels[k], row, strict=True):
                col[j] = value

    def _add_level(self) -> None:
        k = self.depth - 1
        below = [self.column(k, f) for f in range(5)]
        agg = aggregate(*below, factor=self.factor)
        self._levels.append([np.ascontiguousarray(row) for row in agg])
        self._sizes.append(agg.shape[1])


def _grown(arr: np.ndarray, need: int) -> np.ndarray:
    """A copy of 1-D `arr` with room for at least `need` items (amortised doubling)."""
    n = len(arr)
    out = np.empty(max(need, 2 * n, 16), dtype=arr.dtype)
    out[:n] = arr
    return out
