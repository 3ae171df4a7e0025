"""Trades into bars: the streamed bars equal bars computed from all trades at once."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.live.aggregator import BarAggregator, TradeAggregator
from domain.market import Candle, CandleSeries, Timeframe

T0 = 1_700_000_040_000  # a minute boundary


def _reference(ts: np.ndarray, price: np.ndarray, vol: np.ndarray, tf: Timeframe) -> CandleSeries:
    bucket = ts - ts % tf.ms
    starts = np.concatenate([[0], np.nonzero(np.diff(bucket))[0] + 1])
    ends = np.concatenate([starts[1:], [len(ts)]])
    return CandleSeries.from_columns(
        tf, bucket[starts], price[starts], np.maximum.reduceat(price, starts), np.minimum.reduceat(price, starts),
        price[ends - 1], np.round(np.add.reduceat(vol, starts), 8))


trades = st.lists(st.tuples(st.integers(0, 30 * 60_000), st.integers(1, 10_000), st.integers(1, 10**6)),
                  min_size=1, max_size=300)


@given(trades)
@settings(max_examples=150, deadline=None)
def test_streamed_one_minute_bars_equal_bars_built_from_all_trades(rows: list[tuple[int, int, int]]) -> None:
    rows.sort(key=lambda r: r[0])
    ts = np.array([T0 + r[0] for r in rows], dtype=np.int64)
    price = np.array([r[1] * 1.5 for r in rows])
    vol = np.array([r[2] * 1e-8 for r in rows])
    agg = TradeAggregator(Timeframe.M1)
    bars = [b for t, p, v in zip(ts.tolist(), price.tolist(), vol.tolist(), strict=True) if (b := agg.add(t, p, v))]
    last = agg.flush(int(ts[-1]) + 60_000)
    assert last is not None
    bars.append(last)
    assert CandleSeries.from_candles(Timeframe.M1, bars) == _reference(ts, price, vol, Timeframe.M1)


@given(trades)
@settings(max_examples=100, deadline=None)
def test_five_minute_bars_roll_up_from_one_minute_bars_like_the_exchange(rows: list[tuple[int, int, int]]) -> None:
    rows.sort(key=lambda r: r[0])
    base, higher = TradeAggregator(Timeframe.M1), BarAggregator(Timeframe.M1, Timeframe.M5)
    got: dict[Timeframe, list[Candle]] = {Timeframe.M1: [], Timeframe.M5: []}

    def roll(bar: Candle | None) -> None:
        if bar is not None:
            got[Timeframe.M1].append(bar)
            got[Timeframe.M5].extend(higher.add(bar))

    for t, p, v in rows:
        roll(base.add(T0 + t, p * 1.0, v * 1e-8))
    roll(base.flush(T0 + 10**9))
    last = higher.flush(T0 + 10**9)
    if last is not None:
        got[Timeframe.M5].append(last)
    ts = np.array([T0 + r[0] for r in rows], dtype=np.int64)
    price = np.array([r[1] * 1.0 for r in rows])
    vol = np.array([r[2] * 1e-8 for r in rows])
    one = _reference(ts, price, vol, Timeframe.M1)
    assert CandleSeries.from_candles(Timeframe.M1, got[Timeframe.M1]) == one
    five = one.resample(Timeframe.M5)  # what the exchange does: 1m bars rolled up, volume re-rounded
    expected = CandleSeries.from_columns(Timeframe.M5, five.ts, five.open, five.high, five.low, five.close,
                                         np.round(five.volume, 8))
    assert CandleSeries.from_candles(Timeframe.M5, got[Timeframe.M5]) == expected


def test_a_bar_closes_when_a_trade_of_the_next_minute_arrives() -> None:
    agg = TradeAggregator(Timeframe.M1)
    assert agg.add(T0 + 1, 100.0, 1.0) is None
    assert agg.add(T0 + 2, 105.0, 1.0) is None
    assert agg.add(T0 + 3, 99.0, 1.0) is None
    closed = agg.add(T0 + 60_000, 101.0, 2.0)
    assert closed == Candle(T0, 100.0, 105.0, 99.0, 99.0, 3.0)
    assert agg.current() == Candle(T0 + 60_000, 101.0, 101.0, 101.0, 101.0, 2.0)


def test_quiet_minutes_produce_no_bar_and_late_trades_are_counted_not_folded_in() -> None:
    agg = TradeAggregator(Timeframe.M1)
    agg.add(T0, 100.0, 1.0)
    closed = agg.add(T0 + 5 * 60_000, 101.0, 1.0)
    assert closed is not None and closed.ts == T0
    assert agg.add(T0 + 30_000, 50.0, 1.0) is None
    assert agg.late == 1
    assert agg.current() == Candle(T0 + 5 * 60_000, 101.0, 101.0, 101.0, 101.0, 1.0)


def test_the_clock_closes_a_bar_once_its_minute_is_over() -> None:
    agg = TradeAggregator(Timeframe.M1)
    agg.add(T0 + 10, 100.0, 1.0)
    assert agg.flush(T0 + 59_999) is None
    assert agg.flush(T0 + 60_000) == Candle(T0, 100.0, 100.0, 100.0, 100.0, 1.0)
    assert agg.flush(T0 + 120_000) is None


def test_the_last_minute_of_an_hour_closes_the_hour_bar_without_waiting() -> None:
    hour = BarAggregator(Timeframe.M1, Timeframe.H1)
    start = Timeframe.H1.floor(T0)
    assert hour.add(Candle(start, 1.0, 2.0, 0.5, 1.5, 1.0)) == []
    done = hour.add(Candle(start + 59 * 60_000, 1.5, 3.0, 1.0, 2.5, 2.0))
    assert done == [Candle(start, 1.0, 3.0, 0.5, 2.5, 3.0)]
