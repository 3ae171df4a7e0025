"""Exchange rows → candle columns: good rows kept in time order, malformed ones rejected with a reason."""

from __future__ import annotations

from typing import Any

from domain.market import Timeframe
from infrastructure.exchanges.parsing import binance_row, parse_rows, upbit_row

M1 = Timeframe.M1


def upbit(ts: str, o: Any = 100.0, h: Any = 110.0, lo: Any = 90.0, c: Any = 105.0, v: Any = 1.5) -> dict[str, Any]:
    return {"market": "KRW-BTC", "candle_date_time_utc": ts, "opening_price": o, "high_price": h, "low_price": lo,
            "trade_price": c, "candle_acc_trade_volume": v}


def test_upbit_rows_arrive_newest_first_and_leave_oldest_first_as_ms_utc() -> None:
    rows = [upbit("2024-01-01T00:02:00"), upbit("2024-01-01T00:00:00")]
    series, rejected, returned = parse_rows("upbit", rows, M1, upbit_row)
    assert list(series.ts) == [1_704_067_200_000, 1_704_067_320_000]
    assert rejected == () and returned == 2


def test_malformed_upbit_rows_are_rejected_with_a_reason_and_counted() -> None:
    rows = [upbit("2024-01-01T00:05:00"), upbit("2024-01-01T00:04:00", h="NaN?"), upbit("not a time"),
            {"candle_date_time_utc": "2024-01-01T00:03:00"}, upbit("2024-01-01T00:02:00", h=50.0),
            upbit("2024-01-01T00:01:30"), upbit("2024-01-01T00:01:00", v=-1), upbit("2024-01-01T00:05:00"),
            upbit("2024-01-01T00:00:00", o=True), "junk"]
    series, rejected, returned = parse_rows("upbit", rows, M1, upbit_row)
    reasons = [r.reason for r in rejected]
    assert list(series.ts) == [1_704_067_500_000]
    assert returned == 10 and len(rejected) == 9
    assert "high_price is not a number ('NaN?')" in reasons
    assert any("candle_date_time_utc" in r for r in reasons)
    assert any("field opening_price is missing" in r for r in reasons)
    assert any("inconsistent" in r for r in reasons)
    assert any("bar boundary" in r for r in reasons)
    assert "volume is negative" in reasons
    assert any("appears twice" in r for r in reasons)
    assert [r.row for r in rejected][-1] == 9


def test_binance_klines_are_read_from_string_prices_and_bad_arrays_rejected() -> None:
    good = [1_704_067_200_000, "100.5", "101", "99.5", "100", "3.25", 0, "0", 1, "0", "0", "0"]
    bad_price = [1_704_067_260_000, "100.5", "oops", "99.5", "100", "3", 0, "0", 1, "0", "0", "0"]
    short = [1_704_067_320_000, "1"]
    series, rejected, _ = parse_rows("binance", [good, bad_price, short], M1, binance_row)
    assert list(series.close) == [100.0] and list(series.volume) == [3.25]
    assert [r.reason for r in rejected] == ["high is not a number ('oops')", "row is not a kline array"]


def test_the_columnar_fast_path_and_the_row_by_row_path_read_the_same_answer() -> None:
    from infrastructure.exchanges.parsing import fast_upbit

    rows = [upbit(f"2024-01-01T00:{m:02d}:00", o=100 + m, h=120 + m, lo=90, c=101, v=m * 0.5) for m in (9, 3, 1)]
    fast = fast_upbit(rows, M1)
    slow, _, _ = parse_rows("upbit", [*rows, "junk"], M1, upbit_row)
    assert fast is not None and fast == slow
    assert fast_upbit([*rows, upbit("2024-01-01T00:07:00", o=True)], M1) is None
