"""Preview extras for schema 2: higher-timeframe values drawn as steps, partial exits and adds from the engine."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtGui

from domain.backtest import BacktestSettings
from domain.backtest.engine import simulate
from domain.backtest.run import indicator_warmup
from domain.market import CandleSeries
from domain.strategy import Strategy
from presentation.chart.widget import ChartWidget


def steps(ts: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The points of a step line: where the value changes at bar i, the old value is repeated at bar i first, so
    the line runs flat, then jumps — a value that holds from one closed higher-timeframe bar to the next."""
    v = np.asarray(values, dtype=np.float64)
    if len(v) < 2:
        return np.asarray(ts), v
    changed = np.flatnonzero((v[1:] != v[:-1]) & ~(np.isnan(v[1:]) & np.isnan(v[:-1]))) + 1
    ts_out = np.insert(np.asarray(ts), changed, np.asarray(ts)[changed])
    v_out = np.insert(v, changed, v[changed - 1])
    return ts_out, v_out


def fills(strategy: Strategy, signals: Any, series: CandleSeries) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bars of partial exits, their prices, bars of adds) of a backtest of `signals` with default settings; empty
    unless the strategy closes in parts or scales in (only those need the engine)."""
    empty = np.empty(0, dtype=np.int64)
    if strategy.scale_in is None and len(strategy.risk.take_profit) < 2:
        return empty, np.empty(0), empty
    warmup = indicator_warmup(strategy, series)
    if warmup + 1 >= len(series):
        return empty, np.empty(0), empty
    sim = simulate(series, signals, strategy.direction, strategy.risk, BacktestSettings(), start=warmup + 1)
    trades = sim.trades
    # a close that leaves part of its position open: a later row closes the same position (same entry bar)
    later = np.zeros(len(trades), dtype=np.bool_)
    if len(trades) > 1:
        later[:-1] = trades.entry_bar[1:] == trades.entry_bar[:-1]
    if sim.open_position is not None and len(trades):
        later |= trades.entry_bar == sim.open_position.entry_bar
    adds = sim.adds if sim.adds is not None else empty
    return trades.exit_bar[later], trades.exit_price[later], adds


class FillMarks(QtCore.QObject):
    """Diamonds where a take-profit level closed part of a position, plus signs where scaling in added to it.

    The engine runs in a thread (its first use compiles the loop, which takes seconds): `shown(texts)` arrives
    on the UI thread once the marks are drawn; a result for an older request is dropped."""

    shown = QtCore.pyqtSignal(object)
    _done = QtCore.pyqtSignal(int, object)

    def __init__(self, chart: ChartWidget) -> None:
        super().__init__(chart)
        self.chart = chart
        self.partial = pg.ScatterPlotItem(pxMode=True, symbol="d", size=11)
        self.adds = pg.ScatterPlotItem(pxMode=True, symbol="+", size=13)
        for item in (self.partial, self.adds):
            item.setZValue(31)
            chart.price.plot.addItem(item)
        self.apply_theme()
        self.request_id = 0
        self._done.connect(self._draw)

    def apply_theme(self) -> None:
        theme = self.chart.theme
        for item, key in ((self.partial, theme.up), (self.adds, theme.foreground)):
            item.setBrush(pg.mkBrush(key))
            item.setPen(pg.mkPen(QtGui.QColor(key).darker(130), width=2))

    def request(self, strategy: Strategy, signals: Any, series: CandleSeries) -> bool:
        """Clear the marks and, when the strategy closes in parts or scales in, compute them off the UI thread;
        False when there is nothing to compute."""
        self.request_id += 1
        self.partial.setData(x=[], y=[])
        self.adds.setData(x=[], y=[])
        if strategy.scale_in is None and len(strategy.risk.take_profit) < 2:
            return False
        token = self.request_id
        threading.Thread(target=self._run, args=(token, strategy, signals, series), name="preview-fills",
                         daemon=True).start()
        return True

    def _run(self, token: int, strategy: Strategy, signals: Any, series: CandleSeries) -> None:
        try:
            result: object = (strategy, series, fills(strategy, signals, series))
        except ValueError as err:  # e.g. prices the engine refuses: the marks stay empty, the status says why
            result = err
        self._done.emit(token, result)

    def _draw(self, token: int, result: object) -> None:
        if token != self.request_id:
            return  # the draft changed while the engine ran
        if isinstance(result, ValueError):
            self.shown.emit([f"partial exits and adds not shown: {result}"])
            return
        strategy, series, (bars, prices, adds) = result  # type: ignore[misc]
        self.partial.setData(x=bars.astype(np.float64), y=prices)
        self.adds.setData(x=adds.astype(np.float64), y=series.open[adds] if len(adds) else np.empty(0))
        out = []
        if len(strategy.risk.take_profit) > 1:
            out.append(f"{len(bars):,} partial exits")
        if strategy.scale_in is not None:
            out.append(f"{len(adds):,} adds")
        self.shown.emit(out)
