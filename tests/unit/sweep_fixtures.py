"""Small candle series and SMA-cross definitions shared by the sweep tests."""

from __future__ import annotations

from typing import Any

import numpy as np

from domain.market import CandleSeries, Timeframe


def walk(n: int = 1200, seed: int = 3, vol: float = 0.01) -> CandleSeries:
    rng = np.random.default_rng(seed)
    close = 50 * np.exp(np.cumsum(rng.normal(0, vol, n)))
    open_ = np.r_[close[0], close[:-1]] * np.exp(rng.normal(0, vol / 3, n))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, vol, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, vol, n))
    ts = 1_704_067_200_000 + np.arange(n, dtype=np.int64) * 3_600_000
    return CandleSeries.from_columns(Timeframe.H1, ts, open_, high, low, close, np.ones(n))


def sma_cross(fast: int = 10, slow: int = 20, stop: float | None = None) -> dict[str, Any]:
    def leg(op: str) -> dict[str, Any]:
        return {"all": [{"left": {"var": "sma", "params": {"period": fast}}, "op": op,
                         "right": {"var": "sma", "params": {"period": slow}}}]}

    return {"schema": 1, "name": "SMA cross", "direction": "long_short", "entry_long": leg("crosses_above"),
            "entry_short": leg("crosses_below"), "exit_long": None, "exit_short": None,
            "risk": {"position_size_pct": 100, "stop_loss_pct": stop, "take_profit_pct": None,
                     "trailing_stop_pct": None}}


FAST = "entry_long.all[0].left.params.period,entry_short.all[0].left.params.period"
SLOW = "entry_long.all[0].right.params.period,entry_short.all[0].right.params.period"
