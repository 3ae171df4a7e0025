"""Collection planning: only missing ranges are requested, within each exchange's page size."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.market import MINUTE_MS, Coverage, Timeframe
from domain.market.coverage import runs
from domain.market.intervals import intersect, merge, subtract, total
from domain.market.planning import (
    BINANCE_GEOMETRY,
    UPBIT_GEOMETRY,
    FetchRequest,
    Geometry,
    empty_page_proven,
    first_bar_shown,
    missing,
    next_request,
    plan,
    proven,
    request_estimate,
    split_lanes,
    wanted,
)

M1 = Timeframe.M1
T0 = 1_704_067_200_000  # 2024-01-01


def minutes(a: int, b: int) -> tuple[int, int]:
    return T0 + a * MINUTE_MS, T0 + b * MINUTE_MS


def test_an_empty_store_misses_the_whole_wanted_range_rounded_to_whole_bars() -> None:
    cov = Coverage(M1)
    assert missing(M1, T0 + 30_000, T0 + 10 * MINUTE_MS + 1, cov) == [(T0 + MINUTE_MS, T0 + 11 * MINUTE_MS)]


def test_stored_bars_and_known_empty_windows_are_not_requested_again() -> None:
    cov = Coverage(M1, fetched=[minutes(0, 100)], stored=[minutes(0, 40), minutes(150, 200)])
    assert missing(M1, *minutes(0, 300), cov) == [minutes(100, 150), minutes(200, 300)]


def test_a_fully_covered_range_needs_no_request() -> None:
    cov = Coverage(M1, fetched=[minutes(0, 1000)])
    assert plan(missing(M1, *minutes(10, 900), cov), M1, UPBIT_GEOMETRY) == []


def test_upbit_pages_backwards_from_the_newest_missing_bar_200_at_a_time() -> None:
    reqs = plan([minutes(0, 450)], M1, UPBIT_GEOMETRY)
    assert reqs == [FetchRequest(*minutes(250, 450), 200), FetchRequest(*minutes(50, 250), 200),
                    FetchRequest(*minutes(0, 50), 50)]


def test_binance_pages_forwards_1500_at_a_time() -> None:
    reqs = plan([minutes(0, 3100)], M1, BINANCE_GEOMETRY)
    assert [(r.start, r.count) for r in reqs] == [(T0, 1500), (minutes(1500, 0)[0], 1500), (minutes(3000, 0)[0], 100)]


def test_a_full_backward_page_with_quiet_minutes_settles_back_to_its_oldest_bar() -> None:
    req = FetchRequest(*minutes(100, 300), 200)
    ts = np.array([minutes(i, 0)[0] for i in range(90, 300) if i % 20], dtype=np.int64)[-200:]
    assert proven(req, ts, 200, M1, UPBIT_GEOMETRY, floor_ms=0) == (int(ts[0]), req.end)
    assert int(ts[0]) < req.start


def test_a_short_backward_page_means_nothing_older_exists_down_to_the_floor() -> None:
    req = FetchRequest(*minutes(100, 300), 200)
    ts = np.array([minutes(250, 0)[0]], dtype=np.int64)
    assert proven(req, ts, 1, M1, UPBIT_GEOMETRY, floor_ms=T0) == (T0, req.end)


def test_a_full_forward_page_settles_up_to_its_newest_bar_and_a_short_one_the_whole_window() -> None:
    req = FetchRequest(*minutes(0, 10), 10)
    ts = np.array([minutes(i, 0)[0] for i in range(10)], dtype=np.int64)
    assert proven(req, ts, 10, M1, BINANCE_GEOMETRY, 0) == minutes(0, 10)
    assert proven(req, ts[:3], 3, M1, BINANCE_GEOMETRY, 0) == minutes(0, 10)


intervals = st.lists(st.tuples(st.integers(0, 3000), st.integers(1, 400)), max_size=6).map(
    lambda xs: merge(minutes(a, a + n) for a, n in xs))


@given(want=st.tuples(st.integers(0, 3000), st.integers(1, 3000)), fetched=intervals, stored=intervals,
       geometry=st.sampled_from([UPBIT_GEOMETRY, BINANCE_GEOMETRY, Geometry("backward", 7)]))
@settings(max_examples=200, deadline=None)
def test_the_plan_covers_every_missing_bar_in_disjoint_requests_within_the_page_size(
        want: tuple[int, int], fetched: list[tuple[int, int]], stored: list[tuple[int, int]],
        geometry: Geometry) -> None:
    start, end = minutes(want[0], want[0] + want[1])
    cov = Coverage(M1, fetched=fetched, stored=stored)
    gaps = missing(M1, start, end, cov)
    reqs = plan(gaps, M1, geometry)
    windows = [(r.start, r.end) for r in reqs]
    assert all(1 <= r.count <= geometry.max_candles and r.end - r.start == r.count * MINUTE_MS for r in reqs)
    assert total(windows) == sum(e - s for s, e in windows)  # disjoint
    assert subtract(gaps, windows) == []
    assert all(subtract([w], cov.covered) for w in windows)  # no call asks only for what is stored
    for r in reqs:  # every page starts (in its paging direction) at a missing bar
        first = (r.end - MINUTE_MS, r.end) if geometry.direction == "backward" else (r.start, r.start + MINUTE_MS)
        assert subtract([first], gaps) == []
    assert merge([*gaps, *intersect(cov.covered, [(start, end)])]) == merge([wanted(M1, start, end)])
    assert len(reqs) <= request_estimate(gaps, M1, geometry)
    if len(gaps) == 1:
        assert len(reqs) == request_estimate(gaps, M1, geometry)


def test_scattered_holes_within_one_page_cost_one_call() -> None:
    holes = [minutes(i, i + 1) for i in range(0, 190, 10)]
    assert plan(holes, M1, UPBIT_GEOMETRY) == [FetchRequest(*minutes(0, 181), 181)]
    assert plan(holes, M1, BINANCE_GEOMETRY) == [FetchRequest(*minutes(0, 181), 181)]


@given(bars=st.sets(st.integers(0, 2000), max_size=1500), want=st.tuples(st.integers(0, 1500), st.integers(1, 900)),
       geometry=st.sampled_from([UPBIT_GEOMETRY, BINANCE_GEOMETRY, Geometry("backward", 13), Geometry("forward", 9)]),
       lanes=st.integers(1, 4))
@settings(max_examples=150, deadline=None)
def test_paging_against_an_exchange_with_quiet_minutes_settles_every_bar_in_no_more_calls_than_planned(
        bars: set[int], want: tuple[int, int], geometry: Geometry, lanes: int) -> None:
    exchange = np.array(sorted(minutes(b, 0)[0] for b in bars), dtype=np.int64)
    start, end = minutes(want[0], want[0] + want[1])
    gaps = missing(M1, start, end, Coverage(M1))
    got: set[int] = set()
    calls = 0
    settled_all: list[tuple[int, int]] = []
    answered_empty: list[tuple[int, int]] = []
    for lane in split_lanes(gaps, lanes, M1):
        floor = lane[0][0]
        while (req := next_request(lane, M1, geometry)) is not None:
            calls += 1
            if geometry.direction == "backward":
                older = exchange[exchange < req.end]
                page = older[-req.count:]
            else:
                inside = exchange[(exchange >= req.start) & (exchange < req.end)]
                page = inside[: req.count]
            settled = proven(req, page, len(page), M1, geometry, floor)
            if settled is None:  # an empty answer settles nothing by itself; the service asks again next run
                assert len(page) == 0
                answered_empty.append((req.start, req.end))
                lane = subtract(lane, [(req.start, req.end)])
                continue
            if geometry.direction == "backward":
                assert settled[0] <= req.start and settled[1] == req.end
            else:
                assert settled[0] == req.start and req.start < settled[1] <= req.end
            got.update(int(t) for t in page if settled[0] <= t < settled[1])
            settled_all.append(settled)
            lane = subtract(lane, [settled])
    expected = {int(t) for t in exchange if start <= t < end}
    assert expected <= got
    assert subtract(gaps, settled_all + answered_empty) == []
    assert not any(((exchange >= a) & (exchange < b)).any() for a, b in answered_empty)  # truly empty windows
    assert calls <= len(plan(gaps, M1, geometry)) + lanes


def test_an_empty_answer_settles_nothing_until_a_page_with_data_shows_the_first_bar_after_it() -> None:
    req = FetchRequest(*minutes(100, 300), 200)
    empty = np.empty(0, dtype=np.int64)
    assert proven(req, empty, 0, M1, UPBIT_GEOMETRY, minutes(0, 0)[0]) is None
    assert proven(req, empty, 0, M1, BINANCE_GEOMETRY, minutes(0, 0)[0]) is None
    newer = FetchRequest(*minutes(300, 500), 200)
    short_page = np.array([minutes(m, 0)[0] for m in range(420, 500)], dtype=np.int64)
    assert first_bar_shown(newer, short_page, len(short_page), UPBIT_GEOMETRY) == minutes(420, 0)[0]
    full_page = np.array([minutes(m, 0)[0] for m in range(300, 500)], dtype=np.int64)
    assert first_bar_shown(newer, full_page, len(full_page), UPBIT_GEOMETRY) is None  # older bars may exist
    assert first_bar_shown(newer, short_page, len(short_page), BINANCE_GEOMETRY) is None
    assert empty_page_proven(req, minutes(420, 0)[0], minutes(50, 0)[0]) == minutes(50, 300)
    assert empty_page_proven(req, minutes(299, 0)[0], minutes(50, 0)[0]) is None  # a bar inside: not empty
    assert empty_page_proven(req, None, minutes(50, 0)[0]) is None


@given(gaps=intervals, lanes=st.integers(1, 5))
def test_lanes_split_the_missing_ranges_without_losing_or_duplicating_bars(
        gaps: list[tuple[int, int]], lanes: int) -> None:
    parts = split_lanes(gaps, lanes, M1)
    flat = [iv for part in parts for iv in part]
    assert len(parts) <= lanes
    assert merge(flat) == merge(gaps)
    assert total(flat) == total(gaps)
    assert all((s - T0) % MINUTE_MS == 0 and (e - T0) % MINUTE_MS == 0 for s, e in flat)


def test_known_empty_minutes_come_from_fetched_windows_without_bars() -> None:
    ts = np.array([minutes(i, 0)[0] for i in (0, 1, 2, 5, 6)], dtype=np.int64)
    cov = Coverage(M1, fetched=[minutes(0, 10)], stored=runs(ts, MINUTE_MS))
    assert cov.known_empty == [minutes(3, 5), minutes(7, 10)]
    assert missing(M1, *minutes(0, 10), cov) == []
