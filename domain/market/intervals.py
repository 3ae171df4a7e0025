"""Half-open integer interval sets [start, end): merge, subtract, intersect."""

from __future__ import annotations

from collections.abc import Iterable

Interval = tuple[int, int]


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping union; touching intervals join."""
    out: list[list[int]] = []
    for s, e in sorted(i for i in intervals if i[1] > i[0]):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def subtract(base: Iterable[Interval], remove: Iterable[Interval]) -> list[Interval]:
    """Parts of `base` not covered by `remove`."""
    rem = merge(remove)
    out: list[Interval] = []
    for s, e in merge(base):
        cur = s
        for rs, re_ in rem:
            if re_ <= cur or rs >= e:
                continue
            if rs > cur:
                out.append((cur, rs))
            cur = max(cur, re_)
            if cur >= e:
                break
        if cur < e:
            out.append((cur, e))
    return out


def intersect(a: Iterable[Interval], b: Iterable[Interval]) -> list[Interval]:
    bb = merge(b)
    out: list[Interval] = []
    for s, e in merge(a):
        for bs, be in bb:
            lo, hi = max(s, bs), min(e, be)
            if lo < hi:
                out.append((lo, hi))
    return out


def total(intervals: Iterable[Interval]) -> int:
    return sum(e - s for s, e in merge(intervals))
