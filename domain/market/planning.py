"""Collection planning: which exchange requests cover exactly what the store is missing, and what each proved."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from domain.market.coverage import Coverage
from domain.market.intervals import Interval, merge, subtract, total
from domain.market.timeframe import Timeframe


@dataclass(frozen=True, slots=True)
class Geometry:
    """How an exchange pages candles: backward from an exclusive end (Upbit) or forward from a start (Binance)."""

    direction: Literal["backward", "forward"]
    max_candles: int


UPBIT_GEOMETRY = Geometry("backward", 200)
BINANCE_GEOMETRY = Geometry("forward", 1500)


@dataclass(frozen=True, slots=True)
class FetchRequest:
    """One exchange call for bars opening in [start, end); `count` bars at most."""

    start: int
    end: int
    count: int


def wanted(timeframe: Timeframe, start_ms: int, end_ms: int) -> Interval:
    """Bar open times a user range asks for: the first bar opening at or after start, up to end (exclusive)."""
    return timeframe.ceil(start_ms), timeframe.ceil(end_ms)


def missing(timeframe: Timeframe, start_ms: int, end_ms: int, coverage: Coverage) -> list[Interval]:
    """Parts of the wanted range neither stored nor known to be empty, aligned to whole bars."""
    want = wanted(timeframe, start_ms, end_ms)
    if want[1] <= want[0]:
        return []
    gaps = subtract([want], coverage.covered)
    return merge((timeframe.floor(s), timeframe.ceil(e)) for s, e in gaps)


def next_request(remaining: list[Interval], timeframe: Timeframe, geometry: Geometry) -> FetchRequest | None:
    """The next call: a page from the newest missing end backwards (or the oldest missing start forwards).

    A page spans the covered bars between nearby missing ranges, so scattered holes cost one call per
    page rather than one per hole; it is trimmed to the missing ranges it reaches.
    """
    if not remaining:
        return None
    step = geometry.max_candles * timeframe.ms
    if geometry.direction == "backward":
        end = remaining[-1][1]
        reach = [s for s, e in remaining if e > end - step]
        start = max(end - step, min(reach))
    else:
        start = remaining[0][0]
        reach = [e for s, e in remaining if s < start + step]
        end = min(start + step, max(reach))
    return FetchRequest(start, end, (end - start) // timeframe.ms)


def plan(remaining: list[Interval], timeframe: Timeframe, geometry: Geometry) -> list[FetchRequest]:
    """Every call needed if no answer proves more than it was asked for (an upper bound for progress)."""
    out: list[FetchRequest] = []
    left = merge(remaining)
    while (req := next_request(left, timeframe, geometry)) is not None:
        out.append(req)
        left = subtract(left, [(req.start, req.end)])
    return out


def proven(request: FetchRequest, returned_ts: npt.NDArray[np.int64], returned_rows: int,
           timeframe: Timeframe, geometry: Geometry, floor_ms: int) -> Interval | None:
    """The range an answer settles: every bar in it was returned or does not exist.

    A full backward page reaches back to its oldest bar (quiet minutes make that older than asked);
    a short backward page with bars means no older bars exist down to `floor_ms`. A full forward page
    reaches its newest bar; a short one settles the whole window. An empty answer settles nothing by
    itself (None): a proxy or an outage answers `200 []` too; see `empty_page_proven`.
    """
    if returned_rows == 0:
        return None
    full = returned_rows >= request.count
    if geometry.direction == "backward":
        if full and len(returned_ts):
            return min(int(returned_ts.min()), request.start), request.end
        return min(floor_ms, request.start), request.end
    if full and len(returned_ts):
        return request.start, max(request.start, int(returned_ts.max()) + timeframe.ms)
    return request.start, request.end


def first_bar_shown(request: FetchRequest, returned_ts: npt.NDArray[np.int64], returned_rows: int,
                    geometry: Geometry) -> int | None:
    """The market's first bar where a backward page shows it with data: a short page holding bars (Upbit
    answers the newest `count` bars before `to`, so fewer means none older exist)."""
    if geometry.direction != "backward" or not 0 < returned_rows < request.count or len(returned_ts) == 0:
        return None
    return int(returned_ts.min())


def empty_page_proven(request: FetchRequest, first_bar: int | None, floor_ms: int) -> Interval | None:
    """What an empty backward page settles once the market's first bar is known from a page with data:
    down to `floor_ms` if the page ends at or before that bar, else nothing."""
    if first_bar is None or request.end > first_bar:
        return None
    return min(floor_ms, request.start), request.end


def split_lanes(remaining: list[Interval], lanes: int, timeframe: Timeframe) -> list[list[Interval]]:
    """Divide missing ranges into up to `lanes` contiguous groups of about equal length (bar-aligned)."""
    left = merge(remaining)
    size = total(left)
    if lanes <= 1 or size == 0:
        return [left] if left else []
    share = max(timeframe.ms, size // lanes // timeframe.ms * timeframe.ms)
    out: list[list[Interval]] = []
    current: list[Interval] = []
    room = share
    for s, e in left:
        while e - s > room and len(out) < lanes - 1:
            current.append((s, s + room))
            out.append(current)
            current, s, room = [], s + room, share
        if e > s:
            current.append((s, e))
            room -= e - s
        if room <= 0 and len(out) < lanes - 1:
            out.append(current)
            current, room = [], share
    if current:
        out.append(current)
    return out


def request_estimate(remaining: list[Interval], timeframe: Timeframe, geometry: Geometry) -> int:
    """Calls still needed if no answer proves more than asked; exact for one range, an upper bound for several."""
    step = geometry.max_candles * timeframe.ms
    return sum(-(-(e - s) // step) for s, e in merge(remaining))
