"""The schema-2 loop gives, on schema-1 risk, exactly what the v1 loop gives: one set of rules, two speeds."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.backtest import BacktestSettings
from domain.backtest.engine import simulate
from domain.backtest.risk_arrays import ScaleSpec, atr_rows, atr_table
from domain.backtest.run import run_backtest
from domain.indicators import CATALOG
from domain.market import CandleSeries, Timeframe
from domain.strategy import Risk, parse_strategy
from domain.strategy.risk import Distance, TakeProfitLevel, Trailing


def walk(n: int, seed: int) -> CandleSeries:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.r_[close[0], close[:-1]] * np.exp(rng.normal(0, 0.004, n))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.01, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.01, n))
    return CandleSeries.from_columns(Timeframe.H1, np.arange(n, dtype=np.int64) * 3_600_000, open_, high, low, close,
                                     np.ones(n))


class Sig:
    def __init__(self, n: int, seed: int, p: float) -> None:
        rng = np.random.default_rng(seed)
        self.entry_long, self.exit_long, self.entry_short, self.exit_short = (rng.random(n) < p for _ in range(4))


pct = st.one_of(st.none(), st.floats(0.2, 8.0))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), pct, pct, pct, st.sampled_from(["long_only", "short_only", "long_short"]),
       st.booleans(), st.booleans(), st.sampled_from([1.0, 0.01, 1e-8]), st.floats(0, 0.003), st.floats(0, 0.003))
def test_the_v2_loop_equals_the_v1_loop_bit_for_bit_on_v1_risk(seed: int, sl: float | None, tp: float | None,
                                                               trail: float | None, direction: str, on_close: bool,
                                                               finalize: bool, lot: float, comm: float,
                                                               slip: float) -> None:
    series = walk(400, seed)
    sig = Sig(400, seed, 0.04)
    cfg = BacktestSettings(cash=10_000, commission=comm, slippage=slip, lot_size=lot, trade_on_close=on_close,
                           finalize_trades=finalize)
    risk = Risk(100 if seed % 2 else 60, sl, tp, trail)
    v1 = simulate(series, sig, direction, risk, cfg)
    v2 = simulate(series, sig, direction, risk, cfg, scale=ScaleSpec(np.zeros(400, bool), 50, 1))  # forces v2
    assert np.array_equal(v1.equity, v2.equity)
    for name, column in v1.trades.columns().items():
        assert np.array_equal(column, getattr(v2.trades, name)), name
    assert v1.open_position == v2.open_position


@pytest.mark.parametrize("direction", ["long_only", "short_only"])
def test_a_v1_run_has_trades_to_compare(direction: str) -> None:
    series = walk(400, 1)
    got = simulate(series, Sig(400, 1, 0.04), direction, Risk(100, 2, 4, 3), BacktestSettings())
    assert len(got.trades) > 10


def test_ten_levels_reached_on_every_bar_write_every_partial_close_within_the_trades_table() -> None:
    n = 300
    rng = np.random.default_rng(1)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
    open_ = np.r_[close[0], close[:-1]]
    high, low = np.maximum(open_, close) * 1.2, np.minimum(open_, close) * 0.999  # every bar reaches every level
    series = CandleSeries.from_columns(Timeframe.H1, np.arange(n, dtype=np.int64) * 3_600_000, open_, high, low,
                                       close, np.ones(n))
    levels = tuple(TakeProfitLevel(Distance.pct(0.5 * (j + 1)), 10.0) for j in range(10))
    signals = Sig(n, 0, 0.0)
    signals.entry_long = np.ones(n, dtype=np.bool_)  # an entry decided on every close
    sim = simulate(series, signals, "long_only", Risk(100, None, levels), BacktestSettings(lot_size=1e-6))
    t = sim.trades
    assert len(t) > 4 * n  # more rows than bars: each position closes in ten parts
    assert (np.bincount(t.entry_bar)[2:] == 10).all() and (t.exit_reason == 2).all()  # a position a bar
    assert sim.equity[-1] == pytest.approx(10_000 + float(t.pnl.sum()))


@pytest.mark.parametrize("n", [5, 14, 15, 400])
def test_atr_distance_rows_are_the_catalog_atr_times_each_multiple_bit_for_bit(n: int) -> None:
    series = walk(n, 4)
    risk = Risk(50, Distance.atr(14, 2.5), (TakeProfitLevel(Distance.atr(14, 1.5), 50.0),
                                            TakeProfitLevel(Distance.pct(3), 50.0)), Distance.atr(3, 0.7))
    rows = atr_rows(series, risk)
    atr = {p: CATALOG["atr"].compute(series, {"period": p})["value"] for p in (3, 14)}
    expected = [2.5 * atr[14], 0.7 * atr[3], 1.5 * atr[14], np.full(n, np.nan)]
    for row, want in zip(rows, expected, strict=True):
        assert np.array_equal(row, want, equal_nan=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.sampled_from([5, 14, 15, 16, 400]), st.sampled_from([1, 3, 14, 20]),
       st.sampled_from([2, 14]), st.sampled_from(["extreme", "close"]), st.booleans(), st.booleans(),
       st.integers(1, 30), st.sampled_from(["long_only", "short_only", "long_short"]))
def test_the_loop_computing_its_own_atr_equals_the_run_given_the_catalog_atr_rows_bit_for_bit(
        seed: int, n: int, sl_period: int, tp_period: int, anchor: str, on_close: bool, scale: bool, start: int,
        direction: str) -> None:
    """The ATRs of the stop, the take-profit levels and the trailing stop, computed inside the loop as it goes
    (the lone backtest), give the same run as the catalog's ATR rows computed beforehand (a sweep's)."""
    series = walk(n, seed)
    risk = Risk(50, Distance.atr(sl_period, 2.5), (TakeProfitLevel(Distance.atr(tp_period, 1.5), 50.0),
                                                   TakeProfitLevel(Distance.pct(3), 50.0)),
                Trailing(Distance.atr(3, 0.7), anchor))
    cfg = BacktestSettings(cash=10_000, trade_on_close=on_close, lot_size=1e-6)
    adds = ScaleSpec(np.random.default_rng(seed).random(n) < 0.1, 50, 2) if scale else None
    sig = Sig(n, seed, 0.08)
    own = simulate(series, sig, direction, risk, cfg, start=min(start, n - 1), scale=adds)
    given_rows = simulate(series, sig, direction, risk, cfg, start=min(start, n - 1), scale=adds,
                          atr=atr_table(series, risk))
    assert np.array_equal(own.equity, given_rows.equity)
    for name, column in own.trades.columns().items():
        assert np.array_equal(column, getattr(given_rows.trades, name)), name
    assert own.open_position == given_rows.open_position


@pytest.mark.parametrize("n", [5, 14, 15, 400])
def test_the_atr_table_gives_one_row_per_period_whose_multiples_are_the_distance_rows_bit_for_bit(n: int) -> None:
    series = walk(n, 5)
    risk = Risk(50, Distance.atr(14, 2.5), (TakeProfitLevel(Distance.atr(14, 1.5), 50.0),
                                            TakeProfitLevel(Distance.pct(3), 50.0)), Distance.atr(3, 0.7))
    rows, dist = atr_table(series, risk)
    for period, row in zip((3, 14), rows, strict=True):
        assert np.array_equal(row, CATALOG["atr"].compute(series, {"period": period})["value"], equal_nan=True)
    for want, (row, mult) in zip(atr_rows(series, risk), dist, strict=True):
        got = mult * rows[int(row)] if row >= 0 else np.full(n, np.nan)
        assert np.array_equal(got, want, equal_nan=True)


@pytest.mark.parametrize(("column", "value"), [("open", np.nan), ("low", 0.0), ("close", np.inf), ("high", -1.0)])
def test_a_run_with_atr_distances_still_names_the_first_bad_price(column: str, value: float) -> None:
    good = walk(300, 6)
    cols = {name: good.column(name).copy() for name in ("open", "high", "low", "close")}
    cols[column][123] = value
    series = CandleSeries.from_columns(Timeframe.H1, good.ts, cols["open"], cols["high"], cols["low"], cols["close"],
                                       np.ones(300))
    strategy = parse_strategy({
        "schema": 2, "name": "atr", "direction": "long_only",
        "entry_long": {"all": [{"left": {"var": "sma", "params": {"period": 5}}, "op": "crosses_above",
                                "right": {"var": "sma", "params": {"period": 20}}}]},
        "entry_short": None, "exit_long": None, "exit_short": None,
        "risk": {"position_size_pct": 50, "stop_loss": {"atr": {"period": 14, "mult": 2.5}}}})
    with pytest.raises(ValueError, match=f"bar 123 .*{column} price is"):
        run_backtest(strategy, series, BacktestSettings(cash=10_000))
