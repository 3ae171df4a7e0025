"""Engine rules beyond backtesting.py's reach, checked against a slow bar-by-bar reference."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest
from backtest_reference import Ref
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.backtest import BacktestSettings, InvalidSettings, simulate
from domain.backtest.engine import FULL_EQUITY
from domain.market import CandleSeries, Timeframe
from domain.strategy import Risk

Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Sig:
    entry_long: Bools
    exit_long: Bools
    entry_short: Bools
    exit_short: Bools


def walk(n: int = 1500, seed: int = 0, vol: float = 0.01) -> CandleSeries:
    rng = np.random.default_rng(seed)
    close = 50 * np.exp(np.cumsum(rng.normal(0, vol, n)))
    open_ = np.r_[close[0], close[:-1]] * np.exp(rng.normal(0, vol / 3, n))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, vol, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, vol, n))
    return CandleSeries.from_columns(Timeframe.M1, np.arange(n) * 60_000, open_, high, low, close, np.ones(n))


def signals(n: int, seed: int, direction: str, p: float = 0.03) -> Sig:
    rng = np.random.default_rng(seed + 100)
    el, xl, es, xs = (rng.random(n) < p for _ in range(4))
    if direction == "long_only":
        es = xs = np.zeros(n, bool)
    if direction == "short_only":
        el = xl = np.zeros(n, bool)
    return Sig(el, xl, es, xs)


def reference(series: CandleSeries, sig: Sig, risk: Risk, st: BacktestSettings) -> Ref:
    pct = lambda v: v / 100 if v else None  # noqa: E731
    frac = min(risk.position_size_pct / 100, FULL_EQUITY)
    ref = Ref(list(series.open), list(series.high), list(series.low), list(series.close), st.cash,
              st.commission, st.slippage, st.lot_size, frac, pct(risk.stop_loss_pct),
              pct(risk.take_profit_pct), pct(risk.trailing_stop_pct), st.trade_on_close, st.finalize_trades)
    return ref.run(*(list(getattr(sig, f)) for f in ("entry_long", "exit_long", "entry_short", "exit_short")))


def assert_matches_reference(series: CandleSeries, sig: Sig, direction: str, risk: Risk,
                             st: BacktestSettings) -> list[str]:
    got = simulate(series, sig, direction, risk, st)
    ref = reference(series, sig, risk, st)
    t = got.trades
    assert len(t) == len(ref.trades)
    for k, (side, size, ebar, xbar, entry, exit_, pnl, reason) in enumerate(ref.trades):
        assert (t.side[k], t.entry_bar[k], t.exit_bar[k], t.reasons()[k]) == (side, ebar, xbar, reason)
        assert t.size[k] == pytest.approx(size, rel=1e-12)
        assert t.entry_price[k] == pytest.approx(entry, rel=1e-12)
        assert t.exit_price[k] == pytest.approx(exit_, rel=1e-12)
        assert t.pnl[k] == pytest.approx(pnl, rel=1e-9, abs=1e-9)
    np.testing.assert_allclose(got.equity, ref.equity, rtol=1e-9)
    return t.reasons()


DIRECTIONS = ("long_only", "short_only", "long_short")


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("on_close", [False, True])
def test_trailing_stop_follows_the_best_price_since_entry_like_the_reference(direction: str, seed: int,
                                                                            on_close: bool) -> None:
    series = walk(seed=seed)
    risk = Risk(100, 3.0 if seed % 2 else None, 4.0 if seed == 3 else None, 1.2)
    st = BacktestSettings(commission=0.001, trade_on_close=on_close, lot_size=1)
    reasons = assert_matches_reference(series, signals(len(series), seed, direction), direction, risk, st)
    assert "trailing" in reasons


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_slippage_fractional_lots_and_finalize_match_the_reference(direction: str) -> None:
    series = walk(seed=9)
    st = BacktestSettings(cash=1000, commission=0.0005, slippage=0.001, lot_size=1e-8, finalize_trades=True)
    assert_matches_reference(series, signals(len(series), 9, direction), direction, Risk(75, 2.0, 3.0), st)


def test_fractional_lot_sizes_are_multiples_of_the_lot_unlike_backtesting_py_whole_units() -> None:
    # Deliberate difference: backtesting.py only trades whole units (a BTC at 50,000 with 10,000 cash
    # would be refused); crypto lots are fractional, floored to the exchange's step.
    series = walk(n=50, seed=1)
    sig = signals(50, 1, "long_only", p=0.5)
    got = simulate(series, sig, "long_only", Risk(100), BacktestSettings(cash=10, lot_size=0.001))
    assert len(got.trades) > 0
    steps = got.trades.size / 0.001
    np.testing.assert_allclose(steps, np.round(steps), atol=1e-6)
    assert (got.trades.size < 1).all()


def test_slippage_is_charged_on_entry_and_on_exit() -> None:
    # Deliberate difference: backtesting.py's `spread` moves only the entry price.
    n = 6
    flat = CandleSeries.from_columns(Timeframe.D1, np.arange(n) * 86_400_000, [100.0] * n, [100.0] * n,
                                     [100.0] * n, [100.0] * n, [1.0] * n)
    z = np.zeros(n, bool)
    sig = Sig(np.array([0, 1, 0, 0, 0, 0], bool), np.array([0, 0, 0, 1, 0, 0], bool), z, z)
    got = simulate(flat, sig, "long_only", Risk(100), BacktestSettings(cash=10_000, slippage=0.01, lot_size=1))
    assert got.trades.entry_price[0] == pytest.approx(101.0)
    assert got.trades.exit_price[0] == pytest.approx(99.0)
    assert got.trades.size[0] == 99  # 10,000 // 101


def test_finalize_closes_at_the_last_close_with_reason_end() -> None:
    # Deliberate difference: backtesting.py's finalize_trades re-runs the last bar and fills at its open.
    series = walk(n=40, seed=2)
    el = np.zeros(40, bool)
    el[5] = True
    z = np.zeros(40, bool)
    got = simulate(series, Sig(el, z, z, z), "long_only", Risk(100), BacktestSettings(finalize_trades=True))
    assert got.trades.exit_bar[-1] == 39 and got.trades.reasons()[-1] == "end"
    assert got.trades.exit_price[-1] == series.close[-1]
    assert got.equity[-1] == pytest.approx(10_000 + got.trades.pnl.sum())
    open_ = simulate(series, Sig(el, z, z, z), "long_only", Risk(100), BacktestSettings())
    assert len(open_.trades) == 0 and open_.open_position is not None and open_.open_position.entry_bar == 6


def test_a_stop_and_a_target_hit_in_the_same_bar_exit_at_the_stop() -> None:
    o = np.array([100.0, 100, 100, 100])
    h = np.array([100.0, 100, 110, 100])
    lo = np.array([100.0, 100, 90, 100])
    series = CandleSeries.from_columns(Timeframe.D1, np.arange(4) * 86_400_000, o, h, lo, o, np.ones(4))
    z = np.zeros(4, bool)
    got = simulate(series, Sig(np.array([0, 1, 0, 0], bool), z, z, z), "long_only", Risk(100, 5, 5),
                   BacktestSettings(lot_size=1))
    assert got.trades.reasons() == ["stop"] and got.trades.exit_price[0] == 95.0


def test_a_short_squeezed_past_zero_equity_ends_the_run() -> None:
    n = 10
    close = np.array([10.0, 10, 10, 15, 25, 40, 60, 80, 90, 95])
    series = CandleSeries.from_columns(Timeframe.D1, np.arange(n) * 86_400_000, close, close, close, close,
                                       np.ones(n))
    z = np.zeros(n, bool)
    es = z.copy()
    es[1] = True
    got = simulate(series, Sig(z, z, es, z), "short_only", Risk(100), BacktestSettings(cash=1000, lot_size=1))
    assert got.trades.size[0] == 99  # 100 % of equity is 1 − ε of it, as in backtesting.py: 999.99… // 10
    assert got.equity[3] == 1000 - 99 * 5 and (got.equity[4:] == 0).all()
    assert got.trades.reasons() == ["end"] and got.trades.exit_bar[0] == 4


def test_cutting_off_future_bars_never_changes_earlier_trades_or_equity() -> None:
    series = walk(n=800, seed=5)
    sig = signals(800, 5, "long_short")
    risk, st = Risk(100, 2.0, 3.0, 1.5), BacktestSettings(commission=0.001)
    full = simulate(series, sig, "long_short", risk, st)
    cut = 500
    part_sig = Sig(*(getattr(sig, f)[:cut] for f in ("entry_long", "exit_long", "entry_short", "exit_short")))
    part = simulate(series.take(slice(0, cut)), part_sig, "long_short", risk, st)
    np.testing.assert_array_equal(part.equity, full.equity[:cut])
    k = len(part.trades)
    assert k > 5
    np.testing.assert_array_equal(part.trades.exit_bar, full.trades.exit_bar[:k])
    np.testing.assert_array_equal(part.trades.pnl, full.trades.pnl[:k])


@pytest.mark.parametrize(("field", "value"), [("cash", -1.0), ("commission", 0.1), ("commission", -0.01),
                                              ("lot_size", 0.0), ("slippage", float("nan"))])
def test_out_of_range_settings_are_refused_naming_the_setting(field: str, value: float) -> None:
    st = BacktestSettings(**{field: value})
    with pytest.raises(InvalidSettings, match=field):
        simulate(walk(n=10), signals(10, 0, "long_only"), "long_only", Risk(), st)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), direction=st.sampled_from(DIRECTIONS),
       sl=st.sampled_from([None, 0.5, 2.0]), tp=st.sampled_from([None, 1.0, 3.0]),
       trail=st.sampled_from([None, 0.7, 2.5]), size=st.sampled_from([100.0, 60.0]),
       lot=st.sampled_from([1.0, 0.01]), commission=st.sampled_from([0.0, 0.001]),
       slippage=st.sampled_from([0.0, 0.0005]), on_close=st.booleans(), finalize=st.booleans())
def test_any_mix_of_rules_matches_the_bar_by_bar_reference(seed: int, direction: str, sl: float | None,
                                                           tp: float | None, trail: float | None, size: float,
                                                           lot: float, commission: float, slippage: float,
                                                           on_close: bool, finalize: bool) -> None:
    series = walk(n=300, seed=seed, vol=0.02)
    st_ = BacktestSettings(cash=1000, commission=commission, slippage=slippage, lot_size=lot,
                           trade_on_close=on_close, finalize_trades=finalize)
    assert_matches_reference(series, signals(300, seed, direction, p=0.05), direction, Risk(size, sl, tp, trail), st_)
