"""The backtest JSON's trade rows and times, built column-wise, say exactly what the per-trade path said."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from app.commands.backtest import trade_rows
from app.commands.output import iso_times
from app.timeparse import format_ms
from domain.backtest import TradeTable

YEARS_1000_TO_9999 = st.integers(min_value=-30_610_224_000_000, max_value=253_402_300_799_999)


@given(st.lists(st.one_of(YEARS_1000_TO_9999, YEARS_1000_TO_9999.map(lambda ms: ms - ms % 60_000)), max_size=40))
def test_iso_times_equal_format_ms_for_every_four_digit_year_with_and_without_milliseconds(values: list[int]) -> None:
    ms = np.array(values, dtype=np.int64)
    assert iso_times(ms) == [format_ms(v) for v in values]


def test_times_outside_four_digit_years_still_format_as_format_ms_does() -> None:
    values = [-62_135_596_800_000, 0, 1_700_000_000_123]  # year 1 sends the whole column the slow way
    assert iso_times(np.array(values, dtype=np.int64)) == [format_ms(v) for v in values]


def per_trade_rows(trades: TradeTable) -> list[dict[str, object]]:
    """What the command printed before: `records()` with times formatted and the duration in days."""
    rows = trades.records()
    for t in rows:
        t["entry_time"], t["exit_time"] = format_ms(t["entry_time"]), format_ms(t["exit_time"])
        t["duration_days"] = t.pop("duration_ms") / 86_400_000
    return rows


def test_trade_rows_equal_the_per_trade_records_key_for_key_and_in_order() -> None:
    rng = np.random.default_rng(7)
    n = 500
    entry = np.sort(rng.integers(1_600_000_000_000, 1_700_000_000_000, n)) // 1000 * 1000
    exit_ = entry + rng.integers(60_000, 10**9, n)
    exit_[::7] += 123  # some exits carry milliseconds
    trades = TradeTable(
        side=rng.choice(np.array([1, -1], dtype=np.int8), n), size=rng.random(n) * 10,
        entry_bar=np.arange(n, dtype=np.int64), exit_bar=np.arange(n, dtype=np.int64) + 3, entry_time=entry,
        exit_time=exit_, entry_price=rng.random(n) * 100, exit_price=rng.random(n) * 100, pnl=rng.normal(size=n),
        return_pct=rng.normal(size=n), commission=rng.random(n), duration_ms=exit_ - entry,
        exit_reason=rng.integers(0, 6, n).astype(np.int8), funding=rng.normal(size=n))
    ours, theirs = trade_rows(trades), per_trade_rows(trades)
    assert ours == theirs
    assert [list(row) for row in ours] == [list(row) for row in theirs]
    assert all(type(a) is type(b) for x, y in zip(ours, theirs, strict=True) for a, b in zip(x.values(), y.values(),
                                                                                              strict=True))
    assert trade_rows(TradeTable.empty()) == []
