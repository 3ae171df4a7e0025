"""The Builder's preview: the draft's indicators and signal arrows on the chosen market, redrawn as you edit."""

from __future__ import annotations

import numpy as np
from builder_clicks import row, set_condition, type_number
from pytestqt.qtbot import QtBot
from stored import store_walk

from app.bootstrap.container import Container
from domain.market import SeriesKey, Timeframe
from domain.strategy import evaluate, parse_strategy
from presentation.builder.tab import BuilderTab
from presentation.services import Services

KEY = SeriesKey("demo", "KRW-BTC", Timeframe.M1)


def open_with_sample(qtbot: QtBot, container: Container, name: str) -> BuilderTab:
    store_walk(container, KEY, 2_000)
    tab = BuilderTab(container.strategies, Services(container))
    qtbot.addWidget(tab)
    tab.resize(1300, 800)
    tab.show()
    record = container.strategies.get_by_name(name)
    assert record is not None
    with qtbot.waitSignal(tab.preview.updated, timeout=10_000):
        tab.open_strategy(record.id)
    return tab


def signal_count(tab: BuilderTab) -> int:
    strategy = parse_strategy({k: v for k, v in tab.doc.items() if k != "tags"})
    s = evaluate(strategy, tab.preview.series)
    return int(sum(np.count_nonzero(getattr(s, side)) for side in ("entry_long", "exit_long", "entry_short",
                                                                     "exit_short")))


def test_the_preview_shows_the_drafts_averages_and_one_arrow_per_signal(qtbot: QtBot, container: Container) -> None:
    tab = open_with_sample(qtbot, container, "SMA 10/20 cross")
    chart = tab.preview.chart
    assert tab.preview.key == KEY and len(chart.pyramid) == 2_000
    assert set(chart.price.lines) == {"sma(10)", "sma(20)"}
    assert tab.preview.marks.count() == signal_count(tab) > 0
    assert "long entry" in tab.preview.status.text()


def test_the_signal_counts_wrap_rather_than_run_off_a_narrow_preview(qtbot: QtBot, container: Container) -> None:
    tab = open_with_sample(qtbot, container, "Bollinger breakout")  # four kinds of signal: a long line
    tab.preview.resize(420, 700)
    tab.split.setSizes([880, 420])
    qtbot.wait(50)
    status = tab.preview.status
    width = status.width()
    assert status.fontMetrics().horizontalAdvance(status.text()) > width  # one line would not fit
    assert status.height() >= status.heightForWidth(width) > status.fontMetrics().height()


def test_an_edit_redraws_the_preview_after_the_debounce(qtbot: QtBot, container: Container) -> None:
    tab = open_with_sample(qtbot, container, "SMA 10/20 cross")
    with qtbot.waitSignal(tab.preview.updated, timeout=10_000):
        type_number(qtbot, row(tab, "entry_long.all[0]").left.params["period"], "5")
    assert "sma(5)" in tab.preview.chart.price.lines
    assert tab.preview.marks.count() == signal_count(tab)


def test_oscillators_get_their_own_pane_and_an_invalid_draft_pauses_the_preview(
        qtbot: QtBot, container: Container) -> None:
    tab = open_with_sample(qtbot, container, "SMA 10/20 cross")
    with qtbot.waitSignal(tab.preview.updated, timeout=10_000):
        set_condition(qtbot, tab, "entry_long.all[0]", ("rsi", "14"), "lt", ("const", "30"))
    assert tab.preview.chart.pane("rsi(14)") is not None
    assert "sma(10)" in tab.preview.chart.price.lines  # still used by the short side
    type_number(qtbot, tab.fields["risk.position_size_pct"], "0")
    tab.update_preview()
    assert "paused" in tab.preview.status.text()
