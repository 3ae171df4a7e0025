"""The candlestick chart: LOD level for the view, live bars, markers, panes, indicators, navigation."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PyQt6 import QtCore, QtGui, QtWidgets
from pytestqt.qtbot import QtBot

from domain.market import Candle, CandleSeries, SeriesKey, Timeframe
from presentation.chart.axis import local
from presentation.chart.indicators import Applied
from presentation.chart.tab import ChartTab
from presentation.chart.widget import ChartWidget, Marker

T0 = 1_700_000_040_000 - 1_700_000_040_000 % 60_000


def walk(n: int, tf: Timeframe = Timeframe.M1) -> CandleSeries:
    rng = np.random.default_rng(3)
    close = 1000 + np.cumsum(rng.normal(0, 1, n))
    open_ = np.concatenate([[1000.0], close[:-1]])
    ts = T0 + np.arange(n, dtype=np.int64) * tf.ms
    return CandleSeries.from_columns(tf, ts, open_, np.maximum(open_, close) + 0.5, np.minimum(open_, close) - 0.5,
                                     close, rng.random(n))


@pytest.fixture
def chart(qtbot: QtBot) -> ChartWidget:
    w = ChartWidget()
    qtbot.addWidget(w)
    w.resize(1200, 700)
    w.show()
    qtbot.waitExposed(w)
    return w


def paint(chart: ChartWidget) -> None:
    chart.view.grab()  # renders the scene: the items' paint() runs with the current view


def test_a_whole_year_of_minutes_is_drawn_from_a_coarse_level_with_at_most_one_candle_per_pixel(
        chart: ChartWidget) -> None:
    chart.set_series(walk(525_600))
    chart.show_all()
    paint(chart)
    width = chart.price.vb.width()
    assert chart.candles.last_level >= 4
    assert 0 < chart.candles.last_drawn <= width + 2


def test_zooming_in_to_an_hour_draws_the_raw_minutes(chart: ChartWidget) -> None:
    chart.set_series(walk(100_000))
    chart.set_x_range(50_000, 50_060)
    paint(chart)
    assert chart.candles.last_level == 0 and 55 <= chart.candles.last_drawn <= 63


def test_the_y_axis_fits_the_visible_bars_only(chart: ChartWidget) -> None:
    s = walk(5000)
    chart.set_series(s)
    chart.set_x_range(1000, 1100)
    _, (y0, y1) = chart.price.vb.viewRange()
    lo, hi = s.low[1000:1101].min(), s.high[1000:1101].max()
    assert y0 <= lo and y1 >= hi
    assert (y1 - y0) < 1.2 * (hi - lo) + 1e-9


def test_a_live_bar_updates_in_place_and_a_new_one_is_appended_without_rebuilding(chart: ChartWidget) -> None:
    chart.set_series(walk(1000))
    pyramid = chart.pyramid
    last = int(pyramid.ts[-1])
    chart.apply_live(Candle(last, 1000, 5000, 10, 4000, 7))
    assert len(chart.pyramid) == 1000 and chart.pyramid.level(0)[1, -1] == 5000
    assert chart.pyramid.bounds() is not None and chart.pyramid.bounds()[1] == 5000
    chart.apply_live(Candle(last + 60_000, 4000, 4100, 3900, 4050, 1))
    assert chart.pyramid is pyramid and len(pyramid) == 1001
    assert chart.last_line.value() == 4050
    assert chart.last_line.zValue() > chart.markers.zValue()  # the price tag is drawn over a fill's marker


def test_markers_and_an_equity_pane_line_up_with_the_bars_by_time(chart: ChartWidget) -> None:
    s = walk(500)
    chart.set_series(s)
    chart.set_markers([Marker(int(s.ts[100]), float(s.low[100]), "long_entry"),
                       Marker(int(s.ts[150]), float(s.high[150]), "long_exit")])
    xs = sorted(p.pos().x() for p in chart.markers.points())
    assert xs == [100.0, 150.0]
    chart.set_line("equity", "Equity", s.ts[::5], np.linspace(10_000, 12_000, len(s.ts[::5])))
    pane = chart.pane("equity")
    assert pane is not None and pane in chart.panes and pane.plot.getAxis("bottom").style["showValues"]
    assert not chart.price.plot.getAxis("bottom").style["showValues"]
    np.testing.assert_allclose(pane.lines["Equity"].xData[:3], [0, 5, 10])
    chart.remove_pane("equity")
    assert chart.pane("equity") is None and chart.vol.plot.getAxis("bottom").style["showValues"]


def test_go_to_date_centres_the_bar_and_keeps_the_zoom(chart: ChartWidget) -> None:
    s = walk(10_000)
    chart.set_series(s)
    chart.set_x_range(0, 200)
    chart.go_to(int(s.ts[5000]))
    (x0, x1), _ = chart.price.vb.viewRange()
    assert abs((x0 + x1) / 2 - 5000) < 1 and abs((x1 - x0) - 200) < 1


def test_indicators_from_the_catalog_go_on_price_or_in_their_own_pane(qtbot: QtBot) -> None:
    tab = ChartTab()
    qtbot.addWidget(tab)

    tab.show_series(SeriesKey("demo", "KRW-BTC", Timeframe.M1), walk(3000))
    sma, rsi = Applied("sma", (("period", 20.0),)), Applied("rsi", (("period", 14.0),))
    tab.add_indicator(sma)
    tab.add_indicator(rsi)
    assert "SMA(20)" in tab.chart.price.lines
    pane = tab.chart.pane("RSI(14)")
    assert pane is not None and "RSI(14)" in pane.lines
    values = pane.lines["RSI(14)"].yData
    assert np.isnan(values[:14]).all() and np.nanmin(values) >= 0 and np.nanmax(values) <= 100
    tab.chart.crosshair.show_bar(2000)
    assert "SMA(20)" in tab.chart.readout.text() and "RSI(14)" in tab.chart.readout.text()
    tab.remove_indicator(rsi)
    assert tab.chart.pane("RSI(14)") is None and "SMA(20)" in tab.chart.price.lines


def test_viewing_minutes_as_hours_aggregates_them(qtbot: QtBot) -> None:
    tab = ChartTab()
    qtbot.addWidget(tab)

    s = walk(600)
    tab.show_series(SeriesKey("demo", "KRW-BTC", Timeframe.M1), s)
    tab.view_tf.setCurrentIndex(tab.view_tf.findData("1h"))
    hourly = s.resample(Timeframe.H1)
    np.testing.assert_array_equal(tab.chart.pyramid.ts, hourly.ts)
    assert tab.chart.pyramid.level(0)[1].max() == s.high.max()
    assert "1h" in tab.title.text()


def test_backtest_results_show_as_markers_and_an_equity_pane_and_clear_again(qtbot: QtBot) -> None:
    tab = ChartTab()
    qtbot.addWidget(tab)
    s = walk(2000)
    tab.show_series(SeriesKey("demo", "KRW-BTC", Timeframe.M1), s)
    tab.show_trades([Marker(int(s.ts[10]), float(s.low[10]), "short_entry")])
    tab.show_equity(s.ts, np.linspace(1, 2, len(s)))
    assert len(tab.chart.markers.points()) == 1 and tab.chart.pane("Equity") is not None
    tab.clear_results()
    assert len(tab.chart.markers.points()) == 0 and tab.chart.pane("Equity") is None


def test_moving_the_mouse_over_the_chart_reads_out_the_bar_under_the_crosshair(chart: ChartWidget) -> None:
    s = walk(500)
    chart.set_series(s)
    chart.set_x_range(100, 200)
    scene_pos = chart.price.vb.mapViewToScene(QtCore.QPointF(150, float(s.close[150])))
    chart.crosshair.on_mouse((scene_pos,))
    assert chart.price.vline.isVisible() and abs(chart.price.vline.value() - 150) < 0.6
    assert chart.price.hline.isVisible() and not chart.vol.hline.isVisible()
    assert f"{s.close[150]:,.2f}"[:5] in chart.readout.text().replace("<", " ")


def test_the_mouse_wheel_zooms_time_around_the_cursor_and_a_drag_pans_it(chart: ChartWidget, qtbot: QtBot) -> None:
    chart.set_series(walk(20_000))
    chart.set_x_range(10_000, 10_400)
    viewport = chart.view.viewport()
    centre = chart.view.mapFromScene(chart.price.vb.mapViewToScene(QtCore.QPointF(10_200, 1000)))
    wheel = QtGui.QWheelEvent(QtCore.QPointF(centre), QtCore.QPointF(chart.view.mapToGlobal(centre)),
                              QtCore.QPoint(0, 0), QtCore.QPoint(0, 240), QtCore.Qt.MouseButton.NoButton,
                              QtCore.Qt.KeyboardModifier.NoModifier, QtCore.Qt.ScrollPhase.NoScrollPhase, False)
    QtWidgets.QApplication.sendEvent(viewport, wheel)
    (x0, x1), _ = chart.price.vb.viewRange()
    assert x1 - x0 < 400 and x0 < 10_200 < x1  # zoomed in, the bar under the cursor stays in view
    before = x0
    start = centre
    end = QtCore.QPoint(centre.x() + 200, centre.y())
    qtbot.mousePress(viewport, QtCore.Qt.MouseButton.LeftButton, pos=start)
    for step in range(1, 11):
        qtbot.mouseMove(viewport, QtCore.QPoint(start.x() + 20 * step, start.y()))
    qtbot.mouseRelease(viewport, QtCore.Qt.MouseButton.LeftButton, pos=end)
    (x0, _), _ = chart.price.vb.viewRange()
    assert x0 < before  # dragging right shows earlier bars


def ema_in_readout(tab: ChartTab) -> float:
    text = re.sub("<[^>]+>", "", tab.chart.readout.text()).replace("&nbsp;", " ")
    match = re.search(r"EMA\(20\) ([\d,.]+)", text)
    assert match is not None, text
    return float(match.group(1).replace(",", ""))


def test_changing_the_view_timeframe_reads_out_the_new_views_ema_not_the_old_one(qtbot: QtBot) -> None:
    tab = ChartTab()
    qtbot.addWidget(tab)
    s = walk(3000)
    tab.show_series(SeriesKey("demo", "KRW-BTC", Timeframe.M1), s)
    tab.add_indicator(Applied("ema", (("period", 20.0),)))
    minute_ema = ema_in_readout(tab)
    tab.view_tf.setCurrentIndex(tab.view_tf.findData("15m"))
    line = tab.chart.price.lines["EMA(20)"].yData
    assert ema_in_readout(tab) == pytest.approx(float(line[-1]), rel=1e-4)
    assert ema_in_readout(tab) != pytest.approx(minute_ema, rel=1e-6)


def test_the_readout_follows_the_view_when_it_zooms_or_jumps(chart: ChartWidget) -> None:
    s = walk(5000)
    chart.set_series(s)
    chart.set_x_range(1000, 1100)  # away from the last bar: the readout moves with the view
    assert chart.readout.text().startswith(local(int(s.ts[1100])).strftime("%Y-%m-%d %H:%M"))
    scene_pos = chart.price.vb.mapViewToScene(QtCore.QPointF(1050, float(s.close[1050])))
    chart.crosshair.on_mouse((scene_pos,))
    chart.set_x_range(1000, 1200)  # zoomed out with the pointer still there: it now points at bar 1100
    assert chart.readout.text().startswith(local(int(s.ts[1100])).strftime("%Y-%m-%d %H:%M"))
    assert abs(chart.price.vline.value() - 1100) < 0.6


def test_framing_a_trade_moves_the_readout_off_the_last_bar_into_the_trade(chart: ChartWidget) -> None:
    s = walk(3000)
    chart.set_series(s)
    assert chart.readout.text().startswith(local(int(s.ts[-1])).strftime("%Y-%m-%d %H:%M"))
    chart.show_time_range(int(s.ts[1000]), int(s.ts[1040]))  # what clicking a trade in the results does
    shown = chart.last_visible_bar()
    assert 1040 <= shown < 1100 and chart.readout.text().startswith(local(int(s.ts[shown])).strftime("%Y-%m-%d %H:%M"))
