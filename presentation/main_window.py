"""The QuantDesk main window: market list, workspace tabs, log dock and status bar; layout persists."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PyQt6 import QtCore, QtGui, QtWidgets

from domain.market import CandleSeries, SeriesKey
from presentation.chart.lod import OhlcPyramid
from presentation.chart.tab import ChartTab
from presentation.crash import default_log_path
from presentation.data.tab import DataTab
from presentation.services import EXCHANGE_LABELS, Services
from presentation.theme import chart_theme
from presentation.widgets.empty import EmptyState
from presentation.widgets.log_dock import LogView
from presentation.widgets.status import StatusBar
from presentation.window.engines import EngineTabs
from presentation.window.markets import MarketDock
from presentation.window.menus import build_menus
from presentation.window.optimize import OptimizeWindow
from presentation.window.series import SeriesLoader
from presentation.window.startup import Startup
from presentation.window.state import WindowState

if TYPE_CHECKING:
    from presentation.live.tab import LiveTab
    from presentation.optimize.view import OptimizeView
    from presentation.strategies.workspace import StrategyWorkspace

_OPEN: set[MainWindow] = set()
TABS = ("Chart", "Strategies", "Builder", "Backtests", "Data", "Live")


class MainWindow(QtWidgets.QMainWindow):
    """`services` is what the composition root offers; `first_run_demo` seeds an empty database.

    The strategy, builder, backtest and live tabs load the engines (numba, the backtester): with
    `defer_workspaces` they are built just after the first paint, so the chart shows sooner. `log_path` is
    the app's log file (the crash handler writes there too).
    """

    seriesShown = QtCore.pyqtSignal(object)  # SeriesKey
    demoFinished = QtCore.pyqtSignal(str)

    def __init__(self, services: Services, first_run_demo: bool = True, defer_workspaces: bool = False,
                 log_path: Path | None = None) -> None:
        super().__init__()
        _OPEN.add(self)  # an open window must never be garbage-collected (e.g. mid-paint) while shown
        self.services = services
        self.log_path = log_path or default_log_path()  # where the app log (and crash reports) go
        self.state = WindowState(self)
        self.engines = EngineTabs(self)
        self.startup = Startup(self, first_run_demo)
        self.optimize = OptimizeWindow(self)
        self.setWindowTitle("QuantDesk")
        self.setObjectName("QuantDeskMain")
        self.resize(1440, 900)
        self._build_tabs()
        self.market_dock = MarketDock(self)
        self.addDockWidget(QtCore.Qt.DockWidgetArea.LeftDockWidgetArea, self.market_dock)
        self.markets, self.tree = self.market_dock.markets, self.market_dock.tree
        self.market_dock.picked.connect(self._on_picked)
        self.log_view = LogView()
        self.log_dock = QtWidgets.QDockWidget("Log and events", self)
        self.log_dock.setObjectName("logDock")
        self.log_dock.setWidget(self.log_view)
        self.addDockWidget(QtCore.Qt.DockWidgetArea.BottomDockWidgetArea, self.log_dock)
        self.status = StatusBar(str(services.db_path), self)
        self.setStatusBar(self.status)
        self.chart_loader = SeriesLoader(services, self._shown, self.status.showMessage)
        build_menus(self, TABS)
        self.data_tab.changed.connect(self.on_data_changed)
        self.data_tab.collected.connect(self._on_collected)
        self.data_tab.exchangeState.connect(self._on_exchange_state)
        self.engines.liveBuilt.connect(self._on_live_built)
        if defer_workspaces:
            self.engines.defer()
        else:
            self.ensure_workspaces()
        self.log_view.attach(logging.getLogger("quantdesk"))
        self.refresh_markets()
        self.data_tab.refresh()
        self.state.restore()

    # ---- building ---------------------------------------------------------------------------------------
    def _build_tabs(self) -> None:
        """The Chart and Data tabs now; the engine-backed ones as stand-ins until they are built."""
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.setDocumentMode(True)
        self.chart_tab = ChartTab()
        self.data_tab = DataTab(self.services)
        self.pages: dict[str, QtWidgets.QWidget] = {"Chart": self.chart_tab, "Data": self.data_tab}
        for name in TABS:
            page = self.pages.get(name) or EmptyState(name)
            self.pages[name] = page
            self.tabs.addTab(page, name)
        self.setCentralWidget(self.tabs)

    def show_optimize(self) -> None:
        """The parameter sweep and walk-forward view, in its own window (built on first use)."""
        self.optimize.show()

    @property
    def optimize_view(self) -> OptimizeView | None:
        return self.optimize.view

    # ---- the engine-backed tabs (presentation/window/engines.py) ------------------------------------------
    def ensure_workspaces(self) -> None:
        """Build the Strategies, Builder, Backtests and Live tabs now, unless they are built already."""
        self.engines.ensure()

    @property
    def live_tab(self) -> LiveTab:
        self.engines.ensure()
        assert self.engines.live_tab is not None
        return self.engines.live_tab

    @property
    def strategy_work(self) -> StrategyWorkspace:
        self.engines.ensure()
        assert self.engines.strategy_work is not None
        return self.engines.strategy_work

    # ---- behaviour --------------------------------------------------------------------------------------
    def show_tab(self, name: str) -> None:
        self.tabs.setCurrentWidget(self.pages[name])

    def set_page(self, name: str, page: QtWidgets.QWidget) -> None:
        """Put `page` in the tab called `name` (replacing its placeholder), or add it as a new tab."""
        old = self.pages.get(name)
        self.pages[name] = page
        if old is None:
            self.tabs.addTab(page, name)
            return
        i = self.tabs.indexOf(old)
        current = self.tabs.currentIndex() == i
        self.tabs.removeTab(i)
        self.tabs.insertTab(i, page, name)
        if current:
            self.tabs.setCurrentIndex(i)
        old.deleteLater()

    def focus_import(self) -> None:
        self.show_tab("Data")
        self.data_tab.import_box.path.setFocus()

    def refresh_markets(self) -> None:
        self.market_dock.reset(self.services.stored())

    def current_key(self) -> SeriesKey | None:
        return self.market_dock.current_key()

    def select_series(self, key: SeriesKey, load: bool = True) -> bool:
        """Make `key` current in the market list and (with `load`) draw it now; False when it is not stored."""
        if not self.market_dock.select(key):
            return False
        if load:
            self.show_series(key)
        return True

    def show_series(self, key: SeriesKey, keep_view: bool = False) -> None:
        """Read `key` and draw it now (start-up restore, scripts). Clicks go through `load_series`."""
        self.chart_loader.show_now(key, keep_view)

    def load_series(self, key: SeriesKey, keep_view: bool = False) -> asyncio.Task[None] | None:
        """Read and prepare `key` off the UI thread, then draw it (presentation/window/series.py)."""
        return self.chart_loader.load(key, keep_view)

    @property
    def loading(self) -> asyncio.Task[None] | None:
        """The chart's pending series load, if one is running."""
        return self.chart_loader.loading

    def _shown(self, key: SeriesKey, series: CandleSeries, pyramid: OhlcPyramid | None, keep_view: bool) -> None:
        self.chart_tab.show_series(key, series, keep_view, pyramid)
        self.status.showMessage(f"{key}: {len(series):,} bars", 4000)
        self.seriesShown.emit(key)

    def _on_picked(self, key: SeriesKey) -> None:
        if key != self.chart_tab.key:  # a refreshed tree re-selects: no reload
            self.load_series(key)

    def on_data_changed(self) -> None:
        self.refresh_markets()
        if self.chart_tab.key is None:
            self.market_dock.pick_first()

    def _on_live_built(self, tab: LiveTab) -> None:
        """A paper session stores the history it starts from: the Markets tree counts those bars too."""
        tab.sessionStarted.connect(lambda _session: self.on_data_changed())

    def _on_exchange_state(self, exchange: str, ok: bool) -> None:
        if exchange == "demo" and ok:
            return  # the Demo field already shows where the simulator listens
        label = EXCHANGE_LABELS.get(exchange, exchange)
        self.status.set_exchange_state(f"{label}: {'reachable' if ok else 'unreachable'}", ok)

    def _on_collected(self, key: SeriesKey) -> None:
        if key == self.chart_tab.key:  # the chart shows this series: bring in the new bars, keep the view
            self.load_series(key, keep_view=True)

    @property
    def theme(self) -> str:
        return self.state.theme

    def toggle_theme(self) -> None:
        self.set_theme("light" if self.theme == "dark" else "dark")

    def set_theme(self, name: str) -> None:
        theme = chart_theme(self.state.apply_theme(name))
        self.chart_tab.apply_theme(theme)
        if self.engines.live_tab is not None:
            self.engines.live_tab.apply_theme(theme)

    # ---- start and stop ---------------------------------------------------------------------------------
    def start(self) -> asyncio.Task[None]:
        """Called once the loop runs: start the Demo exchange and, on an empty database, seed it."""
        return self.startup.start()

    def _cancel_tasks(self) -> list[asyncio.Task[Any]]:
        """Cancel the window's own tasks; the ones still to finish (their cancellation needs the loop to run)."""
        tasks = [t for t in (self.startup.task, self.data_tab.task, self.data_tab.import_box.task,
                             self.chart_loader.loading) if t is not None and not t.done()]
        for task in tasks:
            task.cancel()
        return tasks

    async def shutdown(self) -> None:
        """Stop background work and the Demo exchange (called by the app once the window closed)."""
        if self.engines.strategy_work is not None:  # built (not deferred and still pending)
            await self.live_tab.shutdown()  # paper sessions flattened (or kept) before the Demo exchange stops
            self.strategy_work.shutdown()
        # let the cancellations finish (a bounded wait), or the loop closes on tasks still pending
        pending = self._cancel_tasks()
        if pending:
            await asyncio.wait(pending, timeout=2.0)
        await self.services.aclose()

    def save_settings(self) -> None:
        self.state.save()

    def _may_close(self) -> bool:
        """Work in flight may veto quitting: unsaved Builder changes, open paper positions, a running sweep."""
        if self.engines.strategy_work is not None and not (
                self.strategy_work.confirm_close() and self.live_tab.confirm_close()):
            return False  # the user chose Cancel (or to keep editing)
        return self.optimize.confirm_quit()

    def closeEvent(self, event: QtGui.QCloseEvent | None) -> None:
        if not self._may_close():
            if event is not None:
                event.ignore()
            return
        self.optimize.close()  # quitting closes every window
        self.state.save()
        self._cancel_tasks()
        self.log_view.detach(logging.getLogger("quantdesk"))
        _OPEN.discard(self)
        super().closeEvent(event)
