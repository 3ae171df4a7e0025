"""The futures loop: leverage sizing, isolated and cross liquidation on a bar path, and funding at funding times."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest

from domain.backtest import BacktestSettings, InvalidSettings, simulate
from domain.backtest.run import backtest_signals
from domain.futures import FundingRates
from domain.futures.liquidation import cross_liquidation_price, isolated_liquidation_price
from domain.market import CandleSeries, Timeframe
from domain.strategy import Risk
from domain.strategy.risk import Distance, TakeProfitLevel
from infrastructure.futures_brackets import load_default_brackets

BTC = load_default_brackets()["BTCUSDT"]
HOUR = 3_600_000
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Sig:
    entry_long: Bools
    exit_long: Bools
    entry_short: Bools
    exit_short: Bools


def bars(ohlc: list[tuple[float, float, float, float]]) -> CandleSeries:
    o, h, lo, c = (np.array(col, dtype=float) for col in zip(*ohlc, strict=True))
    n = len(o)
    return CandleSeries.from_columns(Timeframe.H1, np.arange(n, dtype=np.int64) * HOUR, o, h, lo, c, np.ones(n))


def enter(n: int, side: int, at: int = 1, leave: int | None = None) -> Sig:
    """Enter `side` on bar `at`'s close (filled at the next open); exit on bar `leave`'s close if given."""
    entry, exit_ = np.zeros(n, bool), np.zeros(n, bool)
    entry[at] = True
    if leave is not None:
        exit_[leave] = True
    none = np.zeros(n, bool)
    return Sig(entry, exit_, none, none) if side > 0 else Sig(none, none, entry, exit_)


def futures(leverage: int, margin: str = "isolated", funding: FundingRates | None = None) -> BacktestSettings:
    return BacktestSettings(cash=10_000.0, leverage=leverage, margin=margin, brackets=BTC, funding=funding)


FLAT = (100.0, 100.0, 100.0, 100.0)


def test_a_10x_long_on_a_falling_path_is_liquidated_at_exactly_its_liquidation_price_and_loses_its_margin() -> None:
    series = bars([FLAT, FLAT, FLAT, (95.0, 96.0, 85.0, 88.0), (88.0, 90.0, 87.0, 89.0)])
    sim = simulate(series, enter(5, 1), "long_only", Risk(50), futures(10))
    # 50 % of 10,000 as margin, 10×: notional 50,000 at 100 -> 500 BTC-units, isolated margin 5,000
    lp = isolated_liquidation_price(1, 500.0, 100.0, 5_000.0, BTC)
    assert lp == pytest.approx((50_000 - 5_000) / (500 * (1 - 0.004)), rel=1e-12)
    t = sim.trades
    assert t.reasons() == ["liquidation"]
    assert t.size[0] == pytest.approx(500.0) and t.exit_bar[0] == 3
    assert t.exit_price[0] == isolated_liquidation_price(1, t.size[0], 100.0, t.size[0] * 100.0 / 10, BTC)
    assert t.pnl[0] == pytest.approx(-5_000.0, abs=1e-6)
    assert sim.equity[3] == pytest.approx(5_000.0, abs=1e-6) and sim.equity[4] == sim.equity[3]
    assert sim.open_position is None


def test_a_10x_short_on_a_rising_path_is_liquidated_at_exactly_its_liquidation_price() -> None:
    series = bars([FLAT, FLAT, FLAT, (104.0, 112.0, 103.0, 111.0), FLAT])
    sim = simulate(series, enter(5, -1), "short_only", Risk(50), futures(10))
    lp = isolated_liquidation_price(-1, 500.0, 100.0, 5_000.0, BTC)
    # Q·LP ≈ 54,776 lies in BTCUSDT's second bracket (0.5 %, cum 50)
    assert lp == pytest.approx((50_000 + 5_000 + 50) / (500 * (1 + 0.005)), rel=1e-12)
    q = sim.trades.size[0]  # 500 floored to the 1e-8 step
    assert sim.trades.reasons() == ["liquidation"]
    assert sim.trades.exit_price[0] == isolated_liquidation_price(-1, q, 100.0, q * 100.0 / 10, BTC)
    assert sim.trades.pnl[0] == pytest.approx(-5_000.0, abs=1e-6)
    assert sim.equity[-1] == pytest.approx(5_000.0, abs=1e-6)


def test_a_bar_gapping_through_the_liquidation_price_fills_at_its_open_and_still_loses_only_the_margin() -> None:
    series = bars([FLAT, FLAT, FLAT, (80.0, 81.0, 75.0, 78.0), FLAT])
    sim = simulate(series, enter(5, 1), "long_only", Risk(50), futures(10))
    assert sim.trades.reasons() == ["liquidation"] and sim.trades.exit_price[0] == 80.0
    assert sim.equity[-1] == pytest.approx(5_000.0, abs=1e-6)


def test_a_stop_above_the_liquidation_price_fills_first_and_one_below_it_never_does() -> None:
    series = bars([FLAT, FLAT, FLAT, (99.0, 99.5, 85.0, 88.0), FLAT])
    stopped = simulate(series, enter(5, 1), "long_only", Risk(50, stop_loss=5.0), futures(10))
    assert stopped.trades.reasons() == ["stop"] and stopped.trades.exit_price[0] == pytest.approx(95.0)
    assert stopped.equity[-1] == pytest.approx(10_000 - 500 * 5.0, abs=1e-6)
    beyond = simulate(series, enter(5, 1), "long_only", Risk(50, stop_loss=12.0), futures(10))
    assert beyond.trades.reasons() == ["liquidation"]


def test_cross_margin_liquidates_when_equity_falls_to_the_maintenance_margin_and_loses_the_wallet() -> None:
    series = bars([FLAT, FLAT, FLAT, (95.0, 96.0, 88.0, 90.0), (90.0, 91.0, 75.0, 80.0), FLAT])
    sim = simulate(series, enter(6, 1), "long_only", Risk(50), futures(10, "cross"))
    # the whole wallet (10,000) backs the 500-unit long: LP = (50,000 − 10,000) / (500 × 0.996)
    lp = cross_liquidation_price(1, 500.0, 100.0, 10_000.0, BTC)
    assert lp == pytest.approx(40_000 / (500 * 0.996), rel=1e-12)
    assert sim.trades.reasons() == ["liquidation"] and sim.trades.exit_bar[0] == 4
    assert sim.trades.exit_price[0] == cross_liquidation_price(1, sim.trades.size[0], 100.0, 10_000.0, BTC)
    # at LP the equity equals the maintenance margin, which the exchange keeps: nothing is left
    assert 500 * lp * 0.004 == pytest.approx(10_000 + 500 * (lp - 100.0), rel=1e-9)
    assert sim.equity[4] == 0.0 and sim.equity[-1] == 0.0


def test_isolated_margin_survives_the_bar_that_liquidates_the_same_position_under_cross_only_beyond_its_lp() -> None:
    series = bars([FLAT, FLAT, FLAT, (95.0, 96.0, 88.0, 90.0), FLAT])
    iso = simulate(series, enter(5, 1), "long_only", Risk(50), futures(10, "isolated"))
    cross = simulate(series, enter(5, 1), "long_only", Risk(50), futures(10, "cross"))
    assert iso.trades.reasons() == ["liquidation"]  # isolated LP ≈ 90.36 > 88
    assert len(cross.trades) == 0 and cross.open_position is not None  # cross LP ≈ 80.32 < 88


def test_funding_held_across_known_funding_times_matches_the_sum_of_size_times_mark_times_rate() -> None:
    n = 30
    rng = np.random.default_rng(7)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, n)))
    open_ = np.r_[100.0, close[:-1]]
    series = bars([(o, max(o, c) * 1.001, min(o, c) * 0.999, c) for o, c in zip(open_, close, strict=True)])
    times = np.array([4, 8, 12, 16, 20, 24, 28], dtype=np.int64) * HOUR
    rates = np.array([1e-4, -3e-4, 2.5e-4, 1e-4, 7e-5, -1e-5, 4e-4])
    marks = np.array([101.5, np.nan, 99.25, np.nan, 100.75, 98.0, np.nan])  # missing: the bar's open
    sig = enter(n, 1, at=2, leave=21)  # filled at bar 3's open, closed at bar 22's open: pays at 4..20 h
    funding = FundingRates.from_columns(times, rates, marks)
    sim = simulate(series, sig, "long_only", Risk(10), futures(5, funding=funding))
    q = sim.trades.size[0]
    held = times <= 22 * HOUR
    mark = np.where(np.isnan(marks), open_[times // HOUR], marks)
    expected = -float(np.sum(q * mark[held] * rates[held]))
    assert sim.trades.funding[0] == pytest.approx(expected, abs=1e-9)
    assert sim.funding == pytest.approx(expected, abs=1e-9)
    price_pnl = q * (sim.trades.exit_price[0] - sim.trades.entry_price[0])
    assert sim.trades.pnl[0] == pytest.approx(price_pnl + expected, abs=1e-9)
    assert sim.equity[-1] == pytest.approx(10_000 + price_pnl + expected, abs=1e-9)


def test_funding_paid_into_an_isolated_margin_moves_the_liquidation_price() -> None:
    series = bars([FLAT, FLAT, FLAT, FLAT, (95.0, 96.0, 90.5, 91.0), FLAT])
    rates = FundingRates.from_columns([3 * HOUR], [0.01], [100.0])  # 1 %: the long pays 500 of its 5,000
    sim = simulate(series, enter(6, 1), "long_only", Risk(50), futures(10, funding=rates))
    q = sim.trades.size[0]
    lp = isolated_liquidation_price(1, q, 100.0, q * 100.0 / 10 - q * 100.0 * 0.01, BTC)
    assert lp > 90.5 > isolated_liquidation_price(1, q, 100.0, q * 100.0 / 10, BTC)
    assert sim.trades.reasons() == ["liquidation"] and sim.trades.exit_price[0] == lp
    assert sim.trades.funding[0] == pytest.approx(-500.0)
    assert sim.equity[-1] == pytest.approx(5_000.0, abs=1e-6)  # margin 5,000 lost in all, 500 of it as funding


@pytest.mark.parametrize("commission", [0.0, 0.0005])
def test_a_1x_long_futures_run_without_funding_sizes_and_trades_as_the_spot_run(commission: float) -> None:
    n = 400
    rng = np.random.default_rng(3)
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.r_[close[0], close[:-1]]
    series = bars([(o, max(o, c) * 1.003, min(o, c) * 0.997, c) for o, c in zip(open_, close, strict=True)])
    el, xl = rng.random(n) < 0.05, rng.random(n) < 0.05
    sig = Sig(el, xl, np.zeros(n, bool), np.zeros(n, bool))
    risk = Risk(80, stop_loss=2.0, take_profit=3.0)
    spot = simulate(series, sig, "long_only", risk, BacktestSettings(cash=10_000.0, commission=commission))
    fut = simulate(series, sig, "long_only", risk, BacktestSettings(cash=10_000.0, commission=commission,
                                                                    brackets=BTC))
    assert len(spot.trades) > 5
    np.testing.assert_allclose(fut.equity, spot.equity, rtol=1e-12)
    assert fut.trades.reasons() == spot.trades.reasons()


def test_the_statistics_of_a_futures_run_report_funding_and_liquidations() -> None:
    series = bars([FLAT, FLAT, FLAT, (95.0, 96.0, 85.0, 88.0), FLAT])
    rates = FundingRates.from_columns([3 * HOUR], [0.001], [100.0])
    res = backtest_signals(series, enter(5, 1), "long_only", Risk(50), futures(10, funding=rates))
    assert res.stats["Liquidations"] == 1
    assert res.stats["Funding [$]"] == pytest.approx(-500 * 100 * 0.001)
    assert "Funding [$]" not in backtest_signals(series, enter(5, 1), "long_only", Risk(50),
                                                 BacktestSettings()).stats


def test_funding_of_positions_closed_in_parts_adds_up_to_the_runs_total_and_its_equity() -> None:
    n = 3000
    rng = np.random.default_rng(11)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.004, n)))
    open_ = np.r_[100.0, close[:-1]]
    series = bars([(o, max(o, c) * 1.002, min(o, c) * 0.998, c) for o, c in zip(open_, close, strict=True)])
    sig = Sig(*(rng.random(n) < 0.02 for _ in range(4)))
    ts = series.ts[4::8]
    rates = FundingRates.from_columns(ts, rng.normal(1e-4, 3e-4, len(ts)))
    levels = (TakeProfitLevel(Distance.pct(1.0), 50.0), TakeProfitLevel(Distance.pct(2.0), 100.0))
    risk = Risk(40, stop_loss=Distance.pct(1.5), take_profit=levels)
    settings = BacktestSettings(cash=10_000.0, commission=0.0005, leverage=8, brackets=BTC, funding=rates,
                                finalize_trades=True)
    sim = simulate(series, sig, "long_short", risk, settings)
    reasons = sim.trades.reasons()
    assert reasons.count("take_profit") > 10 and np.count_nonzero(sim.trades.funding) > 10
    assert sim.open_position is None and sim.funding != 0.0
    assert float(sim.trades.funding.sum()) == pytest.approx(sim.funding, abs=1e-9)
    assert 10_000 + float(sim.trades.pnl.sum()) == pytest.approx(sim.equity[-1], rel=1e-12)


@pytest.mark.parametrize(("settings", "named"), [
    (BacktestSettings(leverage=5), "leverage: 5x needs a futures market"),
    (BacktestSettings(leverage=200, brackets=BTC), "leverage: BTCUSDT allows 1..125, got 200"),
    (BacktestSettings(margin="portfolio", brackets=BTC), "margin: must be isolated or cross"),
    (BacktestSettings(funding=FundingRates.empty()), "funding: applies to futures markets only"),
])
def test_futures_settings_out_of_range_are_refused_naming_the_setting(settings: BacktestSettings, named: str) -> None:
    with pytest.raises(InvalidSettings, match=named):
        settings.check()
