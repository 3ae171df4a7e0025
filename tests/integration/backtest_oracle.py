"""backtesting.py as a test oracle: replay our signal arrays through its broker and compare results."""

from __future__ import annotations

import math
import warnings
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
from backtesting import Backtest, Strategy

from domain.backtest import BacktestSettings
from domain.market import CandleSeries, Timeframe


def series_from_frame(df: pd.DataFrame, timeframe: Timeframe) -> CandleSeries:
    ts = df.index.values.astype("datetime64[ms]").astype(np.int64)
    return CandleSeries.from_columns(timeframe, ts, df.Open, df.High, df.Low, df.Close, df.Volume)


def frame_from_series(series: CandleSeries) -> pd.DataFrame:
    index = pd.DatetimeIndex(series.ts.astype("datetime64[ms]"))
    return pd.DataFrame({"Open": series.open, "High": series.high, "Low": series.low, "Close": series.close,
                         "Volume": series.volume}, index=index)


def _decide(side: int, el: bool, xl: bool, es: bool, xs: bool, reverse: bool) -> tuple[bool, int]:
    """The engine's documented decision rule, restated for the oracle strategy."""
    if el and es:
        el = es = False
    if side > 0:
        return (True, -1) if es and reverse else (bool(xl), 0)
    if side < 0:
        return (True, 1) if el and reverse else (bool(xs), 0)
    return False, 1 if el else -1 if es else 0


class SignalReplay(Strategy):
    """Acts on precomputed signals at each close; sets SL/TP relative to the known fill price."""

    sig: Any = None
    opens: Any = None
    closes: Any = None
    warmup_arrays: Any = ()
    reverse = False
    frac = 0.9999
    sl = 0.0
    tp = 0.0
    on_close = False

    def init(self) -> None:
        for k, arr in enumerate(self.warmup_arrays):
            # backtesting.py finds indicators among the strategy's attributes to measure the warm-up
            setattr(self, f"w{k}", self.I(lambda a=arr: a, name=f"w{k}"))

    def next(self) -> None:
        i = len(self.data) - 1
        if i >= len(self.opens) - 1:
            return
        el, xl, es, xs = (bool(a[i]) for a in self.sig)
        side = int(np.sign(self.position.size))
        close_now, open_side = _decide(side, el, xl, es, xs, self.reverse)
        if close_now and side:
            self.position.close()
        if open_side:
            fill = self.closes[i] if self.on_close else self.opens[i + 1]
            order = self.buy(size=self.frac) if open_side > 0 else self.sell(size=self.frac)
            sl = fill * (1.0 - open_side * self.sl) if self.sl > 0 else None
            tp = fill * (1.0 + open_side * self.tp) if self.tp > 0 else None
            order._replace(sl_price=sl, tp_price=tp)


def run_oracle(series: CandleSeries, signals: Any, direction: str, size_pct: float, sl_pct: float | None,
               tp_pct: float | None, settings: BacktestSettings, warmup_arrays: tuple = ()) -> pd.Series:
    sig = [np.asarray(getattr(signals, f), bool) for f in ("entry_long", "exit_long", "entry_short", "exit_short")]
    n = len(series)
    if direction == "long_only":
        sig[2] = sig[3] = np.zeros(n, bool)
    if direction == "short_only":
        sig[0] = sig[1] = np.zeros(n, bool)
    frac = size_pct / 100 if size_pct < 100 else Strategy._FULL_EQUITY
    params = dict(sig=sig, opens=series.open, closes=series.close, warmup_arrays=warmup_arrays,
                  reverse=direction == "long_short", frac=frac, sl=(sl_pct or 0) / 100, tp=(tp_pct or 0) / 100,
                  on_close=settings.trade_on_close)
    strategy = type("Replay", (SignalReplay,), params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt = Backtest(frame_from_series(series), strategy, cash=settings.cash, commission=settings.commission,
                      trade_on_close=settings.trade_on_close, finalize_trades=settings.finalize_trades)
        return bt.run()


def _close(a: Any, b: Any, rel: float) -> bool:
    if a is None:  # undefined duration: backtesting.py has NaT or NaN there
        return b is None or pd.isna(b)
    if isinstance(a, timedelta) or isinstance(b, pd.Timedelta):
        a = a.total_seconds() / 86400 if a is not None else math.nan
        b = b.total_seconds() / 86400 if isinstance(b, pd.Timedelta) else math.nan
    if isinstance(b, pd.Timestamp):
        return pd.Timestamp(a).tz_localize(None) == b
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or abs(a - b) <= rel * max(abs(a), abs(b))


def assert_same(ours: Any, theirs: pd.Series, rel: float = 1e-6) -> None:
    """Same trades (bars, sizes, prices, PnL) and every shared metric within `rel`."""
    t = theirs["_trades"]
    tr = ours.trades
    assert len(tr) == len(t), f"trade count {len(tr)} != {len(t)}"
    np.testing.assert_array_equal(tr.entry_bar, t.EntryBar.values)
    np.testing.assert_array_equal(tr.exit_bar, t.ExitBar.values)
    np.testing.assert_array_equal(tr.side * tr.size, t.Size.values)
    np.testing.assert_allclose(tr.entry_price, t.EntryPrice.values, rtol=1e-12)
    np.testing.assert_allclose(tr.exit_price, t.ExitPrice.values, rtol=1e-12)
    np.testing.assert_allclose(tr.pnl, t.PnL.values, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(tr.return_pct / 100, t.ReturnPct.values, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.equity, theirs["_equity_curve"].Equity.values, rtol=1e-9)
    bad = []
    for key, value in ours.stats.items():
        if key not in theirs.index:
            continue
        if not _close(value, theirs[key], rel):
            bad.append(f"{key}: ours {value!r} vs backtesting.py {theirs[key]!r}")
    assert not bad, "\n".join(bad)
