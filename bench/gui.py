"""Workspace benchmark (offscreen): a year of 1m candles on the chart — first paint, pan/zoom frame times,
cold start of the app to its first painted chart, and memory with three such markets loaded.

Usage: python bench/gui.py            (prints the figures and the targets they are held to)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402

from domain.market import CandleSeries, SeriesKey, Timeframe  # noqa: E402

YEAR = 525_600
T0 = 1_672_531_200_000  # 2023-01-01T00:00Z
MARKETS = ("KRW-BTC", "KRW-ETH", "KRW-XRP")
ZOOMS = {"1 hour": 60, "1 day": 1_440, "1 week": 10_080, "1 month": 43_200, "3 months": 131_400, "1 year": YEAR}
SIZE = (1440, 900)


def year_of_minutes(seed: int) -> CandleSeries:
    rng = np.random.default_rng(seed)
    close = 30_000 * np.exp(np.cumsum(rng.normal(0, 0.0007, YEAR)))
    open_ = np.concatenate([[close[0]], close[:-1]])
    wick = close * rng.random(YEAR) * 0.0006
    ts = T0 + np.arange(YEAR, dtype=np.int64) * 60_000
    return CandleSeries.from_columns(Timeframe.M1, ts, open_, np.maximum(open_, close) + wick,
                                     np.minimum(open_, close) - wick, close, rng.gamma(2.0, 3.0, YEAR))


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


class PaintClock:
    """Adds up the time spent in the paint() of the plot items (candles, volume, lines, markers)."""

    def __init__(self) -> None:
        import pyqtgraph as pg

        from presentation.chart.items import CandlestickItem, VolumeItem

        self.total = 0.0
        for cls in (CandlestickItem, VolumeItem, pg.PlotCurveItem, pg.ScatterPlotItem, pg.InfiniteLine):
            cls.paint = self._timed(cls.paint)

    def _timed(self, paint: Callable[..., None]) -> Callable[..., None]:
        def wrapper(*args: object, **kwargs: object) -> None:
            t = time.perf_counter()
            paint(*args, **kwargs)
            self.total += time.perf_counter() - t

        return wrapper


def chart_figures() -> None:
    from PyQt6 import QtCore, QtGui

    from presentation.app import make_app
    from presentation.chart.widget import ChartWidget

    app = make_app()
    series = year_of_minutes(1)
    chart = ChartWidget()
    chart.resize(*SIZE)
    chart.show()
    app.processEvents()
    image = QtGui.QImage(chart.view.size(), QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    scene = chart.view.scene()

    def frame() -> None:
        """Render the whole scene (plot items, axes, grid, labels) into an image: no copy to a window."""
        painter = QtGui.QPainter(image)
        scene.render(painter, QtCore.QRectF(image.rect()), chart.view.mapToScene(chart.view.rect()).boundingRect())
        painter.end()

    t = time.perf_counter()
    chart.set_series(series, "bench")
    app.processEvents()
    frame()
    first = time.perf_counter() - t
    print(f"first paint of {YEAR:,} 1m candles (LOD build + fit + paint): {first * 1000:7.1f} ms   target ≤ 500 ms")
    sma = np.convolve(series.close, np.ones(50) / 50)[: YEAR]
    chart.set_line("price", "SMA(50)", series.ts, sma)
    clock = PaintClock()
    print("pan/zoom frame, 60 positions per zoom: 'frame' = range change (y fit, line clipping) + paint of the")
    print("plot items (candles, volume, SMA overlay, last-price line); 'scene' = the whole render incl. axes/grid")
    worst = 0.0
    for name, bars in ZOOMS.items():
        frames, scenes, levels = [], [], set()
        for start in np.linspace(0, max(0, YEAR - bars), 60):
            clock.total = 0.0
            t = time.perf_counter()
            chart.set_x_range(float(start), float(start + bars))
            t1 = time.perf_counter()
            frame()
            t2 = time.perf_counter()
            frames.append((t1 - t + clock.total) * 1000)
            scenes.append((t2 - t) * 1000)
            levels.add(chart.candles.last_level)
        worst = max(worst, pct(frames, 95))
        print(f"  {name:>9}: frame p50 {pct(frames, 50):5.2f} p95 {pct(frames, 95):5.2f} ms | scene p50 "
              f"{pct(scenes, 50):5.2f} p95 {pct(scenes, 95):5.2f} ms | LOD {sorted(levels)}, "
              f"{chart.candles.last_drawn:,} candles")
    print(f"worst frame p95 {worst:.2f} ms   target ≤ 16 ms at every zoom")
    chart.close()


CHILD = r"""
import os, sys, time
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PyQt6 import QtCore
QtCore.QSettings.setPath(QtCore.QSettings.Format.IniFormat, QtCore.QSettings.Scope.UserScope, sys.argv[2])
import pyqtgraph as pg
painted = []
_paint = pg.GraphicsView.paintEvent
def paint_event(view, event):  # the time the chart's pixels are done, as the first paint finishes
    _paint(view, event)
    if len(getattr(view.scene(), "items", lambda: [])()) > 10 and not painted:
        painted.append(time.time())
pg.GraphicsView.paintEvent = paint_event
from app.bootstrap.container import Container
from app.bootstrap.kernels import use_compiled_kernels
use_compiled_kernels()  # as the `quantdesk` entry point does: kernels compiled ahead of time when they are built
from domain.market import SeriesKey, Timeframe
from presentation.app import make_app
from presentation.main_window import MainWindow
from presentation.services import Services
import asyncio, qasync
app = make_app()
loop = qasync.QEventLoop(app)  # as presentation.app.run_desktop: the window starts once the loop runs
asyncio.set_event_loop(loop)
container = Container.open(sys.argv[1], map_file=False)  # as app.bootstrap.desktop opens it
window = MainWindow(Services(container), first_run_demo=False, defer_workspaces=True)  # as the app does
window.resize(1440, 900)
window.select_series(SeriesKey("demo", "KRW-BTC", Timeframe.M1))  # as the restored last selection does
window.show()
loop.call_soon(window.start)
async def until_painted():
    while not painted:
        await asyncio.sleep(0.002)
loop.run_until_complete(until_painted())
print("painted", painted[0], flush=True)
import psutil
from presentation.chart.widget import ChartWidget
charts = []
for sym in ("KRW-ETH", "KRW-XRP"):
    c = ChartWidget()
    c.set_series(container.candles.read(SeriesKey("demo", sym, Timeframe.M1)), sym)
    charts.append(c)
window.ensure_workspaces()
async def until_engines_loaded():  # the loader thread keeps the cyclic collector off until it is done
    import gc
    while not gc.isenabled():
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
loop.run_until_complete(until_engines_loaded())
print("rss", psutil.Process().memory_info().rss, flush=True)
print("numba", "loaded" if "numba" in sys.modules else "not loaded", flush=True)
loop.run_until_complete(window.shutdown())  # the Demo exchange it started
"""


def kernels_state() -> str:
    """Whether the app runs kernels compiled ahead of time (`quantdesk kernels build`) or numba's JIT."""
    from app.bootstrap.kernels import built

    folder = built()
    return f"compiled kernels in {folder}" if folder else "no compiled kernels for this code, numba JIT"


def switch_figures(container: object) -> None:
    """Clicking another market (a year of 1m) in the list: how long the UI thread is held, against drawing it
    synchronously (read + pyramid on the UI thread, as start-up restore does)."""
    import asyncio

    import qasync
    from PyQt6 import QtCore, QtWidgets

    from presentation.main_window import MainWindow
    from presentation.services import Services

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    loop = qasync.QEventLoop(app, already_running=False)
    asyncio.set_event_loop(loop)
    window = MainWindow(Services(container), first_run_demo=False)  # type: ignore[arg-type]
    window.resize(*SIZE)
    window.show()
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append((now - last[0]) * 1000)
        last[0] = now

    probe = QtCore.QTimer()
    probe.setInterval(1)
    probe.timeout.connect(tick)

    async def click(symbol: str) -> tuple[float, float, float]:
        await asyncio.sleep(0.2)
        gaps.clear()
        last[0] = time.perf_counter()
        t = time.perf_counter()
        window.tree.setCurrentIndex(window.markets.index_of(SeriesKey("demo", symbol, Timeframe.M1)))
        held = time.perf_counter() - t
        if window.loading is not None:
            await window.loading
        drawn = time.perf_counter() - t
        await asyncio.sleep(0.05)
        return held * 1000, drawn * 1000, max(gaps, default=0.0)

    probe.start()
    results = [loop.run_until_complete(click(sym)) for sym in ("KRW-ETH", "KRW-XRP", "KRW-BTC", "KRW-ETH")]
    t = time.perf_counter()
    window.show_series(SeriesKey("demo", "KRW-XRP", Timeframe.M1))
    sync = (time.perf_counter() - t) * 1000
    probe.stop()
    held = max(r[0] for r in results)
    print(f"switching market (a year of 1m) by clicking the list: click handler {held:.1f} ms, drawn after "
          f"{np.median([r[1] for r in results]):.0f} ms, longest UI-thread stall "
          f"{np.median([r[2] for r in results]):.0f} ms (median of 4; synchronous read+draw holds it "
          f"{sync:.0f} ms)")
    window.close()
    loop.run_until_complete(asyncio.sleep(0))
    asyncio.set_event_loop(None)


def app_figures() -> None:
    from app.bootstrap.container import Container

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        container = Container.open(db)
        t = time.perf_counter()
        for i, sym in enumerate(MARKETS):
            container.candles.upsert(SeriesKey("demo", sym, Timeframe.M1), year_of_minutes(i + 1))
        print(f"(setup: stored 3 × {YEAR:,} bars in {time.perf_counter() - t:.1f} s)")
        t = time.perf_counter()
        container.candles.read(SeriesKey("demo", "KRW-BTC", Timeframe.M1))
        print(f"store read of one year into columns: {(time.perf_counter() - t) * 1000:.0f} ms")
        switch_figures(container)
        container.close()
        start = time.time()
        proc = subprocess.run([sys.executable, "-c", CHILD, str(db), tmp], capture_output=True, text=True,
                              check=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
        lines = dict(line.split(" ", 1) for line in proc.stdout.splitlines() if " " in line)
        cold = float(lines["painted"]) - start
        rss = int(lines["rss"]) / 2**20
        print(f"cold start (new process → window with a year of 1m painted): {cold:.2f} s   target ≤ 2 s")
        print(f"RSS with 3 markets × 1 year of 1m loaded in charts: {rss:.0f} MB   target ≤ 350 MB "
              f"(numba {lines['numba']}: {kernels_state()})")


if __name__ == "__main__":
    chart_figures()
    app_figures()
    from gui_strategies import main as strategy_figures  # Strategies list over 100,000 rows, Builder preview

    strategy_figures()
