"""Take-profit levels with partial closes, ATR distances, trailing anchors and scaling in equal a plain-Python loop."""

from __future__ import annotations

import numpy as np
from backtest_reference_v2 import Level, RefV2, Rules
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.backtest import BacktestSettings
from domain.backtest.engine import simulate
from domain.backtest.risk_arrays import ScaleSpec
from domain.backtest.run import run_backtest
from domain.indicators import CATALOG
from domain.market import CandleSeries, Timeframe
from domain.strategy import Distance, Risk, TakeProfitLevel, Trailing, evaluate, parse_strategy

ATR_PERIOD = 10
N = 300


def walk(seed: int) -> CandleSeries:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, N)))
    open_ = np.r_[close[0], close[:-1]] * np.exp(rng.normal(0, 0.004, N))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.01, N))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.01, N))
    return CandleSeries.from_columns(Timeframe.H1, np.arange(N, dtype=np.int64) * 3_600_000, open_, high, low, close,
                                     np.ones(N))


class Sig:
    def __init__(self, flags: list[np.ndarray]) -> None:
        self.entry_long, self.exit_long, self.entry_short, self.exit_short = flags


distance = st.tuples(st.sampled_from(["pct", "atr"]), st.floats(0.3, 4.0).map(lambda x: round(x, 2)))


@st.composite
def rules(draw: st.DrawFn) -> Rules:
    count = draw(st.integers(0, 3))
    shares = draw(st.lists(st.integers(1, 9), min_size=count, max_size=count))
    levels = [Level(kind, value / 100 if kind == "pct" else value, 100 * share / sum(shares))
              for (kind, value), share in zip(draw(st.lists(distance, min_size=count, max_size=count)), shares,
                                               strict=True)]
    stop = draw(st.one_of(st.none(), distance))
    trail = draw(st.one_of(st.none(), distance))
    return Rules(draw(st.sampled_from([1.0, 0.5, 0.3])),
                 None if stop is None else (stop[0], stop[1] / 100 if stop[0] == "pct" else stop[1]), levels,
                 None if trail is None else (trail[0], trail[1] / 100 if trail[0] == "pct" else trail[1]),
                 draw(st.booleans()), draw(st.sampled_from([0.0, 0.5, 1.0])), draw(st.integers(0, 3)),
                 draw(st.integers(0, 5)))


def to_distance(kind: str, value: float) -> Distance:
    return Distance.pct(value * 100) if kind == "pct" else Distance.atr(ATR_PERIOD, value)


def to_risk(r: Rules) -> Risk:
    levels = tuple(TakeProfitLevel(to_distance(lv.kind, lv.value), lv.close_pct) for lv in r.levels)
    trail = None if r.trail is None else Trailing(to_distance(*r.trail), "close" if r.trail_close else "extreme")
    return Risk(r.size_frac * 100, None if r.stop is None else to_distance(*r.stop), levels, trail)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules(), st.integers(0, 2**31), st.sampled_from(["long_only", "short_only", "long_short"]), st.booleans(),
       st.sampled_from([1e-3, 1e-8]), st.sampled_from([0.0, 0.001]), st.sampled_from([0.0, 0.0005]))
def test_levels_partial_closes_atr_anchors_and_scaling_in_equal_the_reference_loop(
        r: Rules, seed: int, direction: str, on_close: bool, lot: float, comm: float, slip: float) -> None:
    series = walk(seed % 1000)
    rng = np.random.default_rng(seed)
    flags = [rng.random(N) < 0.03 for _ in range(4)]
    if direction == "long_only":
        flags[2] = flags[3] = np.zeros(N, bool)
    if direction == "short_only":
        flags[0] = flags[1] = np.zeros(N, bool)
    adds = rng.random(N) < 0.25
    atr = CATALOG["atr"].compute(series, {"period": ATR_PERIOD})["value"]
    start = int(CATALOG["atr"].warmup({"period": ATR_PERIOD})) + 1
    cfg = BacktestSettings(cash=100_000, commission=comm, slippage=slip, lot_size=lot, trade_on_close=on_close)
    scale = ScaleSpec(adds, r.add_frac * 100, r.max_adds, r.min_gap) if r.add_frac and r.max_adds else None
    ours = simulate(series, Sig(flags), direction, to_risk(r), cfg, start=start, scale=scale)
    if scale is None:
        r.add_frac, r.max_adds = 0.0, 0
    ref = RefV2(series.open.tolist(), series.high.tolist(), series.low.tolist(), series.close.tolist(), atr.tolist(),
                r, 100_000.0, comm, slip, lot, reverse=direction == "long_short", on_close=on_close)
    ref.run([f.tolist() for f in (*flags, adds)], start)
    t = ours.trades
    assert len(t) == len(ref.trades)
    if ref.trades:
        side, size, ebar, xbar, eprice, xprice, pnl, why = map(list, zip(*ref.trades, strict=True))
        assert t.side.tolist() == side and t.entry_bar.tolist() == ebar and t.exit_bar.tolist() == xbar
        assert t.reasons() == why
        np.testing.assert_allclose(t.size, size, rtol=1e-12)
        np.testing.assert_allclose(t.entry_price, eprice, rtol=1e-12)
        np.testing.assert_allclose(t.exit_price, xprice, rtol=1e-12)
        np.testing.assert_allclose(t.pnl, pnl, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ours.equity, ref.equity, rtol=1e-12)


def test_partial_closes_and_adds_really_happen_and_each_fill_is_a_trade_row() -> None:
    series = walk(7)
    rng = np.random.default_rng(7)
    flags = [rng.random(N) < 0.03, np.zeros(N, bool), np.zeros(N, bool), np.zeros(N, bool)]
    risk = Risk(50, Distance.pct(3), (TakeProfitLevel(Distance.pct(1), 50), TakeProfitLevel(Distance.atr(10, 3), 50)))
    scale = ScaleSpec(rng.random(N) < 0.3, 50, 2, 1)
    got = simulate(series, Sig(flags), "long_only", risk, BacktestSettings(cash=10_000, lot_size=1e-6), start=11,
                   scale=scale)
    t = got.trades
    partial = [i for i in range(1, len(t)) if t.entry_bar[i] == t.entry_bar[i - 1]]
    assert partial, "some position should close in parts"
    assert (t.exit_reason == 2).sum() >= 2
    averaged = t.entry_price != series.open[t.entry_bar]
    assert averaged.any(), "some position should have an average entry moved by an add"


def position_strategy(take: float, hold: int, dip: float, adds: int, direction: str) -> dict:
    """Exit on a return target or after `hold` bars; average down (물타기) when the return falls to −`dip` %."""
    ret, bars = {"var": "position_return_pct"}, {"var": "bars_in_position"}
    exit_rule = {"any": [{"left": ret, "op": "ge", "right": {"const": take}},
                         {"left": {"const": hold}, "op": "le", "right": bars}]}
    entry = {"all": [{"left": {"var": "rsi", "params": {"period": 5}}, "op": "lt", "right": {"const": 35}}]}
    short_entry = {"all": [{"left": {"var": "rsi", "params": {"period": 5}}, "op": "gt", "right": {"const": 65}}]}
    return {"schema": 2, "name": "position rules", "direction": direction,
            "entry_long": entry, "entry_short": short_entry, "exit_long": exit_rule, "exit_short": exit_rule,
            "risk": {"position_size_pct": 40, "stop_loss": {"pct": 8}},
            "scale_in": {"when": {"all": [{"left": ret, "op": "le", "right": {"const": -dip}}]},
                         "size_pct": 50, "max_adds": adds, "min_bars_between": 2}}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.floats(0.5, 4).map(lambda x: round(x, 2)), st.integers(1, 30), st.floats(0.3, 3).map(lambda x: round(x, 2)),
       st.integers(1, 3), st.sampled_from(["long_only", "short_only", "long_short"]), st.integers(0, 500),
       st.booleans())
def test_position_operands_in_exits_and_scale_in_equal_the_reference_loop(
        take: float, hold: int, dip: float, adds: int, direction: str, seed: int, on_close: bool) -> None:
    strategy = parse_strategy(position_strategy(take, hold, dip, adds, direction))
    series = walk(seed)
    cfg = BacktestSettings(cash=100_000, commission=0.001, lot_size=1e-6, trade_on_close=on_close)
    ours = run_backtest(strategy, series, cfg)
    signals = evaluate(strategy, series)
    rules = Rules(0.4, ("pct", 0.08), [], None, False, 0.5, adds, 2)
    ref = RefV2(series.open.tolist(), series.high.tolist(), series.low.tolist(), series.close.tolist(),
                [0.0] * N, rules, 100_000.0, 0.001, 0.0, 1e-6, reverse=direction == "long_short", on_close=on_close,
                exit_rule=lambda i, ret, bars: ret >= take or hold <= bars,
                add_rule=lambda i, ret, bars: ret <= -dip)
    flags = [getattr(signals, f).tolist() for f in ("entry_long", "exit_long", "entry_short", "exit_short")]
    ref.run([*flags, [False] * N], ours.start)
    t = ours.trades
    assert [(int(a), int(b), int(c)) for a, b, c in zip(t.side, t.entry_bar, t.exit_bar, strict=True)] == [
        (tr[0], tr[2], tr[3]) for tr in ref.trades]
    np.testing.assert_allclose(t.entry_price, [tr[4] for tr in ref.trades], rtol=1e-12)
    np.testing.assert_allclose(ours.equity, ref.equity, rtol=1e-12)


def test_position_rules_really_exit_on_targets_and_time_and_average_down() -> None:
    strategy = parse_strategy(position_strategy(1.0, 12, 1.0, 2, "long_only"))
    result = run_backtest(strategy, walk(3), BacktestSettings(cash=100_000, lot_size=1e-6))
    t = result.trades
    held = t.exit_bar - t.entry_bar
    assert (held == 12).any() and (held < 12).any()
    assert (t.entry_price != walk(3).open[t.entry_bar]).any(), "some position should have averaged down"
