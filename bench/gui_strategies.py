"""Strategy-work benchmark (offscreen): the Strategies list over 100,000 stored strategies — opening the tab,
scroll frames, a substring filter, memory while scrolling every row — and the Builder's preview after an edit.

Usage: python bench/gui_strategies.py      (also run by bench/gui.py; prints figures and their targets)
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402

ROWS = 100_000
WORDS = ("EMA", "SMA", "RSI", "MACD", "Bollinger", "Donchian", "ATR", "Stochastic", "VWAP", "ADX")
STYLES = ("cross", "breakout", "reversion", "trend", "scalper", "swing", "momentum", "filter")


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def fill(container: Any) -> None:
    """100,000 strategies written in one transaction (the sample's rule under many names and tags)."""
    from app.strategies.ports import NewStrategy

    base = container.strategies.strategy(container.strategies.get_by_name("SMA 10/20 cross").id)
    items = [NewStrategy(replace(base, name=f"{WORDS[i % 10]} {STYLES[i // 10 % 8]} {i:06d}"), "",
                         (STYLES[i // 10 % 8],) + (("favourite",) if i % 97 == 0 else ()))
             for i in range(ROWS)]
    container.strategies.repo.add_many(items, 1_700_000_000_000)


def frame(view: Any) -> None:
    """Paint the table's visible rows now (what one screen refresh costs)."""
    view.viewport().repaint()


def reference_frames(app: Any, rows: int) -> tuple[float, float]:
    """p50/p95 of page-by-page frames of the same view over an in-memory list (no store, no paging):
    the floor this machine, at this moment, sets for painting one screen of rows."""
    from PyQt6 import QtCore, QtWidgets

    cells = [(f"Strategy {i:06d}", "Long & short", "trend", "2026-01-01 00:00", "+1.00 %", "12") for i in range(rows)]

    class Plain(QtCore.QAbstractTableModel):
        def rowCount(self, parent: Any = QtCore.QModelIndex()) -> int:
            return 0 if parent.isValid() else rows

        def columnCount(self, parent: Any = QtCore.QModelIndex()) -> int:
            return 0 if parent.isValid() else 6

        def data(self, index: Any, role: int = 0) -> object:
            return cells[index.row()][index.column()] if role == 0 else None

    view = QtWidgets.QTableView()
    view.setModel(Plain())
    view.verticalHeader().setVisible(False)
    view.resize(1076, 680)
    view.show()
    app.processEvents()
    bar, frames = view.verticalScrollBar(), []
    for value in range(0, bar.maximum() + bar.pageStep(), bar.pageStep()):
        t = time.perf_counter()
        bar.setValue(min(value, bar.maximum()))
        frame(view)
        frames.append((time.perf_counter() - t) * 1000)
    view.close()
    return pct(frames, 50), pct(frames, 95)


def list_figures(container: Any) -> None:
    import psutil
    from PyQt6 import QtWidgets

    from presentation.strategies.tab import StrategiesTab

    app = QtWidgets.QApplication.instance()
    assert app is not None
    t = time.perf_counter()
    tab = StrategiesTab(container.strategies)
    tab.resize(1100, 800)
    tab.show()
    app.processEvents()
    frame(tab.view)
    opened = (time.perf_counter() - t) * 1000
    total = tab.model.rowCount()
    print(f"Strategies tab with {total:,} strategies: open to first painted rows {opened:6.1f} ms   target ≤ 100 ms")
    bar = tab.view.verticalScrollBar()
    t = time.perf_counter()
    bar.setValue(bar.maximum())
    frame(tab.view)
    jump = (time.perf_counter() - t) * 1000
    print(f"  jump to the end (End key / drag the scrollbar down): {jump:6.1f} ms")
    bar.setValue(0)
    frame(tab.view)
    rss0 = psutil.Process().memory_info().rss
    frames = []
    step = max(1, bar.pageStep())
    for value in range(0, bar.maximum() + step, step):  # page by page through every row, top to bottom
        t = time.perf_counter()
        bar.setValue(min(value, bar.maximum()))
        frame(tab.view)
        frames.append((time.perf_counter() - t) * 1000)
    grown = (psutil.Process().memory_info().rss - rss0) / 2**20
    drags = []
    for value in np.linspace(0, bar.maximum(), 400):  # dragging the thumb: each frame lands on unread rows
        t = time.perf_counter()
        bar.setValue(int(value))
        frame(tab.view)
        drags.append((time.perf_counter() - t) * 1000)
    print(f"  scroll frames, page by page through all {total:,} rows ({len(frames):,} frames): p50 "
          f"{pct(frames, 50):5.2f} p95 {pct(frames, 95):5.2f} max {max(frames):5.2f} ms   target p95 ≤ 16 ms")
    print(f"  scroll frames, dragging the thumb top to end (400 frames): p50 {pct(drags, 50):5.2f} "
          f"p95 {pct(drags, 95):5.2f} max {max(drags):5.2f} ms   target p95 ≤ 16 ms")
    ref50, ref95 = reference_frames(app, total)
    print(f"  reference, the same view over an in-memory list: p50 {ref50:5.2f} p95 {ref95:5.2f} ms "
          f"(page-by-page p95 ratio {pct(frames, 95) / ref95:.2f}, thumb-drag p95 ratio {pct(drags, 95) / ref95:.2f})")
    print(f"  RSS growth while scrolling every row: {grown:+.1f} MB (rows cached: {tab.model.cached_rows:,})   "
          f"target ≤ 30 MB")
    for text in ("reversion 0123", "Donchian", "zzz-none"):
        t = time.perf_counter()
        tab.search.setText(text)
        tab.apply_filter()  # what the debounce timer calls
        frame(tab.view)
        ms = (time.perf_counter() - t) * 1000
        print(f"  filter {text!r:>18}: {tab.model.rowCount():>7,} rows in {ms:6.1f} ms   target ≤ 100 ms")
    tab.close()


def builder_figures(container: Any) -> None:
    from PyQt6 import QtWidgets

    from domain.market import CandleSeries, SeriesKey, Timeframe
    from presentation.builder.preview import PREVIEW_BARS
    from presentation.builder.tab import BuilderTab
    from presentation.services import Services

    app = QtWidgets.QApplication.instance()
    assert app is not None
    key = SeriesKey("demo", "KRW-BTC", Timeframe.M1)
    n = 525_600
    rng = np.random.default_rng(3)
    close = 30_000 * np.exp(np.cumsum(rng.normal(0, 0.0007, n)))
    open_ = np.concatenate([[close[0]], close[:-1]])
    ts = 1_672_531_200_000 + np.arange(n, dtype=np.int64) * 60_000
    container.candles.upsert(key, CandleSeries.from_columns(Timeframe.M1, ts, open_, np.maximum(open_, close) * 1.0002,
                                                            np.minimum(open_, close) * 0.9998, close,
                                                            rng.gamma(2.0, 3.0, n)))
    tab = BuilderTab(container.strategies, Services(container))
    tab.resize(1300, 850)
    tab.show()
    app.processEvents()
    record = container.strategies.get_by_name("MACD trend with ATR trail")
    tab.open_strategy(record.id)
    tab.update_preview()
    app.processEvents()
    times = []
    box = tab.fields["entry_long.all[0].left.params.fast"]
    for fast in [8, 9, 10, 11, 12, 13, 14, 15] * 3:
        box.setValue(fast)  # an edit: validation runs now, the preview after the debounce
        t = time.perf_counter()
        tab.update_preview()  # = the debounce timer firing
        tab.preview.chart.view.viewport().repaint()
        times.append((time.perf_counter() - t) * 1000)
    print(f"Builder preview on a year of 1m candles (latest {PREVIEW_BARS:,} bars; MACD + EMA + ATR rule, "
          f"{len(times)} edits):")
    print(f"  edit → indicators, signals and chart redrawn after the {tab.debounce.interval()} ms debounce: "
          f"p50 {pct(times, 50):5.1f} p95 {pct(times, 95):5.1f} max {max(times):5.1f} ms   target ≤ 150 ms")
    tab.close()


def main() -> None:
    from PyQt6 import QtCore

    from app.bootstrap.container import Container
    from presentation.app import make_app

    with tempfile.TemporaryDirectory() as tmp:
        QtCore.QSettings.setPath(QtCore.QSettings.Format.IniFormat, QtCore.QSettings.Scope.UserScope, tmp)
        app = make_app()  # kept referenced: the functions below find it through QApplication.instance()
        container = Container.open(Path(tmp) / "bench.db")
        t = time.perf_counter()
        fill(container)
        print(f"(setup: stored {ROWS:,} strategies in {time.perf_counter() - t:.1f} s)")
        list_figures(container)
        builder_figures(container)
        container.close()
        app.processEvents()


if __name__ == "__main__":
    main()
