"""Render each workspace tab offscreen to PNG (docs/screenshots/) from a fresh database seeded by the Demo exchange.

Usage: python scripts/screenshots.py [OUT_DIR] [--no-live]
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync  # noqa: E402
from PyQt6 import QtCore, QtWidgets  # noqa: E402
from screenshots_live import shoot_live  # noqa: E402
from screenshots_strategies import shoot_strategy_tabs  # noqa: E402

from app.bootstrap.container import Container  # noqa: E402
from domain.market import SeriesKey, Timeframe  # noqa: E402
from presentation.app import make_app  # noqa: E402
from presentation.chart.indicators import Applied  # noqa: E402
from presentation.main_window import MainWindow  # noqa: E402
from presentation.services import Services  # noqa: E402

SIZE = (1440, 900)


async def save(window: MainWindow, app: QtWidgets.QApplication, path: Path) -> None:
    for _ in range(5):  # let the shared loop run Qt's pending layout and paint events
        await asyncio.sleep(0.02)
    # the status bar shows the loop lag of the last second: let it cover a second of the app at rest, not the
    # script's own burst of clicks and tab switches just before
    await asyncio.sleep(1.2)
    window.grab().save(str(path))
    print(f"wrote {path}")


async def collect_midway(window: MainWindow, app: QtWidgets.QApplication, path: Path) -> None:
    """The Data tab while a real Demo collection runs (captured part-way), then let it finish."""
    tab = window.data_tab
    window.show_tab("Data")
    tab.exchange.setCurrentIndex(tab.exchange.findData("demo"))
    tab.market.setCurrentText("KRW-XRP")
    start = tab.end.dateTime().addDays(-10)
    tab.start.setDateTime(start)
    halfway = asyncio.Event()
    tab.progressed.connect(lambda p: halfway.set() if p.fraction >= 0.4 else None)
    done = asyncio.Event()
    tab.finished.connect(lambda _: done.set())
    tab.start_collect()
    await halfway.wait()
    tab.pick(SeriesKey("demo", "KRW-XRP", Timeframe.M1))
    await save(window, app, path)
    await done.wait()


async def shoot(window: MainWindow, app: QtWidgets.QApplication, out: Path) -> None:
    finished = asyncio.Event()
    window.demoFinished.connect(lambda _: finished.set())
    window.start()
    await finished.wait()
    tab = window.chart_tab
    key = SeriesKey("demo", "KRW-BTC", Timeframe.M1)
    window.select_series(key)
    tab.view_tf.setCurrentIndex(tab.view_tf.findData("5m"))
    for applied in (Applied("ema", (("period", 20.0),)), Applied("ema", (("period", 50.0),)),
                    Applied("bbands", (("period", 20.0), ("std", 2.0))), Applied("rsi", (("period", 14.0),))):
        tab.add_indicator(applied)
    tab.chart.show_last(320)
    view = tab.chart.view
    centre = view.mapFromScene(tab.chart.price.vb.mapViewToScene(QtCore.QPointF(len(tab.chart.pyramid) - 60,
                                                                                float(tab.chart.last_line.value()))))
    tab.chart.crosshair.on_mouse((view.mapToScene(centre),))
    window.show_tab("Chart")
    await save(window, app, out / "chart.png")
    await collect_midway(window, app, out / "data.png")
    await shoot_strategy_tabs(window, lambda path: save(window, app, path), out)
    window.set_theme("light")
    window.show_tab("Chart")
    await save(window, app, out / "chart-light.png")
    window.set_theme("dark")
    if "--no-live" not in sys.argv:  # the Live tab waits for real-time fills on the Demo stream (minutes)
        await shoot_live(window, lambda path: save(window, app, path), out)
    await window.shutdown()


def main(argv: list[str]) -> int:
    args = [a for a in argv[1:] if not a.startswith("--")]
    out = Path(args[0] if args else Path(__file__).resolve().parent.parent / "docs" / "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        fmt, scope = QtCore.QSettings.Format.IniFormat, QtCore.QSettings.Scope.UserScope
        QtCore.QSettings.setPath(fmt, scope, tmp)  # never read or write the user's window settings
        app = make_app()
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        container = Container.open(Path(tmp) / "screens.db")
        window = MainWindow(Services(container))
        window.resize(*SIZE)
        window.show()
        with loop:
            loop.run_until_complete(shoot(window, app, out))
        window.close()
        container.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
