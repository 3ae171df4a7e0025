"""FundingService paging and coverage with fakes at the edges, and Binance funding rows parsed from the wire."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from app.market_data.exchange import RejectedRow
from app.market_data.funding import FundingPage, FundingService
from domain.futures import FundingRates
from domain.market.intervals import Interval, merge
from infrastructure.exchanges.parsing import parse_funding

H8 = 8 * 3_600_000


class FakeSource:
    """Funding every 8 h from t=0 with rate = event number × 1e-6; `limit` events a page; optional bad page."""

    def __init__(self, limit: int = 4, reject_first: bool = False) -> None:
        self.funding_limit = limit
        self.requests: list[tuple[int, int]] = []
        self.reject_first = reject_first

    async def fetch_funding(self, symbol: str, window: tuple[int, int]) -> FundingPage:
        self.requests.append(window)
        start, end = window
        ts = np.arange(-(-start // H8), -(-end // H8), dtype=np.int64)[: self.funding_limit] * H8
        rates = FundingRates.from_columns(ts, ts / H8 * 1e-6)
        if self.reject_first and len(self.requests) == 1:
            return FundingPage(rates, len(ts) + 1, (RejectedRow(0, "fundingRate is not a number"),))
        return FundingPage(rates, len(ts))


class FakeRepository:
    def __init__(self) -> None:
        self.rates = FundingRates.empty()
        self.windows: list[Interval] = []

    def upsert(self, exchange: str, symbol: str, rates: FundingRates, proven: Interval | None = None) -> int:
        self.rates = self.rates.merge(rates)
        if proven is not None:
            self.windows = merge([*self.windows, proven])
        return len(rates)

    def read(self, exchange: str, symbol: str, start_ms: int | None = None, end_ms: int | None = None) -> FundingRates:
        return self.rates.slice_time(start_ms, end_ms)

    def proven(self, exchange: str, symbol: str) -> list[Interval]:
        return list(self.windows)


class FakeFiles:
    def read(self, path: Path | str) -> FundingRates:
        return FundingRates.from_columns([0, H8, 3 * H8], [1e-4, 2e-4, 3e-4])


class FakeClock:
    def __init__(self, now: int) -> None:
        self.now = now

    def now_ms(self) -> int:
        return self.now


def service(source: FakeSource, repo: FakeRepository, now: int = 10**12) -> FundingService:
    return FundingService(repo, lambda exchange: source, FakeFiles(), FakeClock(now))


async def test_a_full_page_proves_only_up_to_its_last_event_and_the_next_request_starts_after_it() -> None:
    source, repo = FakeSource(limit=4), FakeRepository()
    summary = await service(source, repo).collect("binance", "BTCUSDT", 0, 10 * H8)
    assert source.requests == [(0, 10 * H8), (3 * H8 + 1, 10 * H8), (7 * H8 + 1, 10 * H8)]
    assert summary.requests == 3 and summary.stored == 10
    assert repo.windows == [(0, 10 * H8)]
    assert repo.rates.ts.tolist() == [k * H8 for k in range(10)]


async def test_a_page_with_rejected_rows_is_stored_but_not_proven_so_the_next_run_asks_again() -> None:
    source, repo = FakeSource(limit=100, reject_first=True), FakeRepository()
    await service(source, repo).collect("binance", "BTCUSDT", 0, 5 * H8)
    assert repo.windows == [] and len(repo.rates) == 5
    await service(source, repo).collect("binance", "BTCUSDT", 0, 5 * H8)
    assert repo.windows == [(0, 5 * H8)] and len(source.requests) == 2


async def test_progress_counts_requests_done_against_an_estimate() -> None:
    source, repo = FakeSource(limit=2), FakeRepository()
    seen: list[tuple[int, int]] = []
    await service(source, repo).collect("binance", "BTCUSDT", 0, 6 * H8, lambda d, t: seen.append((d, t)))
    # three full pages, then one more to prove the window's tail [5 × 8 h + 1, 6 × 8 h) holds no event
    assert [d for d, _ in seen] == [1, 2, 3, 4] and seen[-1] == (4, 4)
    assert all(d <= t for d, t in seen)


def test_an_imported_file_proves_its_span_up_to_the_next_event_by_its_shortest_spacing() -> None:
    repo = FakeRepository()
    result = service(FakeSource(), repo).import_file("f.csv", "binance", "BTCUSDT")
    assert (result.events, result.first_ts, result.last_ts) == (3, 0, 3 * H8)
    assert repo.windows == [(0, 4 * H8)]
    cov = service(FakeSource(), repo).coverage("binance", "BTCUSDT", 0, 5 * H8)
    assert not cov.covered and cov.missing == ((4 * H8, 5 * H8),) and cov.events == 3


def test_binance_funding_rows_parse_with_unknown_marks_and_rejected_rows_named() -> None:
    data = [
        {"symbol": "BTCUSDT", "fundingTime": 1_704_096_000_000, "fundingRate": "0.00010000", "markPrice": "42000.1"},
        {"symbol": "BTCUSDT", "fundingTime": 1_704_067_200_000, "fundingRate": "-0.00002500", "markPrice": ""},
        {"symbol": "BTCUSDT", "fundingTime": "soon", "fundingRate": "0.0001"},
        {"symbol": "BTCUSDT", "fundingTime": 1_704_124_800_000, "fundingRate": "lots"},
        {"symbol": "BTCUSDT", "fundingTime": 1_704_096_000_000, "fundingRate": "0.0003"},
        ["not", "an", "object"],
    ]
    rates, rejected, returned = parse_funding("binance", data)
    assert returned == 6
    assert rates.ts.tolist() == [1_704_067_200_000, 1_704_096_000_000]
    assert rates.rate.tolist() == [-0.000025, 0.0001]
    assert math.isnan(rates.mark[0]) and rates.mark[1] == 42000.1
    assert [(r.row, r.reason) for r in rejected] == [
        (2, "fundingTime is not an integer ('soon')"), (3, "fundingRate is not a number ('lots')"),
        (4, "fundingTime 1704096000000 appears twice"), (5, "row is not an object")]


def test_a_funding_answer_that_is_not_a_list_is_refused() -> None:
    with pytest.raises(ValueError, match="not a list of funding rows"):
        parse_funding("binance", {"code": -1121, "msg": "Invalid symbol."})
