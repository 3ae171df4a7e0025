"""The crossover rule: "strict" trades as backtesting.py's crossover(), "inclusive" as ta.crossover, on tied prices."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest
from backtest_oracle import _decide, assert_same, frame_from_series, series_from_frame
from backtesting import Backtest
from backtesting import Strategy as BtStrategy
from backtesting.lib import crossover
from backtesting.test import GOOG

from domain.backtest import BacktestSettings
from domain.backtest.run import run_backtest
from domain.market import CandleSeries, Timeframe
from domain.strategy import Strategy, evaluate, indicator_columns, parse_strategy

Cross = Callable[[Sequence[float], Sequence[float]], bool]
LEVEL = 100_000.0  # a round-number constant that tick-rounded closes sit on exactly


def inclusive_cross(a: Sequence[float], b: Sequence[float]) -> bool:
    """The inclusive rule restated independently: previous bar at or below, this bar above."""
    try:
        return bool(a[-2] <= b[-2] and a[-1] > b[-1])
    except IndexError:
        return False


def tick_rounded(n: int = 4000, seed: int = 5, tick: float = 1000.0) -> CandleSeries:
    """KRW-style hourly bars: prices on 1,000 KRW ticks around 100,000, half the closes unchanged (flat runs),
    mean-reverting to the round level."""
    rng = np.random.default_rng(seed)
    moves = rng.choice([-2, -1, 0, 0, 0, 0, 1, 2], size=n)
    pull = rng.random(n) < 0.2  # drift back towards the level now and then, so it is crossed often
    ticks = np.zeros(n)
    for i in range(1, n):
        ticks[i] = ticks[i - 1] + moves[i] - (np.sign(ticks[i - 1]) if pull[i] else 0)
    close = LEVEL + tick * ticks
    open_ = np.r_[close[0], close[:-1]]
    high = np.maximum(open_, close) + tick * rng.integers(0, 2, n)
    low = np.minimum(open_, close) - tick * rng.integers(0, 2, n)
    ts = 1_700_000_000_000 - 1_700_000_000_000 % 3_600_000 + np.arange(n, dtype=np.int64) * 3_600_000
    return CandleSeries.from_columns(Timeframe.H1, ts, open_, high, low, close, rng.uniform(1, 5, n))


def definition(kind: str, direction: str, rule: str) -> dict[str, Any]:
    """An SMA 5/20 cross, or close crossing the round level, with opposite crosses as exits."""
    if kind == "sma":
        a: dict[str, Any] = {"var": "sma", "params": {"period": 5}}
        b: dict[str, Any] = {"var": "sma", "params": {"period": 20}}
    else:
        a, b = {"var": "close"}, {"const": LEVEL}

    def leg(op: str) -> dict[str, Any]:
        return {"all": [{"left": a, "op": op, "right": b}]}

    return {"schema": 1, "name": f"{kind} {rule}", "direction": direction, "crossover": rule,
            "entry_long": leg("crosses_above"), "entry_short": leg("crosses_below"),
            "exit_long": leg("crosses_below") if direction == "long_only" else None,
            "exit_short": leg("crosses_above") if direction == "short_only" else None,
            "risk": {"position_size_pct": 100, "stop_loss_pct": None, "take_profit_pct": None,
                     "trailing_stop_pct": None}}


class NativeCross(BtStrategy):
    """A backtesting.py strategy deciding with its own cross function on the same indicator lines."""

    lines: Any = ()
    cross: Any = None
    direction = "long_short"

    def init(self) -> None:
        a, b = self.lines
        self.a = self.I(lambda: a, name="a")
        self.b = self.I(lambda: b, name="b")

    def next(self) -> None:
        if len(self.data) >= len(self.lines[0]):
            return  # our engine does not decide on the last bar (no next open to fill at)
        up, down = self.cross(self.a, self.b), self.cross(self.b, self.a)
        long_ok, short_ok = self.direction != "short_only", self.direction != "long_only"
        el, es = up and long_ok, down and short_ok
        xl, xs = down and not short_ok, up and not long_ok
        close_now, open_side = _decide(int(np.sign(self.position.size)), el, xl, es, xs,
                                       self.direction == "long_short")
        if close_now:
            self.position.close()
        if open_side:
            (self.buy if open_side > 0 else self.sell)(size=BtStrategy._FULL_EQUITY)


def native(series: CandleSeries, strategy: Strategy, cross: Cross, settings: BacktestSettings) -> pd.Series:
    lines = list(indicator_columns(strategy, series).values())
    if len(lines) == 1:  # close against a constant: the constant as a flat line, as crossover() takes it
        lines.append(np.full(len(series), LEVEL))
    params = {"lines": tuple(lines), "cross": staticmethod(cross), "direction": strategy.direction}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt = Backtest(frame_from_series(series), type("Native", (NativeCross,), params), cash=settings.cash,
                      commission=settings.commission)
        return bt.run()


RULES: dict[str, Cross] = {"strict": crossover, "inclusive": inclusive_cross}


def test_tick_rounded_data_has_many_ties_where_the_two_rules_disagree() -> None:
    series = tick_rounded()
    for kind in ("sma", "level"):
        strict = evaluate(parse_strategy(definition(kind, "long_short", "strict")), series)
        loose = evaluate(parse_strategy(definition(kind, "long_short", "inclusive")), series)
        differ = int((strict.entry_long != loose.entry_long).sum() + (strict.entry_short != loose.entry_short).sum())
        assert differ >= 20, f"{kind}: only {differ} signals differ; the data should tie often"


@pytest.mark.parametrize("rule", ["strict", "inclusive"])
@pytest.mark.parametrize("kind", ["sma", "level"])
@pytest.mark.parametrize("direction", ["long_only", "short_only", "long_short"])
@pytest.mark.parametrize("seed", [5, 6])
def test_each_crossover_rule_trades_as_its_reference_on_tick_rounded_data(rule: str, kind: str, direction: str,
                                                                           seed: int) -> None:
    series = tick_rounded(seed=seed)
    strategy = parse_strategy(definition(kind, direction, rule))
    settings = BacktestSettings(cash=10_000_000, commission=0.0005, lot_size=1)
    ours = run_backtest(strategy, series, settings)
    assert len(ours.trades) > 10
    assert_same(ours, native(series, strategy, RULES[rule], settings))


@pytest.mark.parametrize("rule", ["strict", "inclusive"])
@pytest.mark.parametrize("direction", ["long_only", "long_short"])
def test_each_crossover_rule_trades_as_its_reference_on_goog(rule: str, direction: str) -> None:
    series = series_from_frame(GOOG, Timeframe.D1)
    strategy = parse_strategy(definition("sma", direction, rule))
    settings = BacktestSettings(commission=0.002, lot_size=1)
    ours = run_backtest(strategy, series, settings)
    assert len(ours.trades) > 10
    assert_same(ours, native(series, strategy, RULES[rule], settings))


def test_the_rules_give_different_trades_on_tied_prices() -> None:
    series = tick_rounded()
    settings = BacktestSettings(cash=10_000_000, lot_size=1)
    strict = run_backtest(parse_strategy(definition("level", "long_short", "strict")), series, settings)
    loose = run_backtest(parse_strategy(definition("level", "long_short", "inclusive")), series, settings)
    assert strict.trades.entry_bar.tolist() != loose.trades.entry_bar.tolist()


class NativeFiltered(NativeCross):
    """NativeCross whose entries also need the higher-timeframe filter line pair `filt` (a above b for longs)."""

    filt: Any = ()

    def init(self) -> None:
        super().init()
        fa, fb = self.filt
        self.fa = self.I(lambda: fa, name="fa")
        self.fb = self.I(lambda: fb, name="fb")

    def next(self) -> None:
        if len(self.data) >= len(self.lines[0]):
            return
        up, down = self.cross(self.a, self.b), self.cross(self.b, self.a)
        bull, bear = self.fa[-1] > self.fb[-1], self.fa[-1] < self.fb[-1]
        close_now, open_side = _decide(int(np.sign(self.position.size)), up and bull, False, down and bear, False,
                                       True)
        if close_now:
            self.position.close()
        if open_side:
            (self.buy if open_side > 0 else self.sell)(size=BtStrategy._FULL_EQUITY)


def five_minute_ticks(n: int = 6000, seed: int = 3) -> CandleSeries:
    base = tick_rounded(n, seed)
    ts = 1_700_000_000_000 // 300_000 * 300_000 + 60_000 * 5 * np.arange(n, dtype=np.int64)
    return CandleSeries.from_columns(Timeframe.M5, ts, base.open, base.high, base.low, base.close, base.volume)


@pytest.mark.parametrize("rule", ["strict", "inclusive"])
def test_a_multi_timeframe_strategy_trades_as_backtesting_py_fed_the_same_higher_timeframe_values(rule: str) -> None:
    series = five_minute_ticks()
    fast, slow = {"var": "sma", "params": {"period": 5}}, {"var": "sma", "params": {"period": 20}}
    htf_close = {"var": "close", "timeframe": "1h"}
    htf_ema = {"var": "ema", "params": {"period": 10}, "timeframe": "1h"}
    strategy = parse_strategy({
        "schema": 2, "name": "htf", "direction": "long_short", "crossover": rule,
        "entry_long": {"all": [{"left": fast, "op": "crosses_above", "right": slow},
                               {"left": htf_close, "op": "gt", "right": htf_ema}]},
        "entry_short": {"all": [{"left": fast, "op": "crosses_below", "right": slow},
                                {"left": htf_close, "op": "lt", "right": htf_ema}]},
        "exit_long": None, "exit_short": None, "risk": {"position_size_pct": 100}})
    settings = BacktestSettings(cash=10_000_000, commission=0.0005, lot_size=1)
    ours = run_backtest(strategy, series, settings)
    cols = list(indicator_columns(strategy, series).values())  # sma5, sma20, close@1h, ema@1h
    params = {"lines": (cols[0], cols[1]), "filt": (cols[2], cols[3]), "cross": staticmethod(RULES[rule])}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = Backtest(frame_from_series(series), type("Native", (NativeFiltered,), params), cash=settings.cash,
                          commission=settings.commission).run()
    assert len(ours.trades) > 10
    assert_same(ours, theirs)
