"""The Builder's preview and look-ahead check for schema 2: steps, partial exits, adds, a check that never blocks."""

from __future__ import annotations

import numpy as np
from builder_clicks import type_number
from pytestqt.qtbot import QtBot
from stored import store_walk

from app.bootstrap.container import Container
from domain.backtest import BacktestSettings
from domain.backtest.engine import simulate
from domain.backtest.run import indicator_warmup
from domain.market import SeriesKey, Timeframe
from domain.strategy import evaluate, indicator_columns, parse_strategy
from domain.strategy.lookahead import Change, LookaheadReport
from presentation.builder.draft import for_validation
from presentation.builder.lookahead import report_text
from presentation.builder.tab import BuilderTab
from presentation.services import Services

KEY_5M = SeriesKey("demo", "KRW-BTC", Timeframe.M5)


def open_sample(qtbot: QtBot, container: Container, prefix: str, bars: int) -> BuilderTab:
    store_walk(container, KEY_5M, bars)
    tab = BuilderTab(container.strategies, Services(container))
    qtbot.addWidget(tab)
    tab.resize(1300, 800)
    tab.show()
    tab.preview.refresh_markets()
    sample = next(s for s in container.strategies.page(limit=50).items if s.name.startswith(prefix))
    with qtbot.waitSignals([tab.preview.updated, tab.preview.fills.shown], timeout=60_000):
        tab.open_strategy(sample.id)  # the signals at once, the engine's partial exits and adds from a thread
    return tab


def engine_fills(tab: BuilderTab) -> tuple[np.ndarray, np.ndarray]:
    """(partial exit bars, add bars) the engine reports for the draft on the preview's candles."""
    strategy = parse_strategy(for_validation(tab.doc))
    series = tab.preview.series
    sim = simulate(series, evaluate(strategy, series), strategy.direction, strategy.risk, BacktestSettings(),
                   start=indicator_warmup(strategy, series) + 1)
    t = sim.trades
    partial = [t.exit_bar[i] for i in range(len(t))
               if (i + 1 < len(t) and t.entry_bar[i + 1] == t.entry_bar[i])
               or (sim.open_position is not None and t.entry_bar[i] == sim.open_position.entry_bar)]
    return np.array(partial, dtype=np.int64), sim.adds if sim.adds is not None else np.empty(0, np.int64)


def test_higher_timeframe_operands_are_drawn_as_steps_and_partial_exits_are_marked(
        qtbot: QtBot, container: Container) -> None:
    tab = open_sample(qtbot, container, "ICT", 3_000)
    line = tab.preview.chart.price.lines["ema(50)@1h"]
    x, y = line.xData, line.yData
    finite = np.isfinite(y[1:]) & np.isfinite(y[:-1])
    flat_or_vertical = (x[1:] == x[:-1]) | (y[1:] == y[:-1])
    assert np.all(flat_or_vertical[finite])  # runs flat, then jumps where an hour closed
    jump_x = x[1:][(x[1:] == x[:-1]) & finite]
    values = indicator_columns(parse_strategy(for_validation(tab.doc)), tab.preview.series)["ema(50)@1h"]
    changes = np.count_nonzero((values[1:] != values[:-1]) & np.isfinite(values[1:]) & np.isfinite(values[:-1]))
    assert len(jump_x) == changes > 150  # a jump wherever the value changes, nowhere else
    assert np.all(np.diff(jump_x) == 12)  # one value per closed hour of 5-minute bars
    partial, _ = engine_fills(tab)
    assert len(partial) > 0
    marks = tab.preview.fills.partial.data
    assert sorted(marks["x"].astype(int).tolist()) == sorted(partial.tolist())
    assert f"{len(partial):,} partial exits" in tab.preview.status.text()


def test_adds_of_a_scale_in_strategy_are_marked_where_the_engine_filled_them(
        qtbot: QtBot, container: Container) -> None:
    tab = open_sample(qtbot, container, "Upbit scale-in", 3_000)
    _, adds = engine_fills(tab)
    assert len(adds) > 0
    shown = tab.preview.fills.adds.data
    assert shown["x"].astype(int).tolist() == adds.tolist()
    assert np.allclose(shown["y"], tab.preview.series.open[adds])  # an add fills at the next bar's open
    assert f"{len(adds):,} adds" in tab.preview.status.text()


def test_check_look_ahead_runs_off_the_ui_thread_and_reports_inline(qtbot: QtBot, container: Container) -> None:
    tab = open_sample(qtbot, container, "ICT", 1_500)
    with qtbot.waitSignal(tab.lookahead.finished, timeout=120_000):
        tab.act_lookahead.trigger()
        # the trigger returned at once: the Builder says it is checking and can be used meanwhile
        assert tab.banner.isVisibleTo(tab) and tab.banner.text() == "Checking look-ahead on 1,500 bars…"
        assert not tab.act_lookahead.isEnabled()
        assert tab.lookahead.running
    assert tab.banner.text().startswith("No look-ahead: nothing before a cut changed (12 cuts of 1,500 bars;")
    assert tab.act_lookahead.isEnabled()


def test_a_look_ahead_found_names_the_value_the_bar_and_the_cut() -> None:
    change = Change(cut=10, cut_ts=1_700_000_000_000, bar=5, ts=1_699_999_700_000, what="sma(50)@1h value",
                    full="101.5", truncated="100.25")
    text, ok = report_text(LookaheadReport(500, (10, 20), (change,), 1_000, 500, 3))
    assert not ok
    assert text.splitlines() == [
        "Look-ahead found: 1 value changed when later bars were removed (2 cuts of 500 bars; 1,000 signals, "
        "500 values and 3 trades compared).",
        "• sma(50)@1h value at 2023-11-14 22:08 UTC: 101.5 with all bars, 100.25 with the data cut at "
        "2023-11-14 22:13 UTC"]
    short, ok = report_text(LookaheadReport(30, (), (), 0, 0, 0))
    assert not ok and short.startswith("Look-ahead not checked: 30 bars are too few")


def test_check_look_ahead_on_an_invalid_draft_says_what_to_fix_first(qtbot: QtBot, container: Container) -> None:
    tab = open_sample(qtbot, container, "ICT", 600)
    type_number(qtbot, tab.fields["risk.take_profit[1].close_pct"], "40")  # the levels now close 90 %
    assert not tab.check_lookahead() and not tab.lookahead.running
    assert tab.banner.text() == ("Look-ahead not checked: fix the draft first — Risk › Take profit: the levels' "
                                 "close % must add up to 100, not 90")
