"""Liquidations stand out on the chart: their own mark and a tooltip saying where the position was liquidated."""

from __future__ import annotations

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from app.backtests.ports import RunSummary, StoredRun
from domain.backtest import BacktestSettings
from domain.backtest.run import run_backtest
from domain.market import CandleSeries, Timeframe
from domain.strategy import parse_strategy
from infrastructure.futures_brackets import load_default_brackets
from presentation.backtests.results import trade_markers
from presentation.chart.markers import LIQUIDATION_KIND, fill_marker, liquidation_text
from presentation.chart.widget import LIQUIDATION_COLOR, ChartWidget


def walk(n: int, seed: int) -> CandleSeries:
    rng = np.random.default_rng(seed)
    close = 1000 * np.exp(np.cumsum(rng.normal(0, 0.012, n)))
    open_ = np.r_[close[0], close[:-1]]
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.01, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.01, n))
    ts = np.arange(n, dtype=np.int64) * Timeframe.H1.ms
    return CandleSeries.from_columns(Timeframe.H1, ts, open_, high, low, close, np.ones(n))


def stored_futures_run(series: CandleSeries) -> StoredRun:
    def leg(op: str) -> dict:
        return {"all": [{"left": {"var": "sma", "params": {"period": 5}}, "op": op,
                         "right": {"var": "sma", "params": {"period": 20}}}]}

    strategy = parse_strategy({"schema": 1, "name": "SMA", "direction": "long_short",
                               "entry_long": leg("crosses_above"), "entry_short": leg("crosses_below"),
                               "exit_long": None, "exit_short": None,
                               "risk": {"position_size_pct": 50, "stop_loss_pct": None, "take_profit_pct": None,
                                        "trailing_stop_pct": None}})
    result = run_backtest(strategy, series, BacktestSettings(leverage=75, brackets=load_default_brackets()["BTCUSDT"]))
    summary = RunSummary(1, 0, None, "SMA", "binance", "BTCUSDT", "1h", int(series.ts[0]), int(series.ts[-1]),
                         len(series), None, len(result.trades))
    return StoredRun(summary, {}, {}, result.stats, result.trades, series.ts, result.equity)


def test_a_liquidated_trade_exits_with_a_liquidation_mark_at_its_price() -> None:
    run = stored_futures_run(walk(800, 3))
    reasons = run.trades.reasons()
    assert "liquidation" in reasons and "signal" in reasons
    marks = trade_markers(run)
    exits = marks[1::2]
    for i, (reason, mark) in enumerate(zip(reasons, exits, strict=True)):
        assert mark.price == run.trades.exit_price[i]
        if reason == "liquidation":
            assert mark.kind == LIQUIDATION_KIND and mark.text == f"#{i + 1} exit: liquidation at {mark.price:,.8g}"
        else:
            assert mark.kind in ("long_exit", "short_exit") and "liquidation" not in mark.text


@pytest.mark.parametrize(("side", "reason", "kind"), [(-1, "liquidation", LIQUIDATION_KIND),
                                                       (-1, "signal", "long_exit"), (1, "stop", "short_exit")])
def test_a_session_fill_gets_the_mark_of_its_reason(side: int, reason: str, kind: str) -> None:
    mark = fill_marker(5, 27_000.5, side, "close", reason)
    assert mark.kind == kind
    assert (mark.text == "liquidation at 27,000.5") == (reason == "liquidation")


def test_the_chart_draws_a_liquidation_as_a_distinct_star_with_its_tooltip(qtbot: QtBot) -> None:
    chart = ChartWidget()
    qtbot.addWidget(chart)
    s = walk(200, 1)
    chart.set_series(s)
    chart.set_markers([fill_marker(int(s.ts[50]), float(s.open[50]), 1, "open", "signal"),
                       fill_marker(int(s.ts[90]), 950.25, -1, "close", "liquidation")])
    entry, liq = sorted(chart.markers.points(), key=lambda p: p.pos().x())
    assert liq.symbol() == "star" and entry.symbol() != "star"
    assert liq.brush().color().name() == LIQUIDATION_COLOR
    assert liq.brush().color() != entry.brush().color()
    assert chart.markers.opts["hoverable"]
    assert chart.markers.opts["tip"](liq.pos().x(), liq.pos().y(), liq.data()) == liquidation_text(950.25)
    assert liquidation_text(950.25) == "liquidation at 950.25"


def test_the_live_chart_marks_a_liquidated_session_fill_as_a_liquidation() -> None:
    from types import SimpleNamespace

    from presentation.live.models import chart_marker

    fill = SimpleNamespace(ts=60_000, price=950.0, side=-1, action="close", reason="liquidation")
    marker = chart_marker(fill)
    assert marker.kind == LIQUIDATION_KIND and marker.text == liquidation_text(950.0)
    assert chart_marker(SimpleNamespace(ts=0, price=1.0, side=1, action="open", reason="signal")).kind == "long_entry"
