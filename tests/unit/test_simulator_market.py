"""The simulated market: deterministic per seed, lazily generated per day, bars consistent with trades."""

from __future__ import annotations

import numpy as np
import pytest

from domain.market import DAY_MS, MINUTE_MS, Timeframe
from infrastructure.simulator.market import SYMBOLS, SimulatedMarket, bars_from_trades, find_symbol
from infrastructure.simulator.state import simulator_candles
from infrastructure.simulator.upbit import parse_to

T0 = 1_704_067_200_000  # 2024-01-01
BTC = find_symbol("upbit", "KRW-BTC")


def test_the_same_seed_gives_the_same_candles_and_another_seed_other_ones() -> None:
    a = simulator_candles("upbit", "KRW-BTC", Timeframe.M1, T0, T0 + DAY_MS, seed=7)
    b = simulator_candles("upbit", "KRW-BTC", Timeframe.M1, T0, T0 + DAY_MS, seed=7)
    c = simulator_candles("upbit", "KRW-BTC", Timeframe.M1, T0, T0 + DAY_MS, seed=8)
    assert a == b
    assert not np.array_equal(a.close[:100], c.close[:100])


def test_a_day_generated_alone_equals_the_same_day_inside_a_longer_range() -> None:
    whole = simulator_candles("upbit", "KRW-BTC", Timeframe.M1, T0, T0 + 3 * DAY_MS)
    alone = simulator_candles("upbit", "KRW-BTC", Timeframe.M1, T0 + DAY_MS, T0 + 2 * DAY_MS)
    assert whole.slice_time(T0 + DAY_MS, T0 + 2 * DAY_MS) == alone


def test_upbit_markets_have_some_quiet_minutes_and_binance_markets_none() -> None:
    up = simulator_candles("upbit", "KRW-BTC", Timeframe.M1, T0, T0 + 2 * DAY_MS)
    bn = simulator_candles("binance", "BTCUSDT", Timeframe.M1, T0, T0 + 2 * DAY_MS)
    assert 0 < 2 * 1440 - len(up) < 0.15 * 2 * 1440
    assert len(bn) == 2 * 1440


def test_the_day_to_day_walk_is_continuous_so_each_day_opens_near_the_previous_close() -> None:
    days = simulator_candles("upbit", "KRW-BTC", Timeframe.D1, T0, T0 + 60 * DAY_MS)
    jumps = np.abs(days.open[1:] / days.close[:-1] - 1)
    assert jumps.max() < 0.01


@pytest.mark.parametrize("tf", [Timeframe.M5, Timeframe.H1, Timeframe.D1, Timeframe.W1])
def test_higher_timeframes_are_the_one_minute_bars_rolled_up(tf: Timeframe) -> None:
    start, end = tf.ceil(T0), tf.ceil(T0) + 2 * tf.ms
    direct = simulator_candles("upbit", "KRW-BTC", tf, start, end)
    minute = simulator_candles("upbit", "KRW-BTC", Timeframe.M1, start, end)
    rolled = minute.resample(tf)
    assert np.array_equal(direct.ts, rolled.ts)
    for f in ("open", "high", "low", "close"):
        assert np.array_equal(getattr(direct, f), getattr(rolled, f))
    assert np.allclose(direct.volume, rolled.volume)


def test_candles_are_valid_and_built_from_the_days_trades() -> None:
    m = SimulatedMarket(BTC, seed=0)
    day = T0 // DAY_MS
    trades = m.trades(day)
    bars = bars_from_trades(trades, MINUTE_MS)
    series = bars.to_series(Timeframe.M1)
    series.validate()
    assert bars.trades.sum() == len(trades.ts)
    assert series == simulator_candles("upbit", "KRW-BTC", Timeframe.M1, T0, T0 + DAY_MS)


def test_nothing_trades_before_the_listing_or_after_the_simulators_now() -> None:
    m = SimulatedMarket(SYMBOLS[0], seed=0)
    assert len(m.bars(Timeframe.M1, 0, 1_577_836_800_000, now_ms=T0)) == 0
    late = m.bars(Timeframe.M1, T0, T0 + DAY_MS, now_ms=T0 + 90 * MINUTE_MS + 1)
    assert late.ts.max() <= T0 + 90 * MINUTE_MS


@pytest.mark.parametrize("text", [
    "2024-01-01T09:00:00+09:00", "2024-01-01T00:00:00Z", "2024-01-01 00:00:00", "2024-01-01T00:00:00",
    "2024-01-01T09:00:00 09:00", "2024-01-01T00:00:00.000Z", "2024-01-01",
])
def test_upbit_to_is_read_in_every_iso_form_the_exchange_takes(text: str) -> None:
    assert parse_to(text) == T0


def test_a_busier_demo_market_trades_about_that_many_times_more_and_within_seconds() -> None:
    from infrastructure.simulator.state import SimulatorConfig, SimulatorState

    quiet = SimulatorState(SimulatorConfig(markets=("KRW-BTC",))).market("upbit", "KRW-BTC")
    busy = SimulatorState(SimulatorConfig(markets=("KRW-BTC",), activity=20.0)).market("upbit", "KRW-BTC")
    assert quiet is not None and busy is not None
    n_quiet, n_busy = len(quiet.trades(19_800).ts), len(busy.trades(19_800).ts)
    assert 15 < n_busy / n_quiet < 25
    gaps = np.diff(busy.trades(19_800).ts)
    assert np.median(gaps) < 2_000  # a new user sees a tick within a couple of seconds
