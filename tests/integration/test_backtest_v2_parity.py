"""ATR stops and close-anchored ATR trailing trade as backtesting.py does (its TrailingStrategy, our catalog ATR)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from backtest_oracle import _decide, assert_same, frame_from_series, series_from_frame
from backtesting import Backtest
from backtesting.lib import TrailingStrategy
from backtesting.test import GOOG
from test_backtest_parity import Sig, generated, random_signals, sma_cross

from domain.backtest import BacktestSettings
from domain.backtest.run import backtest_signals
from domain.indicators import CATALOG
from domain.market import CandleSeries, Timeframe
from domain.strategy import Distance, Risk, Trailing


class AtrReplay(TrailingStrategy):
    """Replays our signals; the entry order's stop is `stop_mult` × ATR of the signal bar from the known fill;
    TrailingStrategy moves each trade's stop to close − `trail_mult` × ATR after every bar."""

    sig: Any = None
    atr: Any = None
    opens: Any = None
    reverse = False
    on_close = False
    stop_mult = 0.0
    trail_mult = 0.0

    def init(self) -> None:
        super().init()
        atr = self.atr
        self.a = self.I(lambda: atr, name="atr")  # counted in backtesting.py's warm-up, as our risk warm-up
        self._TrailingStrategy__atr = atr  # the catalog's ATR instead of its rolling-mean one
        self.set_trailing_sl(self.trail_mult if self.trail_mult else 1e12)

    def next(self) -> None:
        super().next()
        i = len(self.data) - 1
        if i >= len(self.atr) - 1:
            return
        el, xl, es, xs = (bool(a[i]) for a in self.sig)
        close_now, open_side = _decide(int(np.sign(self.position.size)), el, xl, es, xs, self.reverse)
        if close_now and self.position.size:
            self.position.close()
        if open_side:
            fill = self.data.Close[i] if self.on_close else self.opens[i + 1]
            sl = fill - open_side * self.stop_mult * self.atr[i] if self.stop_mult else None
            (self.buy if open_side > 0 else self.sell)(size=TrailingStrategy._FULL_EQUITY, sl=sl)


def oracle(series: CandleSeries, sig: Sig, direction: str, atr: np.ndarray, stop_mult: float, trail_mult: float,
           settings: BacktestSettings) -> pd.Series:
    flags = [np.asarray(getattr(sig, f), bool) for f in ("entry_long", "exit_long", "entry_short", "exit_short")]
    if direction == "long_only":
        flags[2] = flags[3] = np.zeros(len(series), bool)
    params = {"sig": flags, "atr": atr, "opens": series.open, "reverse": direction == "long_short",
              "on_close": settings.trade_on_close, "stop_mult": stop_mult, "trail_mult": trail_mult}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt = Backtest(frame_from_series(series), type("Replay", (AtrReplay,), params), cash=settings.cash,
                      commission=settings.commission, trade_on_close=settings.trade_on_close)
        return bt.run()


def risk(period: int, stop_mult: float, trail_mult: float) -> Risk:
    stop = Distance.atr(period, stop_mult) if stop_mult else None
    trail = Trailing(Distance.atr(period, trail_mult), "close") if trail_mult else None
    return Risk(100, stop, None, trail)


def check(series: CandleSeries, sig: Sig, direction: str, period: int, stop_mult: float, trail_mult: float,
          settings: BacktestSettings) -> int:
    atr = CATALOG["atr"].compute(series, {"period": period})["value"]
    warmup = int(CATALOG["atr"].warmup({"period": period}))
    ours = backtest_signals(series, sig, direction, risk(period, stop_mult, trail_mult), settings, warmup=warmup)
    assert_same(ours, oracle(series, sig, direction, atr, stop_mult, trail_mult, settings))
    return len(ours.trades)


MULTS = [(2.0, 0.0), (0.0, 3.0), (1.5, 2.5), (3.0, 1.0)]


@pytest.mark.parametrize(("stop_mult", "trail_mult"), MULTS, ids=[f"stop{a}-trail{b}" for a, b in MULTS])
@pytest.mark.parametrize("direction", ["long_only", "long_short"])
@pytest.mark.parametrize("on_close", [False, True], ids=["next_open", "on_close"])
def test_atr_stops_and_close_anchored_atr_trailing_match_backtesting_py_on_gappy_data(
        stop_mult: float, trail_mult: float, direction: str, on_close: bool) -> None:
    series = generated(seed=3)
    sig = random_signals(len(series), 3, p=0.02)
    settings = BacktestSettings(cash=100_000, commission=0.001, lot_size=1, trade_on_close=on_close)
    assert check(series, sig, direction, 14, stop_mult, trail_mult, settings) > 20


@pytest.mark.parametrize(("stop_mult", "trail_mult"), MULTS, ids=[f"stop{a}-trail{b}" for a, b in MULTS])
def test_atr_risk_on_goog_sma_cross_matches_backtesting_py(stop_mult: float, trail_mult: float) -> None:
    series = series_from_frame(GOOG, Timeframe.D1)
    sig, _ = sma_cross(series)
    settings = BacktestSettings(commission=0.002, lot_size=1)
    assert check(series, sig, "long_short", 20, stop_mult, trail_mult, settings) > 10


def test_the_stops_really_fire_in_these_runs() -> None:
    series = generated(seed=3)
    sig = random_signals(len(series), 3, p=0.02)
    settings = BacktestSettings(cash=100_000, lot_size=1)
    result = backtest_signals(series, sig, "long_short", risk(14, 1.5, 2.5), settings, warmup=14)
    reasons = set(result.trades.reasons())
    assert {"stop", "trailing", "signal"} <= reasons
