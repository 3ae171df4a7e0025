"""A run's equity curve and its bar times as compact, exact blobs: each 8-byte value stored only where it changes."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

# magic, then n (uint64), then a bit per value (set where it differs from the one before), then those values.
# A run's equity stays flat while no position is open and its bar times step by one timeframe, so a year of 1m
# shrinks from 8.4 MB to about 1 MB: less to write, to checkpoint and to keep. A blob of exactly 8 bytes per bar
# is the raw form (every run stored before this, and any curve that would not shrink): the two never collide.
_MAGIC = b"QDR1"
_HEAD = len(_MAGIC) + 8


def _changes(words: npt.NDArray[np.uint64]) -> bytes:
    """The packed form of `words`, or their raw bytes when that is not smaller."""
    n = len(words)
    changed = np.empty(n, dtype=bool)
    changed[:1] = True
    np.not_equal(words[1:], words[:-1], out=changed[1:])
    kept = words[changed]
    if _HEAD + (n + 7) // 8 + 8 * len(kept) >= 8 * n:
        return words.astype("<u8", copy=False).tobytes()
    return b"".join((_MAGIC, np.uint64(n).astype("<u8").tobytes(), np.packbits(changed).tobytes(),
                     kept.astype("<u8", copy=False).tobytes()))


def _words(blob: bytes, n: int) -> npt.NDArray[np.uint64]:
    """The 8-byte values of a blob of either form, for a run of `n` bars (ValueError if it is neither)."""
    if len(blob) == 8 * n:
        return np.frombuffer(blob, dtype="<u8").astype(np.uint64)
    if blob[:len(_MAGIC)] != _MAGIC or int(np.frombuffer(blob, "<u8", 1, len(_MAGIC))[0]) != n:
        raise ValueError(f"a stored series of {n} values is neither raw nor packed ({len(blob)} bytes)")
    bits = (n + 7) // 8
    changed = np.unpackbits(np.frombuffer(blob, np.uint8, bits, _HEAD), count=n).astype(bool)
    kept = np.frombuffer(blob, "<u8", offset=_HEAD + bits)
    if len(kept) != int(changed.sum()):
        raise ValueError(f"a packed series of {n} values is cut short ({len(blob)} bytes)")
    out: npt.NDArray[np.uint64] = kept[np.cumsum(changed) - 1].astype(np.uint64)
    return out


def pack_floats(values: npt.ArrayLike) -> bytes:
    """float64 values, bit for bit (NaN payloads and -0.0 included)."""
    return _changes(np.ascontiguousarray(values, dtype="<f8").view("<u8"))


def unpack_floats(blob: bytes, n: int) -> npt.NDArray[np.float64]:
    return _words(blob, n).view(np.float64)


def pack_times(ts: npt.ArrayLike) -> bytes:
    """int64 times, as the first value and the steps between (wrapping uint64 arithmetic: exact for any values);
    the raw form for a curve that would not shrink, so old readers' rule (8 bytes per bar = raw) still holds."""
    words = np.ascontiguousarray(ts, dtype="<i8").view("<u8")
    steps = np.diff(words, prepend=np.uint64(0))
    packed = _changes(steps)
    return words.tobytes() if len(packed) == 8 * len(words) else packed


def unpack_times(blob: bytes, n: int) -> npt.NDArray[np.int64]:
    if len(blob) == 8 * n or blob[:len(_MAGIC)] != _MAGIC:  # raw (of another length: stored by pack_times' caller)
        return np.frombuffer(blob, dtype="<i8").astype(np.int64)
    return np.cumsum(_words(blob, n), dtype=np.uint64).view(np.int64)
